/**
 * The relay's configuration: one validated object with a safe default for every limit. A bad setting stops
 * start-up with a message that names it.
 */
import { DEFAULT_MAX_PAYLOAD } from '@edgepg/shared'

export interface RelayConfig {
  /** Address to listen on. Default `127.0.0.1`. */
  host: string
  /** Port to listen on; 0 picks a free one. Default 8080. */
  port: number
  /** Allowlist rules: `host:port`, `[v6]:port`, `CIDR:port`, `CIDR:*`. */
  allow: string[]
  /** Named targets for `?target=NAME`. */
  targets: Record<string, { host: string; port: number }>
  /** Do not block private and loopback ranges by range (the allowlist still applies). Default false. */
  allowPrivate: boolean
  /** HMAC secrets for relay tokens; the first signs, any verifies. Empty: tokens are not used. */
  tokenSecrets: string[]
  /** Refuse sessions without a valid token. Default: true when `tokenSecrets` is set. */
  requireToken: boolean
  /** Expected `aud` claim of tokens, if any. */
  tokenAudience: string | undefined
  /** Exact origins allowed to open sessions (`https://app.example.com`). */
  allowedOrigins: string[]
  /** When a request has no Origin header: allow it only with a valid token (default), always, or never. */
  allowMissingOrigin: 'with-token' | 'always' | 'never'
  /** Sessions open at once, across all clients. Default 10 000. */
  maxConnections: number
  /** Sessions open at once from one client IP (an IPv6 client: its network, see `ipv6PrefixLength`). Default 100. */
  maxConnectionsPerIp: number
  /**
   * For `maxConnectionsPerIp`, IPv6 clients are counted per network of this many leading bits (1 to 128): one
   * client usually holds a whole /64. IPv4 is counted per address; an IPv4-mapped IPv6 address counts as its
   * IPv4 address. Default 64.
   */
  ipv6PrefixLength: number
  /** Sessions open at once with one token. Default 20. */
  maxConnectionsPerToken: number
  /** Largest WebSocket message accepted, bytes. Default 1 MiB. */
  maxPayload: number
  /** Bytes buffered in each direction before the other side is paused. Default 1 MiB. */
  highWaterMark: number
  /**
   * When PostgreSQL streams many short answers in a row to a client that sends nothing meanwhile (the results
   * of a pipeline it sent up front), the relay stops reading for this long and sends what came meanwhile as
   * one frame: far fewer WebSocket frames and a fraction of the relay's CPU per query, for at most this much
   * more latency at the end of such a stream. A lone answer, a bulk result and a client that is sending are
   * never held. ms, 0 to 100; 0 turns it off. Default 1. The Node relay only (a Worker reads through
   * `cloudflare:sockets` streams and does not pace).
   */
  pipelinePacing: number
  /** Time for the client to send its first packet after the upgrade, ms. Default 10 000. */
  startupTimeout: number
  /** Time to open the TCP connection to PostgreSQL, ms. Default 5 000. */
  connectTimeout: number
  /**
   * A session whose client has given no sign of life (no message, no answered ping) for this long is closed
   * with 1001, ms. A client that answers pings is never idle, however quiet its session. On a Worker, which
   * cannot ping, traffic either way is the sign of life. Default 300 000.
   */
  idleTimeout: number
  /**
   * Interval of WebSocket pings (at least twice per `idleTimeout`); a client that leaves one unanswered for
   * this long is terminated, ms. Default 30 000.
   */
  pingInterval: number
  /** Longest session, ms; 0 = unlimited (a token's `exp` still ends its session). Default 0. */
  maxLifetime: number
  /** Time allowed for the request headers, ms (slowloris). Default 10 000. */
  headersTimeout: number
  /** On SIGTERM, time given to sessions before the process exits, ms. Default 10 000. */
  shutdownGrace: number
  /**
   * Behind one trusted reverse proxy: take the client IP from the rightmost X-Forwarded-For entry, the hop
   * that proxy added (entries to its left are the client's own words). Default false.
   */
  trustProxy: boolean
  logLevel: 'debug' | 'info' | 'warn' | 'error'
  /**
   * When set, `/metrics` answers only requests with `Authorization: Bearer <metricsToken>`; anyone else gets
   * the 404 of an unknown path. Unset (default): `/metrics` is public on the relay's listener.
   */
  metricsToken: string | undefined
  /** Serve `POST /sql` (Neon-compatible HTTP queries, pooled here). Default true. */
  sql: boolean
  /**
   * Deadline of one `/sql` request, ms: past it the statement is cancelled on the server and the request
   * answered 400 with SQLSTATE 57014. It also bounds the answer's delivery: an answer that makes no write
   * progress for this long (its client stopped reading) has its connection closed. Default 15 000.
   */
  sqlTimeout: number
  /** Largest `/sql` request body, bytes (413 beyond). Default 1 MiB. */
  sqlMaxRequestBytes: number
  /** Largest `/sql` result, bytes (507 beyond; the statement is cancelled). Default 10 MiB. */
  sqlMaxResponseBytes: number
  /** Pooled PostgreSQL connections per key (target, user, database, options, password). Default 10. */
  sqlPoolMaxPerKey: number
  /** Pooled PostgreSQL connections across all keys. Default 100. */
  sqlPoolMax: number
  /** A pooled connection idle for this long is closed, ms. Default 60 000. */
  sqlPoolIdleTimeout: number
  /** How long a request waits for a pooled connection before it is answered 503, ms. Default 5 000. */
  sqlPoolAcquireTimeout: number
  /** Requests waiting for a pooled connection at once; beyond, a request is answered 503 at once. Default 1 000. */
  sqlPoolMaxWaiting: number
  /**
   * The relay sits behind a TLS-terminating proxy. Unset, `/sql` refuses requests from a non-loopback peer
   * (by the socket's own address, never X-Forwarded-For): they would carry credentials over plain HTTP.
   * Default false.
   */
  behindTls: boolean
}

