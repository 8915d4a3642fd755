/**
 * The Node adapters of the relay session ({@link RelaySession}, ./session-core.ts): a `ws` WebSocket as the
 * {@link ClientEnd}, a `node:net` socket as the {@link UpstreamEnd}. They translate events and nothing else;
 * every rule (pinning, limits, liveness, backpressure, close codes) is the core's.
 */
import { connect, type Socket } from 'node:net'
import type { WebSocket } from 'ws'
import {
  type ClientEnd,
  RelaySession,
  type SessionDeps,
  type SessionInfo,
  safely,
  type UpstreamEnd,
} from './session-core.ts'

export { RelaySession, type SessionInfo } from './session-core.ts'

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

export interface NodeSessionDeps extends Omit<SessionDeps, 'openUpstream'> {
  dial: Dialer
}

const BINARY = { binary: true } as const

/** A `ws` WebSocket as the session's client end. */
export function wsClientEnd(ws: WebSocket): ClientEnd {
  return {
    send(bytes, onWritten) {
      if (onWritten) ws.send(bytes, BINARY, () => onWritten())
      else ws.send(bytes, BINARY)
    },
    get bufferedAmount() {
      return ws.bufferedAmount
    },
    canPause: true,
    pause: () => ws.pause(),
    resume: () => ws.resume(),
    get isPaused() {
      return ws.isPaused
    },
    canPing: true,
    ping: () => ws.ping(),
    close: (code, reason) => ws.close(code, reason),
    terminate: () => ws.terminate(),
  }
}

/** A connected `node:net` socket as the session's upstream end. */
export function socketUpstream(socket: Socket): UpstreamEnd {
  return {
    start(events) {
      socket.setKeepAlive(true, 60_000)
      socket.on('data', events.data)
      socket.on('drain', events.drain)
      socket.on('error', events.error)
      socket.on('close', events.end)
    },
    write: (bytes) => socket.destroyed || socket.write(bytes),
    get bufferedAmount() {
      return socket.writableLength
    },
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    close: () => socket.destroy(),
  }
}

/** Relays `ws` (already upgraded) to PostgreSQL through the session core. */
export function startNodeSession(ws: WebSocket, info: SessionInfo, deps: NodeSessionDeps): RelaySession {
  const { dial, ...rest } = deps
  const session = new RelaySession(wsClientEnd(ws), info, {
    ...rest,
    openUpstream: async (target, timeoutMs) => socketUpstream(await dial(target, timeoutMs)),
  })
  ws.on('message', (data, isBinary) => session.receive(data as Buffer, isBinary))
  ws.on('pong', () => session.pong())
  ws.on('close', () => session.clientGone())
  ws.on('error', (error) => {
    // ws closes with 1009 (too big) or 1002 (protocol) on its own; we only record it.
    safely(() => deps.logger.log('debug', 'websocket error', { session: info.id, error: error.message }))
  })
  return session
}
