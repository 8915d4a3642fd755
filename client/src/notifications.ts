/**
 * The connection's side channel: notices, LISTEN/NOTIFY notifications and parameter changes arrive between
 * (and during) responses and never belong to a request. Nothing here is dropped silently: notices without a
 * listener go to `console.warn`; notifications without a consumer wait in a bounded backlog, and an overflow
 * is reported once with the count lost.
 */
import type { DatabaseErrorFields, PgError } from './errors.ts'

/** A NoticeResponse: a warning or informational message from the server. */
export type Notice = DatabaseErrorFields

/** A NotificationResponse from LISTEN/NOTIFY. */
export interface Notification {
  /** Process id of the notifying backend. */
  processId: number
  channel: string
  payload: string
}

type Listeners = {
  notice: (notice: Notice) => void
  notification: (notification: Notification) => void
  parameter: (name: string, value: string) => void
}

/** @internal */
export interface SideChannel {
  notice(notice: Notice): void
  notification(notification: Notification): void
  parameter(name: string, value: string): void
  on<E extends keyof Listeners>(event: E, listener: Listeners[E]): () => void
  iterate(): AsyncIterableIterator<Notification>
  close(error: PgError | undefined): void
}

/** Notifications kept while nobody consumes them. */
const MAX_BACKLOG = 10_000

/** @internal */
export class Notifications implements SideChannel {
  readonly #listeners: { [E in keyof Listeners]: Set<Listeners[E]> } = {
    notice: new Set(),
    notification: new Set(),
    parameter: new Set(),
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
    for (const listener of this.#listeners.notice) listener(notice)
  }

  notification(message: Notification): void {
    const notification = { processId: message.processId, channel: message.channel, payload: message.payload }
    for (const listener of this.#listeners.notification) listener(notification)
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
    for (const listener of this.#listeners.parameter) listener(name, value)
  }

  on<E extends keyof Listeners>(event: E, listener: Listeners[E]): () => void {
    const set = this.#listeners[event] as Set<Listeners[E]>
    set.add(listener)
    if (event === 'notification') this.#drainBacklog((n) => (listener as Listeners['notification'])(n))
    return () => set.delete(listener)
  }

  iterate(): AsyncIterableIterator<Notification> {
    const iterator = new NotificationIterator(() => this.#iterators.delete(iterator))
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
}

class NotificationIterator implements AsyncIterableIterator<Notification> {
  readonly #queue: Notification[] = []
  readonly #waiters: { resolve(r: IteratorResult<Notification>): void; reject(e: unknown): void }[] = []
  readonly #detach: () => void
  #isDone = false
  #error: PgError | undefined

  constructor(detach: () => void) {
    this.#detach = detach
  }

  push(notification: Notification) {
    const waiter = this.#waiters.shift()
    if (waiter) waiter.resolve({ value: notification, done: false })
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
    if (this.#isDone) {
      return this.#error ? Promise.reject(this.#error) : Promise.resolve({ value: undefined, done: true })
    }
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }))
  }

  return(): Promise<IteratorResult<Notification>> {
    this.#detach()
    this.close(undefined)
    this.#queue.length = 0
    return Promise.resolve({ value: undefined, done: true })
  }

  [Symbol.asyncIterator]() {
    return this
  }
}
