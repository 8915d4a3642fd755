/**
 * The upgrade gate: decides, before any WebSocket exists and before anything is dialed, whether a request may
 * open a relay session. Runtime-neutral (the Node and Worker entries both use it). Checks run cheapest first:
 * path, draining, connection limits, token, origin, target policy, per-token limit.
 *
 * Every refusal of one class looks the same from outside (status and body); the reason is for logs only, so
 * the relay is no oracle for port scanning or token probing.
 */
import { RELAY_PATH, RelayParam, TOKEN_SUBPROTOCOL_PREFIX } from '@edgepg/shared'
import type { RelayConfig } from './config.ts'
import type { RelayMetrics } from './metrics.ts'
import type { OriginCheck, Policy, TokenVerifier } from './policy/index.ts'

export interface GateRequest {
  url: URL
  origin: string | undefined
  /** Offered WebSocket subprotocols. */
  protocols: string[]
  ip: string
}

/** The subprotocols offered in a `Sec-WebSocket-Protocol` header (comma-separated, blanks dropped). */
export function offeredProtocols(header: string | null | undefined): string[] {
  return (header ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
}

export type GateDecision =
  | {
      ok: true
      target: string
      dial: { host: string; port: number }
      /** Token expiry in ms since epoch, when a token admitted the session. */
      expiresAt: number | undefined
      /** The subprotocol to echo back (the token one), if the client offered it. */
      protocol: string | undefined
      /** Frees the connection slots; call once when the session ends or the upgrade fails. */
      release(): void
    }
  | { ok: false; status: 401 | 403 | 404 | 426 | 503; body: string; reason: string }

export interface GateDeps {
  config: RelayConfig
  policy: Policy
  verifier: TokenVerifier | undefined
  origin: OriginCheck
  metrics: RelayMetrics
}

const BODY = {
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not found',
  426: 'upgrade required',
  503: 'unavailable',
}

export class Gate {
  readonly #deps: GateDeps
  #open = 0
  readonly #perIp = new Map<string, number>()
  readonly #perToken = new Map<string, number>()
  isDraining = false

  constructor(deps: GateDeps) {
    this.#deps = deps
  }

  get open(): number {
    return this.#open
  }

  async admit(request: GateRequest): Promise<GateDecision> {
    const { config, metrics } = this.#deps
    const deny = (status: 401 | 403 | 404 | 503, reason: string): GateDecision => {
      metrics.deny(reason)
      return { ok: false, status, body: BODY[status], reason }
    }
    if (request.url.pathname !== RELAY_PATH) return deny(404, 'unknown path')
    if (this.isDraining) return deny(503, 'shutting down')
    if (this.#open >= config.maxConnections) return deny(503, 'global connection limit')
    if ((this.#perIp.get(request.ip) ?? 0) >= config.maxConnectionsPerIp)
      return deny(503, 'per-ip connection limit')

    const fromProtocol = request.protocols.find((p) => p.startsWith(TOKEN_SUBPROTOCOL_PREFIX))
    const token =
      fromProtocol?.slice(TOKEN_SUBPROTOCOL_PREFIX.length) ?? request.url.searchParams.get(RelayParam.token)
    let tokenTarget: string | undefined
    let expiresAt: number | undefined
    if (token) {
      const verdict = this.#deps.verifier ? await this.#deps.verifier.verify(token) : undefined
      if (!verdict?.ok)
        return deny(401, verdict ? `token: ${verdict.reason}` : 'token given but tokens are not configured')
      tokenTarget = verdict.claims.tgt
      expiresAt = verdict.claims.exp * 1000
    } else if (config.requireToken) {
      return deny(401, 'token missing')
    }

    const origin = this.#deps.origin.check(request.origin, tokenTarget !== undefined)
    if (!origin.ok) return deny(origin.status, `origin: ${origin.reason}`)

    const address = request.url.searchParams.get(RelayParam.address) ?? undefined
    const target = request.url.searchParams.get(RelayParam.target) ?? undefined
    if ((address === undefined) === (target === undefined))
      return deny(403, 'expected exactly one of address or target')
    const admission = await this.#deps.policy.admit({ address, target, tokenTarget })
    if (!admission.ok) return deny(403, `policy: ${admission.reason}`)

    if (token && (this.#perToken.get(token) ?? 0) >= config.maxConnectionsPerToken) {
      return deny(503, 'per-token connection limit')
    }
    this.#open++
    bump(this.#perIp, request.ip, 1)
    if (token) bump(this.#perToken, token, 1)
    let isReleased = false
    return {
      ok: true,
      target: admission.target,
      dial: admission.dial,
      expiresAt,
      protocol: fromProtocol,
      release: () => {
        if (isReleased) return
        isReleased = true
        this.#open--
        bump(this.#perIp, request.ip, -1)
        if (token) bump(this.#perToken, token, -1)
      },
    }
  }
}

function bump(map: Map<string, number>, key: string, by: number) {
  const next = (map.get(key) ?? 0) + by
  if (next <= 0) map.delete(key)
  else map.set(key, next)
}
