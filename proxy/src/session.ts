/**
 * The Node adapters of the relay session ({@link RelaySession}, ./session-core.ts): a `ws` WebSocket as the
 * {@link ClientEnd}, a `node:net` socket as the {@link UpstreamEnd}. They translate events and nothing else;
 * every rule (pinning, limits, liveness, backpressure, close codes) is the core's.
 */
import { connect, type OnReadOpts, type Socket } from 'node:net'
import type { WebSocket } from 'ws'
import { ReadPacing } from './read-pacing.ts'
import {
  type ClientEnd,
  RelaySession,
  type SessionDeps,
  type SessionInfo,
  type UpstreamEnd,
  type UpstreamEvents,
} from './session-core.ts'
import { ReadBlocks, UpstreamReads } from './upstream-reads.ts'

export { RelaySession, type SessionInfo } from './session-core.ts'

/**
 * Opens the TCP connection to PostgreSQL. Injected so tests can prove which addresses were dialed.
 * `options.onread`, when given, is the relay's pooled read (./upstream-reads.ts): pass it to `net.connect`
 * only when the socket you return is that one, read by nothing else (not one you wrap in TLS or read a
 * handshake from: the relay would then relay the raw bytes). A dialer that ignores it still works; its
 * socket's reads then allocate as Node's do by default.
 */
export type Dialer = (
  target: { host: string; port: number },
  timeoutMs: number,
  options?: { onread?: OnReadOpts },
) => Promise<Socket>

/** The default dialer: `net.connect` with a deadline (and the relay's pooled reads when it passes them). */
export const tcpDialer: Dialer = (target, timeoutMs, options) =>
  new Promise((resolve, reject) => {
    const socket = connect({
      host: target.host,
      port: target.port,
      noDelay: true,
      ...(options?.onread && { onread: options.onread }),
    })
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`connect timed out after ${timeoutMs} ms`))
    }, timeoutMs)
    const failed = (error: Error) => {
      clearTimeout(timer)
      reject(error)
    }
    socket.once('connect', () => {
      clearTimeout(timer)
      socket.off('error', failed)
      // Until the session listens, an error (a reset read early) must not be uncaught: it would end the
      // process. The session learns of it from the destroyed socket (SocketUpstream.start).
      socket.on('error', ignoreError)
      resolve(socket)
    })
    socket.once('error', failed)
  })

/** The 'error' listener a dialed socket keeps until the session's own (one function for every socket). */
function ignoreError(): void {}

export interface NodeSessionDeps extends Omit<SessionDeps, 'openUpstream'> {
  dial: Dialer
}

const BINARY = { binary: true } as const

/**
 * A `ws` WebSocket as the session's client end. A class, not an object of closures: an idle relay holds one
 * per session, and its methods are shared.
 */
export class WsClientEnd implements ClientEnd {
  readonly #ws: WebSocket
  readonly canPause = true
  readonly canPing = true

  constructor(ws: WebSocket) {
    this.#ws = ws
  }

  send(bytes: Uint8Array, onWritten?: () => void): void {
    // `ws` calls back with an error when the frame is not written; onWritten takes none and is called
    // either way (the bytes are done with).
    this.#ws.send(bytes, BINARY, onWritten)
  }

  get bufferedAmount(): number {
    return this.#ws.bufferedAmount
  }

  pause(): void {
    this.#ws.pause()
  }

  resume(): void {
    this.#ws.resume()
  }

  get isPaused(): boolean {
    return this.#ws.isPaused
  }

  ping(): void {
    this.#ws.ping()
  }

  get isClosed(): boolean {
    return this.#ws.readyState === this.#ws.CLOSED
  }

  close(code: number, reason: string): void {
    this.#ws.close(code, reason)
  }

  terminate(): void {
    this.#ws.terminate()
  }
}

/** A `ws` WebSocket as the session's client end. */
export function wsClientEnd(ws: WebSocket): ClientEnd {
  return new WsClientEnd(ws)
}

/**
 * A connected `node:net` socket as the session's upstream end (a class, for the same reason). With `reads`
 * (the socket was dialed with its `onread`) chunks come from the pooled reads; a socket a custom dialer
 * made without them emits 'data' as usual. Both are listened to: only one of them ever delivers.
 */
export class SocketUpstream implements UpstreamEnd {
  readonly #socket: Socket
  readonly #reads: UpstreamReads | undefined
  readonly #pacingMs: number
  /** Made with the first read when pacing is on: an idle session holds none. */
  #pacing: ReadPacing | undefined
  readonly #now: () => number
  /** Whether the session paused reading (backpressure), apart from pacing. */
  #isHeld = false
  #pacer: ReturnType<typeof setTimeout> | undefined

  /**
   * `pacingMs`: the relay's `pipelinePacing` (0: never paced, ./read-pacing.ts); `now` is the clock pacing
   * reads (tests give their own).
   */
  constructor(socket: Socket, reads?: UpstreamReads, pacingMs = 0, now = monotonicNow) {
    this.#socket = socket
    this.#reads = reads
    this.#pacingMs = pacingMs
    this.#now = now
  }