export const DEFAULTS: RelayConfig = {
  host: '127.0.0.1',
  port: 8080,
  allow: [],
  targets: {},
  allowPrivate: false,
  tokenSecrets: [],
  requireToken: false,
  tokenAudience: undefined,
  allowedOrigins: [],
  allowMissingOrigin: 'with-token',
  maxConnections: 10_000,
  maxConnectionsPerIp: 100,
  ipv6PrefixLength: 64,
  maxConnectionsPerToken: 20,
  maxPayload: DEFAULT_MAX_PAYLOAD,
  highWaterMark: 1024 * 1024,
  pipelinePacing: 1,
  startupTimeout: 10_000,
  connectTimeout: 5_000,
  idleTimeout: 300_000,
  pingInterval: 30_000,
  maxLifetime: 0,
  headersTimeout: 10_000,
  shutdownGrace: 10_000,
  trustProxy: false,
  logLevel: 'info',
  metricsToken: undefined,
  sql: true,
  sqlTimeout: 15_000,
  sqlMaxRequestBytes: 1024 * 1024,
  sqlMaxResponseBytes: 10 * 1024 * 1024,
  sqlPoolMaxPerKey: 10,
  sqlPoolMax: 100,
  sqlPoolIdleTimeout: 60_000,
  sqlPoolAcquireTimeout: 5_000,
  sqlPoolMaxWaiting: 1_000,
  behindTls: false,
}

/** Thrown for an invalid setting; `setting` names it. */
export class ConfigError extends Error {
  readonly setting: string
  constructor(setting: string, message: string) {
    super(`invalid ${setting}: ${message}`)
    this.setting = setting
  }
}

const COUNTS = [
  'maxConnections',
  'maxConnectionsPerIp',
  'maxConnectionsPerToken',
  'maxPayload',
  'highWaterMark',
  'sqlMaxRequestBytes',
  'sqlMaxResponseBytes',
  'sqlPoolMaxPerKey',
  'sqlPoolMax',
  'sqlPoolMaxWaiting',
] as const
const DURATIONS = [
  'startupTimeout',
  'connectTimeout',
  'idleTimeout',
  'pingInterval',
  'headersTimeout',
  'sqlTimeout',
  'sqlPoolIdleTimeout',
  'sqlPoolAcquireTimeout',
] as const

