/**
 * The relay's wire contract: the URL, its parameters, close codes and limits. The client's WebSocket
 * transport and the relay both import these; nothing here is duplicated on either side.
 *
 * `GET /v1?address=HOST:PORT` (Neon wsproxy's convention) or `GET /v1?target=NAME`, upgraded to a WebSocket
 * that carries raw PostgreSQL bytes in binary frames, one stream each way.
 */

/** Path of the relay's WebSocket endpoint. */
export const RELAY_PATH = '/v1'

/** Query parameters of the relay URL. */
export const RelayParam = {
  /** `host:port` (or `[v6]:port`) to dial, checked against the allowlist. */
  address: 'address',
  /** Name of a configured target. */
  target: 'target',
  /** A signed relay token (HMAC), when the relay requires one. */
  token: 'token',
} as const

/**
 * WebSocket subprotocol prefix for passing the token without putting it in the URL (browsers cannot set
 * headers on a WebSocket): `Sec-WebSocket-Protocol: edgepg.token.<token>`.
 */
export const TOKEN_SUBPROTOCOL_PREFIX = 'edgepg.token.'

/** Close codes the relay sends, with one stable reason each. */
export const CloseCode = {
  /** The session ended normally (PostgreSQL closed the connection after Terminate). */
  normal: 1000,
  /** The relay is shutting down, or the session hit its idle timeout. */
  goingAway: 1001,
  /** A text frame arrived: only binary frames carry PostgreSQL bytes. */
  unsupportedData: 1003,
  /** Denied by policy: target, token, origin, protocol pinning or startup timeout. All denials look alike. */
  policy: 1008,
  /** A frame larger than the relay's `maxPayload`. */
  tooBig: 1009,
  /**
   * The target could not be reached, PostgreSQL went away, or the relay failed internally. No errno or
   * address is disclosed.
   */
  upstreamUnavailable: 1011,
  /** Connection limits reached; try again later. */
  tryAgainLater: 1013,
} as const

export type CloseCodeName = keyof typeof CloseCode

/** The reason text sent with each close code. Stable: clients may match on it. */
export const CloseReason = {
  denied: 'denied',
  upstreamUnavailable: 'upstream unavailable',
  upstreamClosed: 'upstream closed',
  tooBig: 'message too big',
  textFrame: 'binary frames only',
  idle: 'idle timeout',
  startupTimeout: 'startup timeout',
  shuttingDown: 'shutting down',
  tooMany: 'too many connections',
  lifetime: 'session lifetime exceeded',
  /** With 1011: a relay bug ended this session (it is logged); other sessions go on. */
  internalError: 'internal error',
} as const

/** Default largest WebSocket message the relay accepts. */
export const DEFAULT_MAX_PAYLOAD = 1024 * 1024

/**
 * Largest frame the client sends. Comfortably under any relay's `maxPayload` (Neon's wsproxy and ours
 * default to 1 MiB or more), large enough that a 10 MiB bytea is forty frames.
 */
export const CLIENT_MAX_FRAME = 256 * 1024
