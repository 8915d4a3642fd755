/**
 * One relayed session in a Worker: the server end of a `WebSocketPair` on one side, a socket opened by
 * `cloudflare:sockets` on the other (streams, injected as {@link StreamDialer}). The same rules as the Node
 * session ({@link RelaySession}):
 *
 * - Protocol pinning: nothing is dialed until the first bytes classify as a PostgreSQL startup, SSLRequest,
 *   GSSENCRequest or CancelRequest packet; anything else closes with 1008, no dial.
 * - Limits: a message over `maxPayload` closes with 1009; startup timeout, idle timeout and lifetime (config or
 *   token expiry) close with their stable reasons.
 * - Buffering: a Worker's WebSocket has no `bufferedAmount` and cannot be paused. PostgreSQL → client is read
 *   one chunk at a time and handed to the runtime's send queue; client → PostgreSQL bytes waiting for the
 *   socket are bounded by {@link MAX_HELD_TO_UPSTREAM}, past which the session closes with 1009 instead of
 *   growing memory.
 * - Pings are answered by the runtime; a Worker cannot send its own.
 */
import { CloseCode, CloseReason, classifyFirstPacket } from '@edgepg/shared'
import type { RelayConfig } from '../config.ts'
import type { Logger } from '../log.ts'
import type { RelayMetrics } from '../metrics.ts'

/** The parts of a `cloudflare:sockets` Socket the session uses. */
export interface StreamSocket {
  readonly readable: ReadableStream<Uint8Array>
  readonly writable: WritableStream<Uint8Array>
  readonly opened: Promise<unknown>
  close(): Promise<void>
}

/** Opens the socket to PostgreSQL (the Worker entry passes `cloudflare:sockets`' `connect`). */
export type StreamDialer = (target: { host: string; port: number }) => StreamSocket

/** Client bytes held while the socket to PostgreSQL catches up; a Worker has 128 MB for everything. */
export const MAX_HELD_TO_UPSTREAM = 16 * 1024 * 1024

export interface WorkerSessionInfo {
  id: string
  ip: string
  /** The target's configured name or `host:port`, for logs. */
  target: string
  dial: { host: string; port: number }
  /** When the token that admitted the session expires (ms since epoch). */
  expiresAt?: number | undefined
  /** Called once when the session has closed. */
  onClose(): void
}

export interface WorkerSessionDeps {
  config: RelayConfig
  metrics: RelayMetrics
  logger: Logger
  dial: StreamDialer
}

type State = 'startup' | 'dialing' | 'open' | 'closed'

export class WorkerSession {
  readonly info: WorkerSessionInfo
  #state: State = 'startup'
  readonly #ws: WebSocket
  readonly #deps: WorkerSessionDeps
  #upstream: StreamSocket | undefined
  #writer: WritableStreamDefaultWriter<Uint8Array> | undefined
  /** Client bytes not yet written to PostgreSQL: held before the dial, or queued on the writer. */
  #pending: Uint8Array[] = []
  #held = 0
  #lastActivity = Date.now()
  #timers: ReturnType<typeof setTimeout>[] = []
  #idle: ReturnType<typeof setInterval> | undefined

