/**
 * `connect()`: validate the settings, open the transport, run startup and authentication, and hand back the
 * two halves of the connection.
 */

import { parseRequireAuth } from './auth/require-auth.ts'
import { Client } from './client.ts'
import { type ConnectionConfig, parseConfig, resolveChannelBinding } from './config.ts'
import { Connection } from './connection.ts'
import { ConnectionCore } from './core.ts'
import { configError, ioError, isPgError, timeoutError } from './errors.ts'
import { MAX_TIMER_MS } from './send.ts'
import { type StartupStage, startup } from './startup.ts'
import type { TlsOptions } from './tls.ts'
import type { ByteStream, TlsRequest, Transport } from './transport/transport.ts'
import { createTypeRegistry, type TypeOptions } from './types/index.ts'

export interface ConnectOptions {
  /** How to reach the server: `nodeSocket()` (TCP), `webSocket({ url })` (a relay), … */
  transport: Transport
  /** Deadline for opening the transport, authenticating and the first ReadyForQuery, in ms. Default 30 000. */
  connectTimeout?: number
  /** How long a request waits for `connection.run()` before it rejects with kind `not-driven`. Default 1000. */
  notDrivenTimeout?: number
  /**
   * Default deadline for each request, in ms. A request that passes it rejects with kind `timeout` and the
   * connection is destroyed (never reused out of sync). Default: none.
   */
  queryTimeout?: number
  /** Largest backend message accepted, in bytes. Default 256 MiB. */
  maxMessageSize?: number
  /** Custom parsers per OID, and how dates are returned. */
  types?: TypeOptions
  /** Protocol version to request. `'3.2'` (PostgreSQL 18) brings variable-length cancel keys. Default `'3.0'`. */
  protocolVersion?: '3.0' | '3.2'
  /**
   * Fast connect. `true`: `connect()` resolves as soon as the last authentication message is written, so
   * the first request rides with it (one round trip fewer); a failed login then rejects the first requests
   * and `run()` instead of `connect()`. `'scram'`: also sends the SCRAM client-first message together with
   * the startup message (another round trip fewer) — declare it only when the server uses SCRAM-SHA-256 for
   * this user. Default `false`: `connect()` resolves at the first ReadyForQuery.
   */
  pipelineConnect?: boolean | 'scram'
  /**
   * How many statements `query(sql)` keeps prepared per connection (LRU), so repeated SQL skips parsing
   * and planning. 0 turns it off (needed behind a transaction-mode pooler such as PgBouncer). Default 100.
   */
  statementCacheSize?: number
  /** CA and server name for `sslmode=verify-ca|verify-full` (TLS needs a transport that can start it). */
  tls?: TlsOptions
  /**
   * The authentication methods accepted from the server, as libpq's `require_auth` (e.g. `'scram-sha-256'`,
   * `'!password,!md5'`); overrides the connection string's. A server asking for another is refused before
   * any password is sent.
   */
  requireAuth?: string | readonly string[]
  /** SCRAM channel binding, as libpq's `channel_binding`; overrides the connection string's. Default `prefer`. */
  channelBinding?: 'disable' | 'prefer' | 'require'
}

const DEFAULT_CONNECT_TIMEOUT = 30_000
const DEFAULT_NOT_DRIVEN_TIMEOUT = 1000
const DEFAULT_MAX_MESSAGE_SIZE = 256 * 1024 * 1024
const DEFAULT_STATEMENT_CACHE_SIZE = 100

/**
 * Connects and authenticates. Returns the {@link Client}, which sends requests, and the {@link Connection},
 * which must be driven with `run()` for any request to be sent.
 *
 * @example
 * ```ts
 * import { connect } from '@edgepg/client'
 * import { nodeSocket } from '@edgepg/client/node'
 *
 * const [client, connection] = await connect('postgres://app:secret@localhost:5432/app', { transport: nodeSocket() })
 * const done = connection.run()            // in a Worker: ctx.waitUntil(connection.run())
 * const { rows } = await client.query('select $1::int as n', [42])
 * await client.end()
 * await done
 * ```
 */
export async function connect(
  config: string | ConnectionConfig,
  options: ConnectOptions,
): Promise<[client: Client, connection: Connection]> {
  const core = await openCore(config, options)
  return [new Client(core), new Connection(core)]
}

