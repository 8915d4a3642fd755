/**
 * The records of the keyed pool (./pool.ts): a backend as handed out and as `open(key)` makes it, and the
 * pool's own state per connection, per waiter and per key.
 */
import type { Client, Connection } from '@edgepg/client'

/** A leased connection. Give it back exactly once with {@link SqlPool.release}. */
export interface PooledBackend {
  readonly client: Client
  readonly connection: Connection
  /** The key it was opened for. */
  readonly key: string
}

/** What `open(key)` resolves with: a connection fresh from `connect()`. The pool calls `run()` itself. */
export interface OpenedBackend {
  client: Client
  connection: Connection
  /**
   * Makes sure the backend process is gone, for a connection destroyed while it was busy (its `run()`
   * rejected while leased, resetting or closing): a statement that ignored its cancel may still run there.
   * The pool keeps the connection's slot until the promise settles, so it must settle in bounded time.
   * Not called for a connection that ended cleanly, or that died while idle.
   */
  ensureGone?(): Promise<void>
}

/** `fresh`: just opened, not handed out yet. */
export type EntryState = 'fresh' | 'leased' | 'resetting' | 'idle' | 'closing' | 'closed'

export interface Entry {
  readonly key: string
  readonly client: Client
  readonly connection: Connection
  state: EntryState
  idleTimer: ReturnType<typeof setTimeout> | undefined
  /** When it last became idle (the least recently used idle connection is evicted first). */
  idleSince: number
}

export interface Waiter {
  readonly key: string
  /** Arrival order across keys. */
  readonly seq: number
  resolve(entry: Entry): void
  reject(error: unknown): void
}

export interface KeyState {
  /** Every connection of the key until its `run()` settled. */
  readonly entries: Set<Entry>
  /** Idle connections, the most recently used last. */
  readonly idle: Entry[]
  /** This key's waiters, in arrival order. */
  readonly waiters: Waiter[]
  opening: number
}

/** Connections of a key: open, opening and closing. */
export function sizeOf(state: KeyState): number {
  return state.entries.size + state.opening
}

export function remove<T>(list: T[], item: T): void {
  const index = list.indexOf(item)
  if (index >= 0) list.splice(index, 1)
}
