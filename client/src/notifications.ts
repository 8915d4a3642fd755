/**
 * The connection's side channel: notices, LISTEN/NOTIFY notifications and parameter changes arrive between
 * (and during) responses and never belong to a request. Nothing here is dropped silently: notices without a
 * listener go to `console.warn`; notifications without a consumer wait in a bounded backlog, and an overflow
 * is reported once with the count lost; an iterator whose consumer falls behind ends with an error saying how
 * many it did not deliver.
 *
 * Listeners are user code called from the read loop. One that throws never reaches the loop (where it would
 * destroy the connection): the error is reported on the `error` event, or rethrown outside the read loop
 * when nobody listens to `error` (see {@link SideChannelEvents}). The other listeners and the iterators still
 * receive the message.
 */
import { type DatabaseErrorFields, type PgError, usageError } from './errors.ts'

/** A NoticeResponse: a warning or informational message from the server. */
export type Notice = DatabaseErrorFields

/** A NotificationResponse from LISTEN/NOTIFY. */
export interface Notification {
  /** Process id of the notifying backend. */
  processId: number
  channel: string
  payload: string
}

/** Options of `connection.notifications()`. */
export interface NotificationsOptions {
  /**
   * Most notifications this iterator keeps while its consumer is not reading (default
   * {@link DEFAULT_MAX_QUEUED}). When one more arrives, the iterator stops collecting: the notifications it
   * holds are still delivered, in order, then `next()` rejects with a `usage` PgError
   * (`notification queue overflowed: N undelivered …`) and the iterator is finished. Nothing is dropped
   * without that error; open a new iterator to go on (the LISTENs stay in place).
   */
  maxQueued?: number
}

/** What the side channel emits; `Connection.on()` listens to these. */
export interface SideChannelEvents {
  notice: (notice: Notice) => void
  notification: (notification: Notification) => void
  parameter: (name: string, value: string) => void
  /**
   * An error no request owns: a `notice`, `notification` or `parameter` listener that threw. It arrives as a
   * `usage` PgError naming the event, with what the listener threw as `cause`; the connection goes on.
   * Delivered in a microtask, outside the read loop. With no `error` listener the error is thrown from a
   * microtask instead — the runtime's uncaught-exception path, as an EventEmitter's unhandled `error` event:
   * Node, Deno and Bun end the process unless it handles `uncaughtException`; browsers and Workers report it
   * to the global error handler and the console, and nothing else stops. A throwing `error` listener is
   * rethrown the same way.
   */
  error: (error: PgError) => void
}

/** @internal */
export interface SideChannel {
  notice(notice: Notice): void
  notification(notification: Notification): void
  parameter(name: string, value: string): void
  on<E extends keyof SideChannelEvents>(event: E, listener: SideChannelEvents[E]): () => void
  iterate(options?: NotificationsOptions): AsyncIterableIterator<Notification>
  close(error: PgError | undefined): void
}

/** Notifications kept while nobody consumes them. */
const MAX_BACKLOG = 10_000

/** How many notifications an iterator keeps for a consumer that is not reading, unless told otherwise. */
export const DEFAULT_MAX_QUEUED = 1000

