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
import type { Notification, NotificationsOptions, SideChannelEvents } from './notifications.ts'

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

  /**
   * Listens to notices, notifications, parameter changes, or `error`: what a listener threw (see
   * {@link ConnectionEvents}). A listener that throws never harms the connection. Returns a function that
   * removes the listener.
   *
   * @example
   * ```ts
   * connection.on('notification', (n) => handle(n.payload))
   * connection.on('error', (error) => log.error(error, error.cause))
   * ```
   */
  on<E extends keyof ConnectionEvents>(event: E, listener: ConnectionEvents[E]): () => void {
    return this.#core.side.on(event, listener)
  }

  /**
   * An async iterator over LISTEN/NOTIFY notifications; it ends when the connection closes. It holds at most
   * `maxQueued` (1000) notifications its consumer has not read; past that it delivers those, then rejects
   * with `notification queue overflowed: N undelivered, consumer too slow` and is finished. Bad options throw.
   */
  notifications(options?: NotificationsOptions): AsyncIterableIterator<Notification> {
    return this.#core.side.iterate(options)
  }
}

/**
 * The events of a {@link Connection}. `error` receives errors no request owns — a `notice`, `notification`
 * or `parameter` listener that threw — as a `usage` PgError with what was thrown as `cause`. With no `error`
 * listener, such an error is thrown from a microtask (the runtime's uncaught-exception path: Node, Deno and
 * Bun exit unless `uncaughtException` is handled; browsers and Workers report it and go on), never into the
 * read loop.
 */
export type ConnectionEvents = SideChannelEvents
