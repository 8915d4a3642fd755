/**
 * What a runtime gives the runtime-neutral session core (./session-core.ts): the two ends of a relay session
 * as the core sees them, the session's identity and dependencies, and the helpers the core shares with the
 * adapters. Each runtime implements the ends in a thin adapter: Node in ./session.ts (`ws`, `node:net`), the
 * Worker in ./runtime/worker-session.ts (`WebSocketPair`, `cloudflare:sockets`).
 */
import type { RelayConfig } from './config.ts'
import type { Logger } from './log.ts'
import type { RelayMetrics } from './metrics.ts'

/** The client's WebSocket, as the session core sees it. */
export interface ClientEnd {
  /**
   * Sends one binary message. `onWritten`, when given, runs once the runtime has written it (and everything
   * before it) out, so that {@link bufferedAmount} has dropped accordingly.
   */
  send(bytes: Uint8Array, onWritten?: () => void): void
  /** Bytes handed to `send` and not yet written out; `undefined` when the runtime cannot tell. */
  readonly bufferedAmount: number | undefined
  /** Whether {@link pause} stops reading the client (false: messages keep arriving). */
  readonly canPause: boolean
  pause(): void
  resume(): void
  readonly isPaused: boolean
  /** Whether {@link ping} sends a WebSocket ping the client must answer with a pong. */
  readonly canPing: boolean
  ping(): void
  /**
   * Whether the connection is fully closed (the closing handshake done, or the socket gone); `undefined` when
   * the runtime cannot tell.
   */
  readonly isClosed?: boolean
  /** Starts the closing handshake. */
  close(code: number, reason: string): void
  /** Drops the connection at once, without a closing handshake. */
  terminate(): void
}

/** What the upstream adapter reports. */
export interface UpstreamEvents {
  /**
   * Bytes from PostgreSQL. `written`, when given, lends `chunk`: its bytes stay valid until the session
   * calls `written` — once, after the client end has written them out, or when it drops them unsent.
   */
  data(chunk: Uint8Array, written?: () => void): void
  /** The upstream's write buffer has drained below its high-water mark after a `write` returned false. */
  drain(): void
  /** PostgreSQL closed the connection. */
  end(): void
  error(error: unknown): void
}

/** The socket to PostgreSQL, as the session core sees it. */
export interface UpstreamEnd {
  /** Starts delivering events; called once, when the session takes the socket. */
  start(events: UpstreamEvents): void
  /** Queues bytes; false when the buffer is past its high-water mark (a `drain` event follows). */
  write(bytes: Uint8Array): boolean
  /** Bytes queued and not yet written to the kernel. */
  readonly bufferedAmount: number
  /** Stops reading from PostgreSQL (TCP backpressure then reaches the server). */
  pause(): void
  resume(): void
  close(): void
}

/** Opens the socket to PostgreSQL within `timeoutMs`; rejects when it cannot. */
export type OpenUpstream = (target: { host: string; port: number }, timeoutMs: number) => Promise<UpstreamEnd>

/** Runs `run`, ignoring a throw: for cleanup whose failure must not stop the rest of the cleanup. */
export function safely(run: () => unknown): void {
  try {
    run()
  } catch {
    // Cleanup of something already broken.
  }
}

/** An error's message, for logs; never the error object (it may carry a request or bytes). */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/**
 * How often sessions check liveness: every `pingInterval`, and at least twice per `idleTimeout` so that a
 * client answering pings is always heard from well within it.
 */
export function livenessTick(config: Pick<RelayConfig, 'pingInterval' | 'idleTimeout'>): number {
  return Math.max(1, Math.min(config.pingInterval, Math.floor(config.idleTimeout / 2)))
}

/** Client bytes held for a client that cannot be paused, past which the session closes with 1009. */
export const MAX_HELD_UNPAUSABLE = 16 * 1024 * 1024

export interface SessionInfo {
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

export interface SessionDeps {
  config: RelayConfig
  metrics: RelayMetrics
  logger: Logger
  openUpstream: OpenUpstream
}

/** The first `count` bytes of `chunks` (which hold at least that many), in one array. */
export function firstBytes(chunks: readonly Uint8Array[], count: number): Uint8Array {
  const head = new Uint8Array(count)
  let offset = 0
  for (const chunk of chunks) {
    if (offset === head.length) break
    const take = chunk.subarray(0, head.length - offset)
    head.set(take, offset)
    offset += take.length
  }
  return head
}
