/**
 * The relay on Node: a `node:http` server answers the relay's own HTTP routes and hands the rest (`/sql`,
 * mounted routes) to the hono app, loaded on first use (./node-http.ts); our own `ws` WebSocketServer
 * handles upgrades (so `maxPayload`, no permessage-deflate and backpressure are ours). Every upgrade passes
 * the {@link Gate} before a WebSocket exists; the TCP dial happens only after a valid first packet.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { type AddressInfo, BlockList, isIP, type Socket } from 'node:net'
import type { Transport } from '@edgepg/client'
import { CloseCode, CloseReason } from '@edgepg/shared'
import type { HttpBindings } from '@hono/node-server'
import type { Context } from 'hono'
import { WebSocketServer } from 'ws'
import type { AppDeps } from '../app.ts'
import { type RelayConfig, resolveConfig } from '../config.ts'
import { Gate, offeredProtocols } from '../gate.ts'
import { createLogger, type Logger } from '../log.ts'
import { RelayMetrics } from '../metrics.ts'
import { createOriginCheck, createPolicy, createTokenVerifier } from '../policy/index.ts'
import { type Dialer, nodeSessionDeps, type RelaySession, startNodeSession, tcpDialer } from '../session.ts'
import { livenessTick, messageOf, safely } from '../session-core.ts'
import type { NodeSqlBackends } from '../sql/node-backends.ts'
import { createHttpListener } from './node-http.ts'
import { lazySql } from './node-sql.ts'

// `node:http` as its CommonJS exports: an ESM import of a builtin reads every export, and the `WebSocket`
// getter of this one loads Node's fetch implementation (undici, about 15 MB of RSS) that the relay does not
// use.
const { createServer } = process.getBuiltinModule('node:http')
// The same for `node:crypto`, whose getters would load WebCrypto (tokens load it when they are verified).
const { randomUUID } = process.getBuiltinModule('node:crypto')

export interface NodeRelayDeps {
  /** Opens TCP connections to PostgreSQL (tests inject one that records every call). */
  dial?: Dialer
  /** Resolves names for the policy (tests inject fakes). */
  resolve?: (host: string) => Promise<{ address: string; family: number }[]>
  logger?: Logger
  /** Extra HTTP routes, e.g. the playground's (`npm start`); see {@link AppDeps.mount}. */
  mount?: AppDeps['mount']
  /**
   * Opens the `/sql` pool's TCP connections (and their CancelRequests), called with the address the policy
   * admitted. Default `nodeSocket()` of `@edgepg/client/node`; tests inject one that records every dial.
   */
  sqlTransport?: Transport
  /**
   * The address of a request's peer as its socket reports it, for `/sql`'s plain-HTTP check (credentials
   * from a non-loopback peer are refused unless `behindTls`). Default `request.socket.remoteAddress`; tests
   * inject a remote one to exercise the check on a loopback-only machine.
   */
  peerAddress?: (request: IncomingMessage) => string | undefined
}

export interface RunningRelay {
  readonly config: RelayConfig
  /** `http://host:port` */
  readonly url: string
  /** `ws://host:port/v1` */
  readonly wsUrl: string
  readonly port: number
  readonly metrics: RelayMetrics
  readonly sessions: ReadonlySet<RelaySession>
  readonly server: Server
  /**
   * The `/sql` pool (undefined when `sql` is off). Its modules load with the first `/sql` request; until
   * then its counts are 0.
   */
  readonly sqlBackends: NodeSqlBackends | undefined
  /**
   * The pool of blocks the sessions' upstream reads are copied into (./upstream-reads.ts): how many were
   * made, are free, and are lent to bytes not yet written to a client.
   */
  readonly readBlocks: { readonly made: number; readonly freeCount: number; readonly lent: number }
  /**
   * Stops accepting, closes every session with 1001, waits up to `shutdownGrace`, then terminates the rest;
   * ends the `/sql` pool's connections.
   */
  shutdown(): Promise<void>
}