  /** Takes over `ws`, which must already be accepted. */
  constructor(ws: WebSocket, info: WorkerSessionInfo, deps: WorkerSessionDeps) {
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
    this.#idle = setInterval(
      () => {
        if (Date.now() - this.#lastActivity > config.idleTimeout)
          this.close(CloseCode.goingAway, CloseReason.idle)
      },
      Math.min(config.idleTimeout, 30_000),
    )
    ws.addEventListener('message', (event) => this.#onClientData(event.data))
    ws.addEventListener('close', () => {
      this.#teardown()
      try {
        // Answer the client's close frame (runtimes that do not reply on their own).
        ws.close(CloseCode.normal)
      } catch {
        // Already answered.
      }
    })
    ws.addEventListener('error', () => this.#teardown())
    deps.metrics.openSessions++
    deps.metrics.sessionsTotal++
  }

  get state(): State {
    return this.#state
  }

  /** Closes the WebSocket with `code` and drops the upstream. */
  close(code: number, reason: string): void {
    if (this.#state === 'closed') return
    this.#deps.logger.log('info', 'session closing', { session: this.info.id, code, reason })
    this.#deps.metrics.closed(code)
    if (code === CloseCode.policy) this.#deps.metrics.deny(reason)
    try {
      this.#ws.close(code, reason)
    } catch {
      // Already closing.
    }
    this.#teardown()
  }

  #onClientData(data: unknown) {
    if (this.#state === 'closed') return
    if (!(data instanceof ArrayBuffer)) return this.close(CloseCode.unsupportedData, CloseReason.textFrame)
    if (data.byteLength > this.#deps.config.maxPayload)
      return this.close(CloseCode.tooBig, CloseReason.tooBig)
    this.#lastActivity = Date.now()
    this.#deps.metrics.bytesToUpstream += data.byteLength
    const bytes = new Uint8Array(data)
    if (this.#held + bytes.length > MAX_HELD_TO_UPSTREAM)
      return this.close(CloseCode.tooBig, CloseReason.tooBig)
    if (this.#state === 'open') return this.#writeUpstream(bytes)
    this.#pending.push(bytes)
    this.#held += bytes.length
    if (this.#state === 'startup') this.#classify()
  }

  #classify() {
    const head = new Uint8Array(Math.min(this.#held, 8))
    let offset = 0
    for (const chunk of this.#pending) {
      if (offset === head.length) break
      const take = chunk.subarray(0, head.length - offset)
      head.set(take, offset)
      offset += take.length
    }
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
    let socket: StreamSocket | undefined
    let timer: ReturnType<typeof setTimeout> | undefined
    try {
      socket = dial(this.info.dial)
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`connect timed out after ${config.connectTimeout} ms`)),
          config.connectTimeout,
        )
      })
      await Promise.race([socket.opened, deadline])
    } catch (error) {
      socket?.close().catch(() => {})
      metrics.dialFailures++
      logger.log('warn', 'upstream unavailable', {
        session: this.info.id,
        target: this.info.target,
        error: error instanceof Error ? error.message : String(error),
      })
      return this.close(CloseCode.upstreamUnavailable, CloseReason.upstreamUnavailable)
    } finally {
      clearTimeout(timer)
    }
    metrics.dialed((performance.now() - started) / 1000)
    if (this.#state === 'closed') {
      socket.close().catch(() => {})
      return
    }
    this.#upstream = socket
    this.#writer = socket.writable.getWriter()
    this.#state = 'open'
    const pending = this.#pending
    this.#pending = []
    this.#held = 0
    for (const chunk of pending) this.#writeUpstream(chunk)
    void this.#pipeToClient(socket.readable.getReader())
  }

  #writeUpstream(bytes: Uint8Array) {
    this.#held += bytes.length
    this.#writer!.write(bytes).then(
      () => {
        this.#held -= bytes.length
      },
      () => this.close(CloseCode.upstreamUnavailable, CloseReason.upstreamClosed),
    )
  }

  /** PostgreSQL → client, one read at a time: TCP backpressure reaches PostgreSQL when the client is slow. */
  async #pipeToClient(reader: ReadableStreamDefaultReader<Uint8Array>) {
    try {
      while (this.#state === 'open') {
        const { done, value } = await reader.read()
        if (done) return this.close(CloseCode.normal, CloseReason.upstreamClosed)
        if (this.#state !== 'open') return
        this.#lastActivity = Date.now()
        this.#deps.metrics.bytesToClient += value.length
        // Socket reads are never shared memory; the WebWorker typing wants that said.
        this.#ws.send(value as Uint8Array<ArrayBuffer>)
      }
    } catch (error) {
      this.#deps.logger.log('info', 'upstream error', {
        session: this.info.id,
        error: error instanceof Error ? error.message : String(error),
      })
      this.close(CloseCode.upstreamUnavailable, CloseReason.upstreamClosed)
    }
  }

  #teardown() {
    if (this.#state === 'closed') return
    this.#state = 'closed'
    for (const timer of this.#timers) clearTimeout(timer)
    this.#timers = []
    clearInterval(this.#idle)
    this.#pending = []
    this.#held = 0
    this.#upstream?.close().catch(() => {})
    this.#deps.metrics.openSessions--
    this.info.onClose()
  }
}
