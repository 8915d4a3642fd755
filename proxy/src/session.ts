/**
 * One relayed session on Node: a `ws` WebSocket on one side, a TCP socket to PostgreSQL on the other.
 *
 * - Protocol pinning: nothing is dialed until the client's first bytes classify as a PostgreSQL startup,
 *   SSLRequest, GSSENCRequest or CancelRequest packet; anything else closes with 1008, no dial.
 * - The dial goes to the exact IP the policy validated (no second resolution).
 * - Bounded buffering both ways: a slow PostgreSQL pauses the WebSocket's socket (`ws.pause()`), a slow
 *   WebSocket reader pauses the TCP socket; neither side's bytes pile up in memory past `highWaterMark`.
 * - Timers: startup timeout (first packet), lifetime (config or token expiry); idle and ping are swept by the
 *   relay for all sessions at once.
 */
import { connect, type Socket } from 'node:net'
import { CloseCode, CloseReason, classifyFirstPacket } from '@edgepg/shared'
import type { WebSocket } from 'ws'
import type { RelayConfig } from './config.ts'
import type { Logger } from './log.ts'
import type { RelayMetrics } from './metrics.ts'

/** Opens the TCP connection to PostgreSQL. Injected so tests can prove which addresses were dialed. */
export type Dialer = (target: { host: string; port: number }, timeoutMs: number) => Promise<Socket>

/** The default dialer: `net.connect` with a deadline. */
export const tcpDialer: Dialer = (target, timeoutMs) =>
  new Promise((resolve, reject) => {
    const socket = connect({ host: target.host, port: target.port, noDelay: true })
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`connect timed out after ${timeoutMs} ms`))
    }, timeoutMs)
    socket.once('connect', () => {
      clearTimeout(timer)
      socket.removeAllListeners('error')
      resolve(socket)
    })
    socket.once('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
  })

export interface SessionDeps {
  config: RelayConfig
  metrics: RelayMetrics
  logger: Logger
  dial: Dialer
}

export interface SessionInfo {
  id: string
  ip: string
  /** The target's configured name or `host:port`, for logs. */
  target: string
  dial: { host: string; port: number }
  /** When the token that admitted the session expires (ms since epoch). */
  expiresAt?: number | undefined
  /** Called once when the session has fully closed. */
  onClose(): void
}

type State = 'startup' | 'dialing' | 'open' | 'closed'

const BINARY = { binary: true } as const

export class RelaySession {
  readonly info: SessionInfo
  lastActivity = Date.now()
  isAlive = true
  #state: State = 'startup'
  readonly #ws: WebSocket
  readonly #deps: SessionDeps
  #upstream: Socket | undefined
  /** Client bytes that arrived before the upstream was open. */
  #pending: Buffer[] = []
  #pendingBytes = 0
  #isUpstreamPaused = false
  #timers: ReturnType<typeof setTimeout>[] = []