/** Starts the relay; resolves once it listens. */
export async function startRelay(
  input: Partial<RelayConfig>,
  deps: NodeRelayDeps = {},
): Promise<RunningRelay> {
  const config = resolveConfig(input)
  const logger = deps.logger ?? createLogger(config.logLevel)
  const metrics = new RelayMetrics()
  const origin = createOriginCheck({
    allowedOrigins: config.allowedOrigins,
    allowMissingOrigin: config.allowMissingOrigin,
  })
  const gate = new Gate({
    config,
    metrics,
    origin,
    policy: createPolicy(
      { allow: config.allow, targets: config.targets, allowPrivate: config.allowPrivate },
      deps.resolve ? { resolve: deps.resolve } : {},
    ),
    verifier:
      config.tokenSecrets.length > 0
        ? createTokenVerifier({ secrets: config.tokenSecrets, audience: config.tokenAudience })
        : undefined,
  })
  const sessions = new Set<RelaySession>()
  const sql = config.sql
    ? lazySql({ config, gate, origin, metrics, logger, transport: deps.sqlTransport })
    : undefined
  const sqlBackends = sql?.backends
  const handleSql = sql?.handle
  const peerAddress = deps.peerAddress ?? ((request: IncomingMessage) => request.socket.remoteAddress)
  /** `/sql` requests whose answer is not written yet. */
  let sqlInFlight = 0
  const appDeps: AppDeps = {
    metrics,
    metricsToken: config.metricsToken,
    isDraining: () => gate.isDraining,
    mount: deps.mount,
    sql:
      handleSql &&
      (async (c: Context) => {
        const { incoming, outgoing } = c.env as HttpBindings
        // Counted until its answer is written (or its socket gone): shutdown waits for it.
        sqlInFlight++
        outgoing.once('close', () => sqlInFlight--)
        const ip = clientIp(incoming, config.trustProxy)
        // Behind a trusted proxy the socket's peer is the proxy: the client it names must be local too, as
        // nothing says its hop to the proxy was encrypted.
        const isLoopback =
          isLoopbackAddress(peerAddress(incoming)) && (!config.trustProxy || isLoopbackAddress(ip))
        const response = await handleSql(c.req.raw, { ip, isLoopback })
        boundStalledAnswer(incoming.socket, outgoing, config.sqlTimeout)
        return response
      }),
  }
  const server: Server = createServer(
    {
      headersTimeout: config.headersTimeout,
      requestTimeout: config.headersTimeout * 3,
      // Node checks header deadlines on this interval (default 30 s): keep slowloris cut-offs prompt.
      connectionsCheckingInterval: Math.min(1000, config.headersTimeout),
    },
    createHttpListener(appDeps, (error) =>
      safely(() => logger.log('error', 'http app failed to load', { error: messageOf(error) })),
    ),
  )
  const decisions = new WeakMap<IncomingMessage, { protocol: string | undefined }>()
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: config.maxPayload,
    perMessageDeflate: false,
    clientTracking: false,
    handleProtocols: (_protocols, request) => decisions.get(request)?.protocol ?? false,
  })

  // Nothing an upgrade request carries may throw out of this handler: a throw here would be an uncaught
  // exception and end the process. The gate refuses malformed targets with 400; anything unexpected is
  // logged and refused with 500.
  const sessionDeps = nodeSessionDeps({ config, metrics, logger, dial: deps.dial ?? tcpDialer })
  server.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', destroySocket)
    // A WebSocket may be quiet for as long as its client answers pings: no bound of an earlier answer.
    clearStallBound(socket)
    handleUpgrade(request, socket, head).catch((error: unknown) => {
      safely(() => logger.log('error', 'upgrade failed', { error: messageOf(error) }))
      if (!socket.destroyed) safely(() => refuse(socket, 500, 'internal error'))
    })
  })

  async function handleUpgrade(request: IncomingMessage, socket: Socket, head: Buffer) {
    const ip = clientIp(request, config.trustProxy)
    const decision = await gate.admit({
      target: request.url ?? '/',
      origin: header(request, 'origin'),
      protocols: offeredProtocols(header(request, 'sec-websocket-protocol')),
      ip,
    })
    if (!decision.ok) {
      logger.log('info', 'upgrade refused', { ip, status: decision.status, reason: decision.reason })
      return refuse(socket, decision.status, decision.body)
    }
    if (socket.destroyed) return decision.release()
    decisions.set(request, { protocol: decision.protocol })
    let isUpgraded = false
    // handleUpgrade refuses bad handshakes itself (and destroys the socket): free the slots then.
    const releaseUnlessUpgraded = () => {
      if (!isUpgraded) decision.release()
    }
    socket.once('close', releaseUnlessUpgraded)
    try {
      wss.handleUpgrade(request, socket, head, (ws) => {
        isUpgraded = true
        // The session frees the slots from here on: no listener of ours stays on the socket for its lifetime.
        socket.off('close', releaseUnlessUpgraded)
        try {
          const ended = sessionEnd(sessions, decision.release)
          const session = startNodeSession(
            ws,
            {
              // Flat copies: the concatenations these strings come from hold ~0.5 KB per session.
              id: flatString(randomUUID()),
              ip,
              target: flatString(decision.target),
              dial: decision.dial,
              expiresAt: decision.expiresAt,
              onClose: ended.onClose,
            },
            sessionDeps,
          )
          ended.session = session
          sessions.add(session)
          logger.log('info', 'session opened', { session: session.info.id, ip, target: decision.target })
        } catch (error) {
          safely(() => logger.log('error', 'session start failed', { error: messageOf(error) }))
          decision.release()
          safely(() => ws.terminate())
        }
      })
    } catch (error) {
      if (!isUpgraded) decision.release()
      throw error
    }
  }

  // One sweep for all sessions: liveness (pings, and closing clients nobody answers for) at a steady pace.
  const sweep = setInterval(() => {
    const now = Date.now()
    for (const session of sessions) session.tick(now)
  }, livenessTick(config))
  sweep.unref()

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(config.port, config.host, () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  const host = config.host.includes(':') ? `[${config.host}]` : config.host
  logger.log('info', 'relay listening', { host: config.host, port })

  let shutdown: Promise<void> | undefined
  return {
    config,
    url: `http://${host}:${port}`,
    wsUrl: `ws://${host}:${port}/v1`,
    port,
    metrics,
    sessions,
    server,
    sqlBackends,
    readBlocks: sessionDeps.readBlocks,
    shutdown() {
      shutdown ??= (async () => {
        gate.isDraining = true
        clearInterval(sweep)
        server.close()
        // A session ends at once; its client's closing handshake may not (one that stopped reading never
        // reads the close frame behind the data waiting for it): wait for those up to the grace, then drop them.
        const closing = [...sessions]
        for (const session of closing) session.close(CloseCode.goingAway, CloseReason.shuttingDown)
        const deadline = Date.now() + config.shutdownGrace
        const isBusy = () => sessions.size > 0 || sqlInFlight > 0 || closing.some((s) => !s.isClientClosed)
        while (isBusy() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
        for (const session of closing) if (!session.isClientClosed) session.terminateClient()
        server.closeAllConnections()
        await sqlBackends?.close()
        logger.log('info', 'relay stopped', {})
      })()
      return shutdown
    },
  }
}

/** An 'error' listener shared by every upgrading socket (`this` is the socket). */
function destroySocket(this: Socket): void {
  this.destroy()
}

/**
 * What a session does when it ends: leave the relay's set and free its connection slots. Made in a scope of
 * its own, so that the closure a session keeps for its whole life holds these and nothing of the upgrade.
 */
function sessionEnd(sessions: Set<RelaySession>, release: () => void) {
  const ended = {
    session: undefined as RelaySession | undefined,
    onClose: () => {
      if (ended.session) sessions.delete(ended.session)
      release()
    },
  }
  return ended
}

/**
 * `text` as one flat string. V8 keeps a string built by concatenation as a tree of its parts (a UUID from
 * `randomUUID()` is about 13 of them); a session keeps its id and target for its whole life.
 */
export function flatString(text: string): string {
  // latin1 round-trips exactly only the strings whose code units are all below 256.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the whole latin1 range is meant
  return /^[\u0000-\u00ff]*$/.test(text) ? Buffer.from(text, 'latin1').toString('latin1') : text
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name]
  return Array.isArray(value) ? value[0] : value
}

