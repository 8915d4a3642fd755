/**
 * The upgrade gate: decides, before any WebSocket exists and before anything is dialed, whether a request may
 * open a relay session. Runtime-neutral (the Node and Worker entries both use it). Checks run cheapest first:
 * request target, path, draining, connection limits, token, per-token limit, origin, target policy. An HTTP
 * query (`POST /sql`, {@link Gate.admitHttp}) passes the same checks and holds the same slots while it runs.
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

/** An HTTP request for `POST /sql`, judged by {@link Gate.admitHttp} before anything is dialed. */
export interface HttpGateRequest {
  /** The `Authorization` header; a token comes as `Bearer <token>`. */
  authorization: string | undefined
  origin: string | undefined
  /** The client's IP as seen (any spelling), for the per-IP limit. */
  ip: string
  /** The `host:port` the request's connection string names. */
  address: string
}

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

type Deny = (status: RefusalStatus, category: DenialCategory, reason: string) => GateDecision

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

  /** Slots held now: open sessions, upgrades still being decided, and `/sql` requests in flight. */
  get open(): number {
    return this.#open
  }

  /** Judges a WebSocket upgrade request (see the checks in this file's header). */
  async admit(request: GateRequest): Promise<GateDecision> {
    const deny = this.#denier()
    const url = parseRequestTarget(request.target)
    if (!url) return deny(400, 'bad-request', 'request target is not a valid URL')
    if (url.pathname !== RELAY_PATH) return deny(404, 'not-found', 'unknown path')
    const fromProtocol = request.protocols.find((p) => p.startsWith(TOKEN_SUBPROTOCOL_PREFIX))
    const token =
      fromProtocol?.slice(TOKEN_SUBPROTOCOL_PREFIX.length) ?? url.searchParams.get(RelayParam.token)
    const address = url.searchParams.get(RelayParam.address) ?? undefined
    const target = url.searchParams.get(RelayParam.target) ?? undefined
    return this.#admitWithSlots(request.ip, deny, (reservation) =>
      this.#decide(
        { token: token || undefined, origin: request.origin, address, target, protocol: fromProtocol },
        reservation,
        deny,
      ),
    )
  }

  /**
   * Judges an HTTP query request (`POST /sql`) exactly as an upgrade: draining, global and per-IP slots
   * (reserved synchronously, held until the decision's `release()`), the token from `Authorization: Bearer`,
   * the per-token limit, the Origin, the target policy for `address` — and the token's id is spent only once
   * all of them passed. A refusal has the same status and body as the upgrade's.
   */
  admitHttp(request: HttpGateRequest): Promise<GateDecision> {
    const deny = this.#denier()
    const authorization = request.authorization?.trim()
    let token: string | undefined
    if (authorization !== undefined && authorization !== '') {
      const match = /^Bearer[ \t]+(\S+)$/i.exec(authorization)
      // Anything else in the header is a bad token, refused like one (after the limits, as for upgrades).
      token = match?.[1] ?? ''
    }
    return this.#admitWithSlots(request.ip, deny, (reservation) => {
      if (token === '') return Promise.resolve(deny(401, 'token', 'authorization is not Bearer <token>'))
      return this.#decide(
        { token, origin: request.origin, address: request.address, target: undefined, protocol: undefined },
        reservation,
        deny,
      )
    })
  }

  /** Counts and shapes a refusal (the reason is for logs only). */
  #denier(): Deny {
    return (status, category, reason) => {
      this.#deps.metrics.deny(category)
      return { ok: false, status, body: REFUSAL_BODY[status], reason }
    }
  }

  /**
   * Checks draining and the global and per-IP limits, reserves the slots synchronously, then runs `decide`;
   * the slots are freed on every refusal and on a throw.
   */
  async #admitWithSlots(
    ip: string,
    deny: Deny,
    decide: (reservation: Reservation) => Promise<GateDecision>,
  ): Promise<GateDecision> {
    const { config } = this.#deps
    if (this.isDraining) return deny(503, 'draining', 'shutting down')
    if (this.#open >= config.maxConnections) return deny(503, 'limit', 'global connection limit')
    const ipKey = connectionLimitKey(ip, config.ipv6PrefixLength)
    if ((this.#perIp.get(ipKey) ?? 0) >= config.maxConnectionsPerIp)
      return deny(503, 'limit', 'per-ip connection limit')
    // From here on the slots are held: everything below may await.
    const reservation = this.#reserve(ipKey)
    try {
      const decision = await decide(reservation)
      if (!decision.ok) reservation.release()
      return decision
    } catch (error) {
      reservation.release()
      throw error
    }
  }

  async #decide(
    request: {
      token: string | undefined
      origin: string | undefined
      address: string | undefined
      target: string | undefined
      protocol: string | undefined
    },
    reservation: Reservation,
    deny: Deny,
  ): Promise<GateDecision> {
    const { config } = this.#deps
    const { token, address, target } = request
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
      protocol: request.protocol,
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
