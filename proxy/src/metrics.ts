/**
 * Relay metrics in Prometheus text format: open sessions, bytes each way, denials by category, dial latency.
 *
 * Labels come from closed sets only (denial categories, close codes the relay sends): nothing a client sends
 * becomes a label, so the exposition stays a constant size and tells nobody more than a refusal does.
 */

/**
 * Why an upgrade or a session was refused, as counted in `/metrics`: a fixed set, with no values in it. The
 * detailed reason (which address, which token check) is written to the logs only.
 */
export const DENIAL_CATEGORIES = [
  'bad-request',
  'not-found',
  'draining',
  'limit',
  'token',
  'origin',
  'policy',
  'protocol',
  'startup-timeout',
  'lifetime',
] as const

export type DenialCategory = (typeof DENIAL_CATEGORIES)[number]

const DIAL_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] as const

export class RelayMetrics {
  openSessions = 0
  sessionsTotal = 0
  bytesToUpstream = 0
  bytesToClient = 0
  /** Denials by category; every category is present (at 0) from the start. */
  readonly denials = new Map<DenialCategory, number>(DENIAL_CATEGORIES.map((category) => [category, 0]))
  readonly closes = new Map<number, number>()
  readonly #dialCounts: number[] = DIAL_BUCKETS.map(() => 0)
  #dialCount = 0
  #dialSum = 0
  dialFailures = 0

  /** Counts one denial under its category (never a detailed reason: see {@link DenialCategory}). */
  deny(category: DenialCategory): void {
    this.denials.set(category, (this.denials.get(category) ?? 0) + 1)
  }

  closed(code: number): void {
    this.closes.set(code, (this.closes.get(code) ?? 0) + 1)
  }

  dialed(seconds: number): void {
    this.#dialCount++
    this.#dialSum += seconds
    DIAL_BUCKETS.forEach((bound, i) => {
      if (seconds <= bound) this.#dialCounts[i]!++
    })
  }

  /** The Prometheus exposition text. */
  render(): string {
    const lines = [
      '# HELP edgepg_relay_open_sessions Relayed WebSocket sessions open now.',
      '# TYPE edgepg_relay_open_sessions gauge',
      `edgepg_relay_open_sessions ${this.openSessions}`,
      '# HELP edgepg_relay_sessions_total Relayed sessions accepted since start.',
      '# TYPE edgepg_relay_sessions_total counter',
      `edgepg_relay_sessions_total ${this.sessionsTotal}`,
      '# HELP edgepg_relay_bytes_total Bytes relayed, by direction.',
      '# TYPE edgepg_relay_bytes_total counter',
      `edgepg_relay_bytes_total{direction="to_upstream"} ${this.bytesToUpstream}`,
      `edgepg_relay_bytes_total{direction="to_client"} ${this.bytesToClient}`,
      '# HELP edgepg_relay_denials_total Upgrades or sessions refused, by category.',
      '# TYPE edgepg_relay_denials_total counter',
      ...[...this.denials].map(([category, n]) => `edgepg_relay_denials_total{reason="${category}"} ${n}`),
      '# HELP edgepg_relay_closes_total Sessions closed, by WebSocket close code.',
      '# TYPE edgepg_relay_closes_total counter',
      ...[...this.closes].map(([code, n]) => `edgepg_relay_closes_total{code="${code}"} ${n}`),
      '# HELP edgepg_relay_dial_failures_total Upstream dials that failed or timed out.',
      '# TYPE edgepg_relay_dial_failures_total counter',
      `edgepg_relay_dial_failures_total ${this.dialFailures}`,
      '# HELP edgepg_relay_dial_seconds Time to open the TCP connection to PostgreSQL.',
      '# TYPE edgepg_relay_dial_seconds histogram',
      ...DIAL_BUCKETS.map((b, i) => `edgepg_relay_dial_seconds_bucket{le="${b}"} ${this.#dialCounts[i]}`),
      `edgepg_relay_dial_seconds_bucket{le="+Inf"} ${this.#dialCount}`,
      `edgepg_relay_dial_seconds_sum ${this.#dialSum}`,
      `edgepg_relay_dial_seconds_count ${this.#dialCount}`,
    ]
    return `${lines.join('\n')}\n`
  }
}