/** @internal `connect()` without the two halves: the pool drives the core itself. */
export async function openCore(
  config: string | ConnectionConfig,
  options: ConnectOptions,
): Promise<ConnectionCore> {
  const settings = parseConfig(config)
  if (options?.requireAuth !== undefined) settings.requireAuth = parseRequireAuth(options.requireAuth)
  if (options?.channelBinding !== undefined)
    settings.channelBinding = resolveChannelBinding(options.channelBinding, settings.sslmode)
  if (!options || typeof options.transport !== 'function') {
    throw configError(
      'transport is missing: pass { transport: nodeSocket() } or { transport: webSocket({ url }) }',
    )
  }
  const timeout = positive(
    options.connectTimeout ?? settings.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT,
    'connectTimeout',
  )
  const notDrivenTimeout = positive(
    options.notDrivenTimeout ?? DEFAULT_NOT_DRIVEN_TIMEOUT,
    'notDrivenTimeout',
  )
  const queryTimeout =
    options.queryTimeout === undefined ? undefined : positive(options.queryTimeout, 'queryTimeout')
  const maxMessageSize = positive(options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE, 'maxMessageSize')
  const version = options.protocolVersion ?? '3.0'
  if (version !== '3.0' && version !== '3.2') {
    throw configError(`protocolVersion "${String(version)}" is invalid: expected '3.0' or '3.2'`)
  }
  const types = createTypeRegistry(options.types)
  const statementCacheSize = options.statementCacheSize ?? DEFAULT_STATEMENT_CACHE_SIZE
  if (!Number.isInteger(statementCacheSize) || statementCacheSize < 0) {
    throw configError(
      `statementCacheSize must be an integer ≥ 0, found ${JSON.stringify(options.statementCacheSize)}`,
    )
  }

  const controller = new AbortController()
  let stage: StartupStage | 'transport' | 'TLS negotiation' = 'transport'
  let core: ConnectionCore | undefined
  let timer: ReturnType<typeof setTimeout> | undefined
  let isFinishedEarly = false
  const pipeline = options.pipelineConnect ?? false
  if (pipeline !== false && pipeline !== true && pipeline !== 'scram') {
    throw configError(`pipelineConnect "${String(pipeline)}" is invalid: expected false, true or 'scram'`)
  }
  if (pipeline === 'scram' && settings.requireAuth && !settings.requireAuth.allowed.has('scram-sha-256')) {
    throw configError(
      `pipelineConnect: 'scram' sends SCRAM with the startup, which require_auth "${settings.requireAuth.text}" does not allow`,
    )
  }
  /** Every stream opened so far (the plain one, then the TLS one): all are destroyed when connect fails. */
  const streams: ByteStream[] = []
  /** Keeps `stream`, or destroys it at once when the deadline has passed while it was being opened. */
  const own = (stream: ByteStream): ByteStream => {
    if (controller.signal.aborted) {
      stream.destroy()
      throw controller.signal.reason
    }
    streams.push(stream)
    return stream
  }
  const destroyAll = () => {
    for (const stream of streams.splice(0)) stream.destroy()
  }
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = timeoutError(`connect timed out after ${timeout} ms waiting for the ${stage}`)
      controller.abort(error)
      core?.fail(error)
      destroyAll()
      reject(error)
    }, timeout)
  })
  try {
    const open = async () => {
      const stream = own(
        await options.transport({
          host: settings.host,
          port: settings.port,
          signal: controller.signal,
        }),
      )
      stage = 'TLS negotiation'
      const secured = own(
        await secure(stream, {
          mode: settings.sslmode,
          host: settings.host,
          tls: options.tls,
          signal: controller.signal,
        }),
      )
      // The server certificate's hash, for SCRAM-SHA-256-PLUS (computed before startup: WebCrypto is async).
      const channelBindingData =
        settings.channelBinding === 'disable' ? undefined : await secured.tlsServerEndPoint?.()
      if (controller.signal.aborted) throw controller.signal.reason
      core = new ConnectionCore(secured, {
        maxMessageSize,
        notDrivenTimeout,
        types,
        queryTimeout,
        transport: options.transport,
        target: { host: settings.host, port: settings.port },
        statementCacheSize,
      })
      const opened = core
      let authSent!: () => void
      const sent = new Promise<void>((resolve) => {
        authSent = resolve
      })
      const done = startup(
        opened,
        settings,
        version === '3.2' ? 2 : 0,
        (next) => {
          stage = next
        },
        pipeline,
        () => authSent(),
        channelBindingData,
      )
      if (!pipeline) {
        await done
        opened.state = 'ready'
        return opened
      }
      // Pipelined: hand the connection over once the last authentication message is written, so the first
      // request rides with it. The deadline keeps running until the first ReadyForQuery.
      isFinishedEarly = true
      done.then(
        () => clearTimeout(timer),
        (error: unknown) => {
          clearTimeout(timer)
          opened.fail(isPgError(error) ? error : ioError('connect failed', error))
        },
      )
      await Promise.race([sent, done])
      if (opened.state === 'connecting') opened.state = 'ready'
      return opened
    }
    return await Promise.race([open(), deadline])
  } catch (error) {
    isFinishedEarly = false
    core?.fail(isPgError(error) ? error : ioError('connect failed', error))
    destroyAll()
    throw isPgError(error) ? error : ioError(`could not connect to ${settings.host}:${settings.port}`, error)
  } finally {
    if (!isFinishedEarly) clearTimeout(timer)
    deadline.catch(() => {})
  }
}

/**
 * `sslmode` on the opened stream. A stream that can start TLS runs the exchange itself (tls.ts, which only the
 * bundles of such transports carry); any other goes on in plain text for `disable` and `prefer` and refuses
 * stricter modes.
 */
async function secure(stream: ByteStream, request: TlsRequest): Promise<ByteStream> {
  const { mode } = request
  if (mode === 'disable') return stream
  if (stream.negotiateTls) return await stream.negotiateTls(request)
  if (mode === 'prefer' && !stream.startTls) return stream
  stream.destroy()
  throw configError(
    stream.startTls
      ? `sslmode=${mode}: the transport's stream has startTls() but no negotiateTls() (see ByteStream)`
      : `sslmode=${mode} needs a transport that can start TLS with PostgreSQL, and this one cannot ` +
          '(a WebSocket relay carries plain PostgreSQL bytes: use a wss:// relay URL to encrypt the wire, ' +
          'with sslmode=disable or prefer)',
  )
}

function positive(value: number, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_TIMER_MS) {
    throw configError(
      `${field} must be a positive number of milliseconds up to ${MAX_TIMER_MS}, found ${JSON.stringify(value)}`,
    )
  }
  return value
}