  start(events: UpstreamEvents): void {
    const socket = this.#socket
    socket.setKeepAlive(true, 60_000)
    const data = events.data
    const sink =
      this.#pacingMs > 0
        ? (chunk: Uint8Array, written?: () => void) => {
            data(chunk, written)
            this.#pacing ??= new ReadPacing()
            if (!this.#pacer && this.#pacing.afterRead(chunk.length, this.#now())) this.#startPause()
          }
        : data
    const wasStopped = this.#reads?.attach(sink) ?? false
    socket.on('data', sink)
    // Reading stopped while it waited for the session, with READ_SIZE bytes read: go on.
    if (wasStopped) socket.resume()
    socket.on('drain', events.drain)
    socket.on('error', events.error)
    socket.on('close', events.end)
    // Closed before the session took it (its end or a reset read early, by a custom dialer that took its
    // time): 'close' was emitted already. What it read came first, through attach.
    if (socket.closed) {
      const error = socket.errored
      queueMicrotask(() => (error ? events.error(error) : events.end()))
    }
  }

  /** Whether reading is stopped for pacing now. */
  get isPacing(): boolean {
    return this.#pacer !== undefined
  }

  /** Pacing pauses so far. */
  get pacingPauses(): number {
    return this.#pacing?.pauses ?? 0
  }

  #startPause() {
    if (this.#socket.destroyed) return
    this.#socket.pause()
    this.#pacer = setTimeout(endPause, this.#pacingMs, this)
  }

  /** Ends a pacing pause: reads again unless the session holds the socket. */
  endPause(): void {
    if (!this.#pacer) return
    clearTimeout(this.#pacer)
    this.#pacer = undefined
    this.#pacing?.resumed(this.#now())
    if (!this.#isHeld && !this.#socket.destroyed) this.#socket.resume()
  }

  write(bytes: Uint8Array): boolean {
    if (this.#pacing) {
      this.#pacing.clientSpoke()
      this.endPause()
    }
    return this.#socket.destroyed || this.#socket.write(bytes)
  }

  get bufferedAmount(): number {
    return this.#socket.writableLength
  }

  pause(): void {
    this.#isHeld = true
    this.#socket.pause()
  }

  resume(): void {
    this.#isHeld = false
    if (!this.#pacer) this.#socket.resume()
  }

  close(): void {
    clearTimeout(this.#pacer)
    this.#pacer = undefined
    this.#socket.destroy()
  }
}

/** The clock pacing reads by (one function for every session). */
const monotonicNow = () => performance.now()

/** The pacing timer's callback (a function, not a closure per pause). */
function endPause(upstream: SocketUpstream): void {
  upstream.endPause()
}

/** A connected `node:net` socket as the session's upstream end. */
export function socketUpstream(socket: Socket, reads?: UpstreamReads, pacingMs = 0): UpstreamEnd {
  return new SocketUpstream(socket, reads, pacingMs)
}

/**
 * The session dependencies of a relay's Node sessions, built once per relay ({@link startNodeSession} takes
 * them): every session shares one object, one upstream opener and one pool of read blocks.
 */
export function nodeSessionDeps(deps: NodeSessionDeps): SessionDeps & { readBlocks: ReadBlocks } {
  const { dial, ...rest } = deps
  const readBlocks = new ReadBlocks()
  return {
    ...rest,
    readBlocks,
    openUpstream: async (target, timeoutMs) => {
      const reads = new UpstreamReads(readBlocks)
      const socket = await dial(target, timeoutMs, { onread: reads.onread })
      return socketUpstream(socket, reads, rest.config.pipelinePacing)
    },
  }
}

/** The session a WebSocket belongs to, for the listeners shared by every session. */
const SESSION = Symbol('relay session')

type SessionSocket = WebSocket & { [SESSION]: RelaySession }

// One listener of each kind for all sessions (`this` is the WebSocket): no closures per session.
function onMessage(this: WebSocket, data: unknown, isBinary: boolean) {
  ;(this as SessionSocket)[SESSION].receive(data as Buffer, isBinary)
}
function onPong(this: WebSocket) {
  ;(this as SessionSocket)[SESSION].pong()
}
function onClose(this: WebSocket) {
  ;(this as SessionSocket)[SESSION].clientGone()
}
function onError(this: WebSocket, error: Error) {
  ;(this as SessionSocket)[SESSION].clientError(error)
}

/** Relays `ws` (already upgraded) to PostgreSQL through the session core. */
export function startNodeSession(ws: WebSocket, info: SessionInfo, deps: SessionDeps): RelaySession {
  const session = new RelaySession(new WsClientEnd(ws), info, deps)
  const socket = ws as SessionSocket
  socket[SESSION] = session
  ws.on('message', onMessage)
  ws.on('pong', onPong)
  ws.on('close', onClose)
  ws.on('error', onError)
  return session
}