/**
 * The client's IP for connection limits. Behind a trusted proxy it is the rightmost `X-Forwarded-For` entry:
 * the hop that proxy added. Entries to its left were written by the client and prove nothing.
 */
export function clientIp(request: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const hops = (request.headers['x-forwarded-for'] ?? '').toString().split(',')
    const added = hops.at(-1)?.trim()
    if (added && isIP(added)) return added
  }
  return request.socket.remoteAddress ?? 'unknown'
}

const LOOPBACK = new BlockList()
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4')
LOOPBACK.addAddress('::1', 'ipv6')

/** Whether `address` (a socket's peer) is a loopback address: 127.0.0.0/8, ::1, or 127.x mapped into IPv6. */
export function isLoopbackAddress(address: string | undefined): boolean {
  const family = address === undefined ? 0 : isIP(address)
  return family !== 0 && LOOPBACK.check(address!, family === 6 ? 'ipv6' : 'ipv4')
}

/** The stall bound of the `/sql` answer a socket is writing, until it is written or the socket upgraded. */
const stallBounds = new WeakMap<Socket, () => void>()

/**
 * Destroys `socket` when the `/sql` answer written to it makes no write progress for `ms`: a client that
 * stops reading would otherwise keep the whole answer (up to `sqlMaxResponseBytes`) in the relay's memory
 * for as long as it keeps the connection open. The socket's own timeout measures exactly that (it restarts
 * whenever bytes reach the kernel, or arrive). Cleared when the answer has been flushed (before Node arms its
 * keep-alive timeout on the same socket), when it closes, and on an upgrade.
 */
