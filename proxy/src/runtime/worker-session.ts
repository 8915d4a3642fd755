/**
 * The Worker adapters of the relay session ({@link RelaySession}, ../session-core.ts): the server end of a
 * `WebSocketPair` as the {@link ClientEnd}, a `cloudflare:sockets` socket (streams, injected as
 * {@link StreamDialer}) as the {@link UpstreamEnd}. Every rule is the core's; what differs is what the
 * platform lets an adapter do:
 *
 * - A Worker's WebSocket cannot be paused: the core bounds what it holds for the upstream
 *   ({@link MAX_HELD_UNPAUSABLE}) and closes with 1009 past it.
 * - It cannot ping, so traffic either way is the core's only sign of life for the idle timeout.
 * - workerd does not report `bufferedAmount` (workerd#988): when a runtime does, the adapter passes it on
 *   and the core pauses PostgreSQL while the client is behind; until then sends are not paced.
 * - The upstream is read one chunk at a time and only while not paused; writes are counted until the
 *   socket's writer accepts them, so the core sees the upstream's buffer as on Node.
 */
import { CloseCode } from '@edgepg/shared'
import {
  type ClientEnd,
  livenessTick,
  MAX_HELD_UNPAUSABLE,
  messageOf,
  RelaySession,
  type SessionDeps,
  type SessionInfo,
  safely,
  type UpstreamEnd,
} from '../session-core.ts'

export { MAX_HELD_UNPAUSABLE as MAX_HELD_TO_UPSTREAM }

/** The parts of a `cloudflare:sockets` Socket the session uses. */
export interface StreamSocket {
  readonly readable: ReadableStream<Uint8Array>
  readonly writable: WritableStream<Uint8Array>
  readonly opened: Promise<unknown>
  close(): Promise<void>
}

/** Opens the socket to PostgreSQL (the Worker entry passes `cloudflare:sockets`' `connect`). */
export type StreamDialer = (target: { host: string; port: number }) => StreamSocket

export interface WorkerSessionDeps extends Omit<SessionDeps, 'openUpstream'> {
  dial: StreamDialer
}

/** How often a Worker session checks liveness: a Worker has no relay-wide sweep. */
export const WORKER_TICK_MS = 30_000

/** The server end of a `WebSocketPair` (already accepted) as the session's client end. */
export function webSocketClientEnd(ws: WebSocket): ClientEnd {
  const reported = () => {
    const amount = (ws as { bufferedAmount?: unknown }).bufferedAmount
    return typeof amount === 'number' ? amount : undefined
  }
  return {
    send(bytes, onWritten) {
      // Socket reads are never shared memory; the WebWorker typing wants that said.
      ws.send(bytes as Uint8Array<ArrayBuffer>)
      // The core asks for a callback only when bufferedAmount is reported: poll it, as there is no event.
      if (onWritten) {
        const poll = () => {
          if ((reported() ?? 0) === 0) onWritten()
          else if (ws.readyState === WebSocket.OPEN) setTimeout(poll, 5)
        }
        setTimeout(poll, 5)
      }
    },
    get bufferedAmount() {
      return reported()
    },
    canPause: false,
    pause() {},
    resume() {},
    isPaused: false,
    canPing: false,
    ping() {},
    get isClosed() {
      return ws.readyState === WebSocket.CLOSED
    },
    close: (code, reason) => ws.close(code, reason),
    terminate: () => ws.close(CloseCode.goingAway),
  }
}

/** A `cloudflare:sockets` socket (opened) as the session's upstream end. */
export function streamUpstream(socket: StreamSocket, highWaterMark: number): UpstreamEnd {
  const writer = socket.writable.getWriter()
  let queued = 0
  let isOverMark = false
  let isPaused = false
  let resumeReading: (() => void) | undefined
  let isClosed = false
  let events: Parameters<UpstreamEnd['start']>[0] | undefined
  const readLoop = async (reader: ReadableStreamDefaultReader<Uint8Array>) => {
    try {
      while (!isClosed) {
        if (isPaused) await new Promise<void>((resolve) => (resumeReading = resolve))
        if (isClosed) return
        const { done, value } = await reader.read()
        if (done) return events!.end()
        if (!isClosed) events!.data(value)
      }
    } catch (error) {
      if (!isClosed) events!.error(error)
    }
  }
  return {
    start(handlers) {
      events = handlers
      void readLoop(socket.readable.getReader())
    },
    write(bytes) {
      queued += bytes.length
      writer.write(bytes).then(
        () => {
          queued -= bytes.length
          if (isOverMark && queued <= highWaterMark / 2) {
            isOverMark = false
            events?.drain()
          }
        },
        (error: unknown) => {
          if (!isClosed) events?.error(error)
        },
      )
      if (queued > highWaterMark) isOverMark = true
      return !isOverMark
    },
    get bufferedAmount() {
      return queued
    },
    pause() {
      isPaused = true
    },
    resume() {
      isPaused = false
      resumeReading?.()
      resumeReading = undefined
    },
    close() {
      if (isClosed) return
      isClosed = true
      resumeReading?.()
      socket.close().catch(() => {})
    },
  }
}

/** Opens `dial(target)` and waits for it within `timeoutMs`. */
function openStream(dial: StreamDialer, highWaterMark: number) {
  return async (target: { host: string; port: number }, timeoutMs: number): Promise<UpstreamEnd> => {
    let socket: StreamSocket | undefined
    let timer: ReturnType<typeof setTimeout> | undefined
    try {
      socket = dial(target)
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`connect timed out after ${timeoutMs} ms`)), timeoutMs)
      })
      await Promise.race([socket.opened, deadline])
      return streamUpstream(socket, highWaterMark)
    } catch (error) {
      socket?.close().catch(() => {})
      throw new Error(messageOf(error))
    } finally {
      clearTimeout(timer)
    }
  }
}

/** Relays `ws` (a `WebSocketPair` server end, already accepted) to PostgreSQL through the session core. */
export function startWorkerSession(ws: WebSocket, info: SessionInfo, deps: WorkerSessionDeps): RelaySession {
  const { dial, ...rest } = deps
  const ticker = setInterval(() => session.tick(), Math.min(livenessTick(deps.config), WORKER_TICK_MS))
  const session: RelaySession = new RelaySession(
    webSocketClientEnd(ws),
    {
      ...info,
      onClose: () => {
        clearInterval(ticker)
        info.onClose()
      },
    },
    { ...rest, openUpstream: openStream(dial, deps.config.highWaterMark) },
  )
  ws.addEventListener('message', (event) => {
    const data = event.data
    if (data instanceof ArrayBuffer) session.receive(new Uint8Array(data), true)
    else session.receive(new Uint8Array(0), false)
  })
  ws.addEventListener('close', () => {
    session.clientGone()
    // Answer the client's close frame (runtimes that do not reply on their own).
    safely(() => ws.close(CloseCode.normal))
  })
  ws.addEventListener('error', () => session.clientGone())
  return session
}
