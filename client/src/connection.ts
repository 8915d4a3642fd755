/**
 * The Client / Connection contract (the design of tokio-postgres, with its famous pitfall fixed).
 *
 * `connect()` returns two handles over one {@link ConnectionCore}:
 * - the **Client** encodes requests into the core's write buffer and queues a response handler; it never
 *   touches the transport;
 * - the **Connection** owns the transport, the read loop, the FIFO of pending responses and the side channel
 *   (notices, notifications, parameter changes). `run()` drives it and settles when it ends.
 *
 * Pipelining: requests are written as soon as they are queued (all requests queued in one tick go out in one
 * write), without waiting for earlier responses. Responses come back in order, so the head of the FIFO owns
 * every message until its ReadyForQuery. Each extended-protocol request ends with its own Sync, so an error in
 * one request never fails the next.
 *
 * ```
 *  client.query(a) ─┐                       ┌─► a: ParseComplete … ReadyForQuery ─► resolve a
 *  client.query(b) ─┼─► [Parse Bind … Sync]×3 ─► PostgreSQL
 *  client.query(c) ─┘     (one write)         └─► b: …ReadyForQuery ─► resolve b, then c
 * ```
 *
 * Not driven: until `run()` is called nothing is written. A request queued meanwhile rejects after
 * `notDrivenTimeout` (1 s) with kind `not-driven`, naming `connection.run()`; nothing was sent, so the
 * connection stays usable. Never a silent hang.
 *
 * Death: when the transport fails, the server ends the stream, or the bytes are not valid protocol, every
 * pending and every later request rejects at once with the cause, and `run()` rejects with it. A FATAL
 * ErrorResponse rejects the request that received it with that `DatabaseError`.
 *
 * Shutdown: `end()` sends Terminate after everything already queued; in-flight requests still receive their
 * responses (the server answers them before it reads Terminate), then the stream closes and `run()` resolves.
 */

import type { ConnectionCore, ConnectionState } from './core.ts'
import type { Notice, Notification } from './notifications.ts'

export type { ConnectionState, TransactionStatus } from './core.ts'

/**
 * The half of a connection that owns the transport. Drive it with `run()`; listen to notices, notifications
 * and parameter changes here.
 */
export class Connection {
  readonly #core: ConnectionCore

  /** @internal */
  constructor(core: ConnectionCore) {
    this.#core = core
  }

  /**
   * Drives the connection: requests are written only while it runs. Resolves when the connection ends
   * cleanly (`client.end()`), rejects with the error that killed it. Call it once; later calls return the
   * same promise. In a Worker: `ctx.waitUntil(connection.run())`.
   */
  run(): Promise<void> {
    return this.#core.run()
  }

  get state(): ConnectionState {
    return this.#core.state
  }

  /** The server's run-time parameters (ParameterStatus), e.g. `server_version`, `TimeZone`. */
  get parameters(): ReadonlyMap<string, string> {
    return this.#core.parameters
  }

  /** The backend's process id (BackendKeyData). */
  get processId(): number {
    return this.#core.processId
  }

  /** Listens to notices, notifications or parameter changes. Returns a function that removes the listener. */
  on<E extends keyof ConnectionEvents>(event: E, listener: ConnectionEvents[E]): () => void {
    return this.#core.side.on(event, listener)
  }

  /** An async iterator over LISTEN/NOTIFY notifications; it ends when the connection closes. */
  notifications(): AsyncIterableIterator<Notification> {
    return this.#core.side.iterate()
  }
}

export interface ConnectionEvents {
  notice: (notice: Notice) => void
  notification: (notification: Notification) => void
  parameter: (name: string, value: string) => void
}