function boundStalledAnswer(socket: Socket, response: ServerResponse, ms: number): void {
  if (socket.destroyed || response.writableFinished) return
  clearStallBound(socket)
  const onStall = () => socket.destroy()
  const clear = () => {
    if (stallBounds.get(socket) !== clear) return
    stallBounds.delete(socket)
    socket.off('timeout', onStall)
    socket.setTimeout(0)
    response.off('finish', clear)
    response.off('close', clear)
  }
  stallBounds.set(socket, clear)
  socket.on('timeout', onStall)
  socket.setTimeout(ms)
  // First among the 'finish' listeners: Node's own sets the keep-alive timeout after it.
  response.prependOnceListener('finish', clear)
  response.once('close', clear)
}

function clearStallBound(socket: Socket): void {
  stallBounds.get(socket)?.()
  if (!socket.destroyed) socket.setTimeout(0)
}

/**
 * How long a refused upgrade's socket may stay open after its response: long enough for the response to be
 * flushed, short enough that a client which never reads cannot hold file descriptors.
 */
export const REFUSAL_GRACE_MS = 1000

/**
 * Writes the refusal and closes the socket for good. Node drops the HTTP timeouts of a socket it hands to
 * the 'upgrade' event, so a half-close (`end`) alone would stay open for as long as the client keeps its
 * side: destroy once the response is flushed, and at the latest after {@link REFUSAL_GRACE_MS}.
 */
function refuse(socket: Socket, status: number, body: string) {
  const destroy = () => {
    clearTimeout(timer)
    socket.destroy()
  }
  const timer = setTimeout(destroy, REFUSAL_GRACE_MS)
  timer.unref()
  socket.once('finish', destroy)
  socket.once('close', () => clearTimeout(timer))
  const reason = {
    400: 'Bad Request',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'Not Found',
    500: 'Internal Server Error',
    503: 'Service Unavailable',
  }[status]
  socket.end(
    `HTTP/1.1 ${status} ${reason ?? 'Error'}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  )
}