/** @internal */
export class Notifications implements SideChannel {
  readonly #listeners: { [E in keyof SideChannelEvents]: Set<SideChannelEvents[E]> } = {
    notice: new Set(),
    notification: new Set(),
    parameter: new Set(),
    error: new Set(),
  }
  readonly #backlog: Notification[] = []
  readonly #iterators = new Set<NotificationIterator>()
  #dropped = 0
  #isClosed = false
  #error: PgError | undefined

  notice(notice: Notice): void {
    if (this.#listeners.notice.size === 0) {
      console.warn(`edgepg: ${notice.severity} ${notice.code}: ${notice.message}`)
      return
    }
    for (const listener of this.#listeners.notice) this.#call('notice', () => listener(notice))
  }

  notification(message: Notification): void {
    const notification = { processId: message.processId, channel: message.channel, payload: message.payload }
    for (const listener of this.#listeners.notification)
      this.#call('notification', () => listener(notification))
    if (this.#iterators.size > 0) {
      for (const iterator of this.#iterators) iterator.push(notification)
    } else if (this.#listeners.notification.size === 0) {
      if (this.#backlog.length >= MAX_BACKLOG) {
        this.#backlog.shift()
        if (this.#dropped++ === 0) {
          console.warn(
            `edgepg: more than ${MAX_BACKLOG} notifications are waiting for a consumer; dropping the oldest`,
          )
        }
      }
      this.#backlog.push(notification)
    }
  }

  parameter(name: string, value: string): void {
    for (const listener of this.#listeners.parameter) this.#call('parameter', () => listener(name, value))
  }

  on<E extends keyof SideChannelEvents>(event: E, listener: SideChannelEvents[E]): () => void {
    if (!Object.hasOwn(this.#listeners, event)) {
      throw usageError(
        `unknown connection event "${String(event)}": expected notice, notification, parameter or error`,
      )
    }
    if (typeof listener !== 'function') {
      throw usageError(`a ${event} listener must be a function, found ${typeof listener}`)
    }
    const set = this.#listeners[event] as Set<SideChannelEvents[E]>
    set.add(listener)
    if (event === 'notification') {
      const deliver = listener as SideChannelEvents['notification']
      this.#drainBacklog((n) => this.#call('notification', () => deliver(n)))
    }
    return () => set.delete(listener)
  }

  iterate(options: NotificationsOptions = {}): AsyncIterableIterator<Notification> {
    const maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED
    if (!Number.isSafeInteger(maxQueued) || maxQueued < 1) {
      throw usageError(`maxQueued must be a positive integer, found ${String(maxQueued)}`)
    }
    const iterator = new NotificationIterator(maxQueued, () => this.#iterators.delete(iterator))
    this.#drainBacklog((n) => iterator.push(n))
    if (this.#isClosed) iterator.close(this.#error)
    else this.#iterators.add(iterator)
    return iterator
  }

  close(error: PgError | undefined): void {
    this.#isClosed = true
    this.#error = error
    for (const iterator of this.#iterators) iterator.close(error)
    this.#iterators.clear()
  }

  #drainBacklog(deliver: (notification: Notification) => void) {
    for (const notification of this.#backlog.splice(0)) deliver(notification)
  }

  /** Calls one user listener; what it throws is reported, never propagated into the read loop. */
  #call(event: 'notice' | 'notification' | 'parameter', invoke: () => void) {
    try {
      invoke()
    } catch (thrown) {
      const reason = thrown instanceof Error ? thrown.message : String(thrown)
      this.#report(usageError(`a ${event} listener threw: ${reason}`, thrown))
    }
  }

  /** Hands `error` to the `error` listeners in a microtask, or throws it there when there are none. */
  #report(error: PgError) {
    queueMicrotask(() => {
      const listeners = [...this.#listeners.error]
      if (listeners.length === 0) throw error
      for (const listener of listeners) {
        try {
          listener(error)
        } catch (thrown) {
          queueMicrotask(() => {
            throw thrown
          })
        }
      }
    })
  }
}

/** An iterator over notifications, holding at most `maxQueued` for a consumer that is not reading. */
class NotificationIterator implements AsyncIterableIterator<Notification> {
  readonly #queue: Notification[] = []
  readonly #waiters: { resolve(r: IteratorResult<Notification>): void; reject(e: unknown): void }[] = []
  readonly #maxQueued: number
  readonly #detach: () => void
  /** Notifications that arrived after the queue was full: set once it overflowed. */
  #undelivered: number | undefined
  #isDone = false
  #error: PgError | undefined

  constructor(maxQueued: number, detach: () => void) {
    this.#maxQueued = maxQueued
    this.#detach = detach
  }

  push(notification: Notification) {
    const waiter = this.#waiters.shift()
    if (waiter) waiter.resolve({ value: notification, done: false })
    else if (this.#undelivered !== undefined) this.#undelivered++
    else if (this.#queue.length >= this.#maxQueued) this.#undelivered = 1
    else this.#queue.push(notification)
  }

  close(error: PgError | undefined) {
    this.#isDone = true
    this.#error = error
    for (const waiter of this.#waiters.splice(0)) {
      if (error) waiter.reject(error)
      else waiter.resolve({ value: undefined, done: true })
    }
  }

  next(): Promise<IteratorResult<Notification>> {
    const value = this.#queue.shift()
    if (value) return Promise.resolve({ value, done: false })
    if (this.#undelivered !== undefined) this.#overflow(this.#undelivered)
    if (this.#isDone) {
      return this.#error ? Promise.reject(this.#error) : Promise.resolve({ value: undefined, done: true })
    }
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }))
  }

  return(): Promise<IteratorResult<Notification>> {
    this.#detach()
    this.close(undefined)
    this.#queue.length = 0
    this.#undelivered = undefined
    return Promise.resolve({ value: undefined, done: true })
  }

  [Symbol.asyncIterator]() {
    return this
  }

  /**
   * Every held notification was delivered: finish with the overflow error (it wins over a close that came
   * later, whose error becomes its cause: the loss is what the consumer must learn).
   */
  #overflow(undelivered: number) {
    this.#undelivered = undefined
    this.#detach()
    this.#isDone = true
    this.#error = usageError(
      `notification queue overflowed: ${undelivered} undelivered, consumer too slow ` +
        `(more than maxQueued = ${this.#maxQueued} were waiting; open a new iterator to go on)`,
      this.#error,
    )
  }
}