  constructor(ws: WebSocket, info: SessionInfo, deps: SessionDeps) {
    this.#ws = ws
    this.info = info
    this.#deps = deps
    const { config } = deps
    this.#timers.push(
      setTimeout(() => this.close(CloseCode.policy, CloseReason.startupTimeout), config.startupTimeout),
    )
    const lifetimes = [config.maxLifetime > 0 ? config.maxLifetime : Infinity]
    if (info.expiresAt !== undefined) lifetimes.push(Math.max(0, info.expiresAt - Date.now()))
    const lifetime = Math.min(...lifetimes)
    if (Number.isFinite(lifetime)) {
      this.#timers.push(setTimeout(() => this.close(CloseCode.policy, CloseReason.lifetime), lifetime))
    }
    ws.on('message', (data, isBinary) => this.#onClientData(data as Buffer, isBinary))
    ws.on('pong', () => {
      this.isAlive = true
    })
    ws.on('close', () => this.#teardown())
    ws.on('error', (error) => {
      // ws closes with 1009 (too big) or 1002 (protocol) on its own; we only record it.
      deps.logger.log('debug', 'websocket error', { session: info.id, error: error.message })
    })
    deps.metrics.openSessions++
    deps.metrics.sessionsTotal++
  }

  get state(): State {
    return this.#state
  }

  /** Bytes buffered toward the client, for tests and metrics. */
  get bufferedToClient(): number {
    return this.#ws.bufferedAmount
  }

  /** Client bytes held by the relay: not yet dialed, or queued on the TCP socket. */
  get bufferedToUpstream(): number {
    return this.#pendingBytes + (this.#upstream?.writableLength ?? 0)
  }

  get isClientPaused(): boolean {
    return this.#ws.isPaused
  }

  /** Sends a ping, or terminates the session if the last ping went unanswered. */
  heartbeat(): void {
    if (!this.isAlive) {
      this.#deps.logger.log('info', 'peer missed a ping, terminating', { session: this.info.id })
      this.#ws.terminate()
      this.#teardown()
      return
    }
    this.isAlive = false
    this.#ws.ping()
  }

  /** Closes the WebSocket with `code` and drops the upstream. */
  close(code: number, reason: string): void {
    if (this.#state === 'closed') return
    this.#deps.logger.log('info', 'session closing', { session: this.info.id, code, reason })
    this.#deps.metrics.closed(code)
    if (code === CloseCode.policy) this.#deps.metrics.deny(reason)
    this.#ws.close(code, reason)
    this.#teardown()
    // A paused socket (backpressure) would never read the client's answering close frame, and the close
    // would then wait for ws's 30 s close timeout while the client's close() hangs.
    if (this.#ws.isPaused) this.#ws.resume()
  }

  #onClientData(data: Buffer, isBinary: boolean) {
    if (this.#state === 'closed') return
    if (!isBinary) return this.close(CloseCode.unsupportedData, CloseReason.textFrame)
    this.lastActivity = Date.now()
    this.#deps.metrics.bytesToUpstream += data.length
    if (this.#state === 'open') return this.#writeUpstream(data)
    this.#pending.push(data)
    this.#pendingBytes += data.length
    if (this.#pendingBytes > this.#deps.config.highWaterMark && !this.#ws.isPaused) this.#ws.pause()
    if (this.#state === 'startup') this.#classify()
  }

  #classify() {
    const head = Buffer.concat(this.#pending, Math.min(this.#pendingBytes, 8))
    const packet = classifyFirstPacket(head)
    if (packet.kind === 'incomplete') return
    if (packet.kind === 'invalid') {
      this.#deps.logger.log('info', 'first packet is not PostgreSQL', {
        session: this.info.id,
        why: packet.reason,
      })
      return this.close(CloseCode.policy, CloseReason.denied)
    }
    this.#state = 'dialing'
    clearTimeout(this.#timers.shift())
    void this.#dial()
  }

  async #dial() {
    const { dial, config, metrics, logger } = this.#deps
    const started = performance.now()
    let socket: Socket
    try {
      socket = await dial(this.info.dial, config.connectTimeout)
    } catch (error) {
      metrics.dialFailures++
      logger.log('warn', 'upstream unavailable', {
        session: this.info.id,
        target: this.info.target,
        error: (error as Error).message,
      })
      return this.close(CloseCode.upstreamUnavailable, CloseReason.upstreamUnavailable)
    }
    metrics.dialed((performance.now() - started) / 1000)
    if (this.#state === 'closed') {
      socket.destroy()
      return
    }
    this.#upstream = socket
    this.#state = 'open'
    socket.setKeepAlive(true, 60_000)
    socket.on('data', (chunk: Buffer) => this.#onUpstreamData(chunk))
    socket.on('error', (error) => {
      logger.log('info', 'upstream error', { session: this.info.id, error: error.message })
      this.close(CloseCode.upstreamUnavailable, CloseReason.upstreamClosed)
    })
    socket.on('close', () => this.close(CloseCode.normal, CloseReason.upstreamClosed))
    socket.on('drain', () => {
      if (this.#ws.isPaused) this.#ws.resume()
    })
    const pending = this.#pending
    this.#pending = []
    this.#pendingBytes = 0
    for (const chunk of pending) this.#writeUpstream(chunk)
  }

  #writeUpstream(data: Buffer) {
    const upstream = this.#upstream!
    if (upstream.destroyed) return
    if (!upstream.write(data) && !this.#ws.isPaused) this.#ws.pause()
  }

  #onUpstreamData(chunk: Buffer) {
    this.lastActivity = Date.now()
    this.#deps.metrics.bytesToClient += chunk.length
    // A write callback per frame costs a closure and a tick on the hot path; only frames sent while the
    // upstream is paused need one. The callback of the last such frame runs once everything before it is
    // flushed, so one of them always sees the buffer drained and resumes.
    if (
      !this.#isUpstreamPaused &&
      this.#ws.bufferedAmount + chunk.length <= this.#deps.config.highWaterMark
    ) {
      this.#ws.send(chunk, BINARY)
      return
    }
    if (!this.#isUpstreamPaused) {
      this.#isUpstreamPaused = true
      this.#upstream?.pause()
    }
    this.#ws.send(chunk, BINARY, this.#maybeResumeUpstream)
  }

  readonly #maybeResumeUpstream = () => {
    if (this.#isUpstreamPaused && this.#ws.bufferedAmount <= this.#deps.config.highWaterMark / 2) {
      this.#isUpstreamPaused = false
      this.#upstream?.resume()
    }
  }

  #teardown() {
    if (this.#state === 'closed') return
    this.#state = 'closed'
    for (const timer of this.#timers) clearTimeout(timer)
    this.#timers = []
    this.#pending = []
    this.#upstream?.destroy()
    this.#deps.metrics.openSessions--
    this.info.onClose()
  }
}