/** The longest timer Node and browsers run as asked (a longer one fires at once). */
const MAX_TIMER_MS = 2 ** 31 - 1

/** Fills defaults and validates every field. */
export function resolveConfig(input: Partial<RelayConfig>): RelayConfig {
  const config: RelayConfig = { ...DEFAULTS, ...definedOnly(input) }
  if (input.requireToken === undefined) config.requireToken = config.tokenSecrets.length > 0
  if (!Number.isInteger(config.port) || config.port < 0 || config.port > 65535) {
    throw new ConfigError('port', `expected an integer from 0 to 65535, found ${config.port}`)
  }
  for (const key of COUNTS) positiveInteger(key, config[key])
  const prefix = config.ipv6PrefixLength
  if (!Number.isInteger(prefix) || prefix < 1 || prefix > 128) {
    throw new ConfigError('ipv6PrefixLength', `expected an integer from 1 to 128, found ${prefix}`)
  }
  for (const key of DURATIONS) {
    positiveInteger(key, config[key])
    if (config[key] > MAX_TIMER_MS)
      throw new ConfigError(key, `expected at most ${MAX_TIMER_MS} ms, found ${config[key]}`)
  }
  if (config.sqlPoolMaxPerKey > config.sqlPoolMax) {
    throw new ConfigError(
      'sqlPoolMaxPerKey',
      `expected at most sqlPoolMax (${config.sqlPoolMax}), found ${config.sqlPoolMaxPerKey}`,
    )
  }
  for (const key of ['sql', 'behindTls', 'trustProxy', 'allowPrivate'] as const) {
    if (typeof config[key] !== 'boolean')
      throw new ConfigError(key, `expected true or false, found ${JSON.stringify(config[key])}`)
  }
  const pacing = config.pipelinePacing
  if (!Number.isInteger(pacing) || pacing < 0 || pacing > 100) {
    throw new ConfigError(
      'pipelinePacing',
      `expected a whole number of milliseconds from 0 to 100, found ${pacing}`,
    )
  }
  for (const key of ['maxLifetime', 'shutdownGrace'] as const) {
    if (!Number.isInteger(config[key]) || config[key] < 0) {
      throw new ConfigError(key, `expected a whole number of milliseconds ≥ 0, found ${config[key]}`)
    }
  }
  if (config.requireToken && config.tokenSecrets.length === 0) {
    throw new ConfigError('requireToken', 'tokens are required but no token secret is configured')
  }
  for (const secret of config.tokenSecrets) {
    if (secret.length < 32) throw new ConfigError('tokenSecrets', 'each secret needs at least 32 characters')
  }
  if (!['with-token', 'always', 'never'].includes(config.allowMissingOrigin)) {
    throw new ConfigError(
      'allowMissingOrigin',
      `expected with-token, always or never, found ${config.allowMissingOrigin}`,
    )
  }
  for (const origin of config.allowedOrigins) {
    if (!/^https?:\/\/[^/\s]+$/i.test(origin)) {
      throw new ConfigError('allowedOrigins', `"${origin}" is not an origin: expected scheme://host[:port]`)
    }
  }
  if (config.metricsToken !== undefined && config.metricsToken.length < 16) {
    throw new ConfigError('metricsToken', 'expected at least 16 characters')
  }
  if (!['debug', 'info', 'warn', 'error'].includes(config.logLevel)) {
    throw new ConfigError('logLevel', `expected debug, info, warn or error, found ${config.logLevel}`)
  }
  if (config.allow.length === 0 && Object.keys(config.targets).length === 0) {
    throw new ConfigError('allow', 'no allowlist rule and no target: the relay would refuse every session')
  }
  return config
}

function positiveInteger(key: string, value: number) {
  if (!Number.isInteger(value) || value <= 0)
    throw new ConfigError(key, `expected a positive integer, found ${value}`)
}

function definedOnly<T extends object>(input: T): Partial<T> {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as Partial<T>
}
