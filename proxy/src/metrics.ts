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

/** Status classes of `/sql` answers, as counted in `/metrics`. */
export const SQL_STATUS_CLASSES = ['2xx', '4xx', '5xx'] as const

export type SqlStatusClass = (typeof SQL_STATUS_CLASSES)[number]

/** The `/sql` pool's counts, read when `/metrics` is rendered. */
export interface SqlPoolGauges {
  size: number
  inUse: number
  waiting: number
}

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
  /** `/sql` answers by status class; every class is present (at 0) from the start. */
  readonly sqlRequests = new Map<SqlStatusClass, number>(SQL_STATUS_CLASSES.map((c) => [c, 0]))
  /** PostgreSQL connections the `/sql` pool opened (logins tried) since start. */
  sqlBackendsOpened = 0
  /** Reads the `/sql` pool's counts; unset (all 0) when the relay serves no `/sql`. */
  sqlPool: (() => SqlPoolGauges) | undefined

  /** Counts one `/sql` answer by the class of its status (1xx and 3xx, which it never sends, as 2xx). */
  sqlAnswered(status: number): void {
    const statusClass: SqlStatusClass = status >= 500 ? '5xx' : status >= 400 ? '4xx' : '2xx'
    this.sqlRequests.set(statusClass, (this.sqlRequests.get(statusClass) ?? 0) + 1)
  }

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
    const pool = this.sqlPool?.() ?? { size: 0, inUse: 0, waiting: 0 }
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
      '# HELP edgepg_relay_sql_requests_total HTTP query (/sql) answers, by status class.',
      '# TYPE edgepg_relay_sql_requests_total counter',
      ...[...this.sqlRequests].map(([c, n]) => `edgepg_relay_sql_requests_total{status="${c}"} ${n}`),
      '# HELP edgepg_relay_sql_backends_opened_total PostgreSQL connections opened by the /sql pool.',
      '# TYPE edgepg_relay_sql_backends_opened_total counter',
      `edgepg_relay_sql_backends_opened_total ${this.sqlBackendsOpened}`,
      '# HELP edgepg_relay_sql_pool_size Connections of the /sql pool (open, opening or closing).',
      '# TYPE edgepg_relay_sql_pool_size gauge',
      `edgepg_relay_sql_pool_size ${pool.size}`,
      '# HELP edgepg_relay_sql_pool_in_use Connections of the /sql pool leased to a request now.',
      '# TYPE edgepg_relay_sql_pool_in_use gauge',
      `edgepg_relay_sql_pool_in_use ${pool.inUse}`,
      '# HELP edgepg_relay_sql_pool_waiting Requests waiting for a connection of the /sql pool.',
      '# TYPE edgepg_relay_sql_pool_waiting gauge',
      `edgepg_relay_sql_pool_waiting ${pool.waiting}`,
    ]
    return `${lines.join('\n')}\n`
  }
}
