/**
 * The upgrade gate: decides, before any WebSocket exists and before anything is dialed, whether a request may
 * open a relay session. Runtime-neutral (the Node and Worker entries both use it). Checks run cheapest first:
 * request target, path, draining, connection limits, token, per-token limit, origin, target policy.
 *
 * Connection slots are reserved synchronously, before the first await (token verification, policy
 * admission), and freed on every refusal: a burst of concurrent upgrades cannot pass a limit together.
 *
 * Every refusal of one class looks the same from outside (status and body); the reason is for logs only, so
 * the relay is no oracle for port scanning or token probing.
 */
import { RELAY_PATH, RelayParam, TOKEN_SUBPROTOCOL_PREFIX } from '@edgepg/shared'
import type { RelayConfig } from './config.ts'
import type { DenialCategory, RelayMetrics } from './metrics.ts'
import type { OriginCheck, Policy, TokenClaims, TokenVerifier } from './policy/index.ts'
import { connectionLimitKey } from './policy/limit-key.ts'

export interface GateRequest {
  /**
   * The request target as received: origin-form (`/v1?address=…`, Node) or an absolute URL (a Worker's
   * `request.url`). Anything the URL parser rejects is refused with 400.
   */
  target: string
  origin: string | undefined
  /** Offered WebSocket subprotocols. */
  protocols: string[]
  /** The client's IP as seen (any spelling); the per-IP limit counts it by {@link connectionLimitKey}. */
  ip: string
}

/** The subprotocols offered in a `Sec-WebSocket-Protocol` header (comma-separated, blanks dropped). */
export function offeredProtocols(header: string | null | undefined): string[] {
  return (header ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
}

/** The request target as a URL, or `undefined` when the URL parser rejects it. Never throws. */
export function parseRequestTarget(target: string): URL | undefined {
  try {
    return new URL(target, 'http://relay.invalid')
  } catch {
    return undefined
  }
}

export type RefusalStatus = 400 | 401 | 403 | 404 | 503

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
  | { ok: false; status: RefusalStatus; body: string; reason: string }

export interface GateDeps {
  config: RelayConfig
  policy: Policy
  verifier: TokenVerifier | undefined
  origin: OriginCheck
  metrics: RelayMetrics
}

/** The body of each refusal, one per status (no detail: the reason is for logs). */
export const REFUSAL_BODY: Record<RefusalStatus, string> = {
  400: 'bad request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not found',
  503: 'unavailable',
}

/** Connection slots taken by one upgrade; freed once, on refusal or when the session ends. */
interface Reservation {
  /** Takes a per-token slot too; false (and nothing taken) when the token is at its limit. */
  addToken(token: string): boolean
  release(): void
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

  /** Slots held now: open sessions plus upgrades still being decided. */
  get open(): number {
    return this.#open
  }

  async admit(request: GateRequest): Promise<GateDecision> {
    const { config, metrics } = this.#deps
    const deny = (status: RefusalStatus, category: DenialCategory, reason: string): GateDecision => {
      metrics.deny(category)
      return { ok: false, status, body: REFUSAL_BODY[status], reason }
    }
    const url = parseRequestTarget(request.target)
    if (!url) return deny(400, 'bad-request', 'request target is not a valid URL')
    if (url.pathname !== RELAY_PATH) return deny(404, 'not-found', 'unknown path')
    if (this.isDraining) return deny(503, 'draining', 'shutting down')
    if (this.#open >= config.maxConnections) return deny(503, 'limit', 'global connection limit')
    const ipKey = connectionLimitKey(request.ip, config.ipv6PrefixLength)
    if ((this.#perIp.get(ipKey) ?? 0) >= config.maxConnectionsPerIp)
      return deny(503, 'limit', 'per-ip connection limit')
    // From here on the slots are held: everything below may await.
    const reservation = this.#reserve(ipKey)
    try {
      const decision = await this.#decide(url, request, reservation, deny)
      if (!decision.ok) reservation.release()
      return decision
    } catch (error) {
      reservation.release()
      throw error
    }
  }

  async #decide(
    url: URL,
    request: GateRequest,
    reservation: Reservation,
    deny: (status: RefusalStatus, category: DenialCategory, reason: string) => GateDecision,
  ): Promise<GateDecision> {
    const { config } = this.#deps
    const fromProtocol = request.protocols.find((p) => p.startsWith(TOKEN_SUBPROTOCOL_PREFIX))
    const token =
      fromProtocol?.slice(TOKEN_SUBPROTOCOL_PREFIX.length) ?? url.searchParams.get(RelayParam.token)
    let claims: TokenClaims | undefined
    if (token) {
      // The token's id is only checked here, and spent below once every other check has passed.
      const verdict = this.#deps.verifier ? await this.#deps.verifier.check(token) : undefined
      if (!verdict?.ok)
        return deny(
          401,
          'token',
          verdict ? `token: ${verdict.reason}` : 'token given but tokens are not configured',
        )
      claims = verdict.claims
      if (!reservation.addToken(token)) return deny(503, 'limit', 'per-token connection limit')
    } else if (config.requireToken) {
      return deny(401, 'token', 'token missing')
    }

    const origin = this.#deps.origin.check(request.origin, claims !== undefined)
    if (!origin.ok) return deny(origin.status, 'origin', `origin: ${origin.reason}`)

    const address = url.searchParams.get(RelayParam.address) ?? undefined
    const target = url.searchParams.get(RelayParam.target) ?? undefined
    if ((address === undefined) === (target === undefined))
      return deny(403, 'bad-request', 'expected exactly one of address or target')
    const admission = await this.#deps.policy.admit({ address, target, tokenTarget: claims?.tgt })
    if (!admission.ok) return deny(403, 'policy', `policy: ${admission.reason}`)
    if (claims) {
      const spent = this.#deps.verifier!.redeem(claims)
      if (spent) return deny(401, 'token', `token: ${spent}`)
    }
    return {
      ok: true,
      target: admission.target,
      dial: admission.dial,
      expiresAt: claims ? claims.exp * 1000 : undefined,
      protocol: fromProtocol,
      release: reservation.release,
    }
  }

  /**
   * Takes a global and a per-IP slot (`ipKey`: the client's {@link connectionLimitKey}), synchronously (the
   * caller checked both limits just before).
   */
  #reserve(ipKey: string): Reservation {
    this.#open++
    bump(this.#perIp, ipKey, 1)
    let heldToken: string | undefined
    let isReleased = false
    return {
      addToken: (token) => {
        if ((this.#perToken.get(token) ?? 0) >= this.#deps.config.maxConnectionsPerToken) return false
        bump(this.#perToken, token, 1)
        heldToken = token
        return true
      },
      release: () => {
        if (isReleased) return
        isReleased = true
        this.#open--
        bump(this.#perIp, ipKey, -1)
        if (heldToken !== undefined) bump(this.#perToken, heldToken, -1)
      },
    }
  }
}

function bump(map: Map<string, number>, key: string, by: number) {
  const next = (map.get(key) ?? 0) + by
  if (next <= 0) map.delete(key)
  else map.set(key, next)
}
