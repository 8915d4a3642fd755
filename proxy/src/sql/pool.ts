/**
 * The relay's pool of authenticated PostgreSQL connections for `POST /sql`, keyed by {@link backendKey}: a
 * connection is only ever handed to a request whose key is equal to the one that opened it.
 *
 * A connection holds its slot from `open(key)` until its `run()` settled (the backend is gone; for one
 * destroyed while busy, until `ensureGone` made sure of it), so the pool never has more backends than its
 * limits, even while some open or close. Released, it is reset with
 * `DISCARD ALL` before anyone else gets it, or ended. Waiters: first come first served per key (and across
 * keys for the slots they compete for), each for at most `acquireTimeout`, at most `maxWaiting` in all.
 */
import { checkOptions, SqlPoolError, type SqlPoolOptions, type SqlPoolStats } from './pool-options.ts'
import {
  type Entry,
  type KeyState,
  type OpenedBackend,
  type PooledBackend,
  remove,
  sizeOf,
  type Waiter,
} from './pool-records.ts'

export {
  SQL_POOL_DEFAULTS,
  type SqlPoolCounts,
  SqlPoolError,
  type SqlPoolErrorCode,
  type SqlPoolOptions,
  type SqlPoolStats,
} from './pool-options.ts'
export type { OpenedBackend, PooledBackend } from './pool-records.ts'

const noop = () => {}

/**
 * A keyed pool of PostgreSQL connections. `open(key)` opens a connection for a key (the caller builds it
 * from the request that computed the key); a failed open rejects the acquire it was serving with its error
 * and is never pooled.
 *
 * @example
 * ```ts
 * const pool = new SqlPool({ maxPerKey: 10 }, () => connect(url, { transport, statementCacheSize: 0 }))
 * const backend = await pool.acquire(key, signal)
 * const result = await backend.client.query(sql, params).finally(() => pool.release(backend, true))
 * ```
 */
export class SqlPool {
  readonly #options: Readonly<Required<SqlPoolOptions>>
  readonly #open: (key: string) => Promise<OpenedBackend>
  readonly #keys = new Map<string, KeyState>()
  /** Every waiter, in arrival order (the order slots are given in across keys). */
  readonly #waiters: Waiter[] = []
  readonly #leases = new WeakMap<PooledBackend, Entry>()
  /** Connections plus opens in flight, across keys. */
  #total = 0
  /** Connections told to close whose backend is not gone yet (their slots are about to free). */
  #closing = 0
  #isClosed = false
  #seq = 0
  #drained: { promise: Promise<void>; resolve(): void } | undefined

  constructor(options: SqlPoolOptions, open: (key: string) => Promise<OpenedBackend>) {
    if (typeof open !== 'function') throw new TypeError(`open must be a function, found ${typeof open}`)
    this.#options = checkOptions(options ?? {})
    this.#open = open
  }

  /**
   * A connection for `key`: an idle one, a new one, or the next one released or opened for the key.
   * Rejects with a {@link SqlPoolError} (`pool-timeout`, `pool-full`, `pool-closed`), with `signal.reason`
   * when the signal aborts, or with the error of the open that was serving it (e.g. the server's 28P01).
   */
  acquire(key: string, signal?: AbortSignal): Promise<PooledBackend> {
    if (typeof key !== 'string')
      return Promise.reject(new TypeError(`key must be a string, found ${typeof key}`))
    if (this.#isClosed) return Promise.reject(new SqlPoolError('pool-closed', 'the sql pool is closed'))
    if (signal?.aborted) return Promise.reject(signal.reason)
    const state = this.#state(key)
    const idle = state.waiters.length === 0 ? state.idle.at(-1) : undefined
    if (idle) return Promise.resolve(this.#lease(idle))
    const { maxWaiting, acquireTimeout } = this.#options
    if (this.#waiters.length >= maxWaiting) {
      this.#forget(key)
      return Promise.reject(
        new SqlPoolError(
          'pool-full',
          `the sql pool is full: ${this.#waiters.length} requests already wait for a connection (maxWaiting ${maxWaiting})`,
        ),
      )
    }
    return new Promise<PooledBackend>((resolve, reject) => {
      const leave = () => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        remove(state.waiters, waiter)
        remove(this.#waiters, waiter)
        this.#forget(key)
      }
      const waiter: Waiter = {
        key,
        seq: this.#seq++,
        resolve: (entry) => {
          leave()
          resolve(this.#lease(entry))
        },
        reject: (error) => {
          leave()
          reject(error)
        },
      }
      const timer = setTimeout(() => waiter.reject(this.#timeoutError(state)), acquireTimeout)
      const onAbort = () => waiter.reject(signal?.reason)
      signal?.addEventListener('abort', onAbort, { once: true })
      state.waiters.push(waiter)
      this.#waiters.push(waiter)
      this.#pump()
    })
  }

  /**
   * Gives a leased connection back. With `reusable` and the server idle (no transaction open), `DISCARD ALL`
   * resets the session (settings, temporary tables, advisory locks, LISTEN, prepared statements, cursors);
   * only once it succeeded does the connection go to a waiter or the idle list. Otherwise (not reusable, in a
   * transaction, reset failed, closed) the connection is ended and its slot freed once the backend is gone.
   * Throws when `backend` is not a current lease of this pool (e.g. released twice).
   */
  release(backend: PooledBackend, reusable: boolean): void {
    const entry = this.#leases.get(backend)
    if (!entry) throw new Error('release: this backend is not leased from this sql pool (released twice?)')
    this.#leases.delete(backend)
    if (entry.state !== 'leased') return
    if (!reusable || !this.#isResettable(entry)) {
      this.#close(entry)
      return
    }
    entry.state = 'resetting'
    let reset: Promise<unknown>
    try {
      reset = entry.client.simpleQuery('DISCARD ALL', { timeout: this.#options.resetTimeout })
    } catch (error) {
      reset = Promise.reject(error)
    }
    reset.then(
      () => {
        if (entry.state !== 'resetting') return
        if (this.#isResettable(entry)) this.#handOut(entry)
        else this.#close(entry)
      },
      () => {
        if (entry.state === 'resetting') this.#close(entry)
      },
    )
  }

  /** The counts for metrics: the whole pool and per key. */
  stats(): SqlPoolStats {
    const total: SqlPoolStats = { size: 0, idle: 0, inUse: 0, waiting: 0, perKey: new Map() }
    for (const [key, state] of this.#keys) {
      let inUse = 0
      for (const entry of state.entries) if (entry.state === 'leased') inUse++
      const counts = { size: sizeOf(state), idle: state.idle.length, inUse, waiting: state.waiters.length }
      total.perKey.set(key, counts)
      for (const name of ['size', 'idle', 'inUse', 'waiting'] as const) total[name] += counts[name]
    }
    return total
  }

  /**
   * Closes the pool: waiters reject with `pool-closed`, every connection (leased ones too: requests already
   * sent still get their answers) is ended, opens in flight are ended when they finish. Resolves once every
   * backend is gone. Later acquires reject.
   */
  close(): Promise<void> {
    if (!this.#isClosed) {
      this.#isClosed = true
      const error = new SqlPoolError('pool-closed', 'the sql pool was closed while this request waited')
      for (const waiter of [...this.#waiters]) waiter.reject(error)
      for (const state of [...this.#keys.values()]) for (const entry of [...state.entries]) this.#close(entry)
    }
    if (this.#total === 0) return Promise.resolve()
    if (!this.#drained) {
      let resolve!: () => void
      this.#drained = { promise: new Promise<void>((done) => (resolve = done)), resolve: () => resolve() }
    }
    return this.#drained.promise
  }

  #state(key: string): KeyState {
    let state = this.#keys.get(key)
    if (!state) {
      state = { entries: new Set(), idle: [], waiters: [], opening: 0 }
      this.#keys.set(key, state)
    }
    return state
  }

  /** Drops the bookkeeping of a key that has nothing left. */
  #forget(key: string): void {
    const state = this.#keys.get(key)
    if (state && state.entries.size === 0 && state.opening === 0 && state.waiters.length === 0) {
      this.#keys.delete(key)
    }
  }

  #lease(entry: Entry): PooledBackend {
    this.#unidle(entry)
    entry.state = 'leased'
    const backend: PooledBackend = { client: entry.client, connection: entry.connection, key: entry.key }
    this.#leases.set(backend, entry)
    return backend
  }

  #isResettable(entry: Entry): boolean {
    return !this.#isClosed && !entry.client.isClosed && entry.client.transactionStatus === 'idle'
  }

  /**
   * The waiters that need a new connection and whose key has room for one, oldest first: a key's waiters
   * beyond its opens in flight, at most up to `maxPerKey`.
   */
  #needingSlots(): Waiter[] {
    const budgets = new Map<string, { covered: number; room: number }>()
    const needing: Waiter[] = []
    for (const waiter of this.#waiters) {
      let budget = budgets.get(waiter.key)
      if (!budget) {
        const state = this.#keys.get(waiter.key)!
        const size = sizeOf(state)
        budget = { covered: state.opening, room: this.#options.maxPerKey - size }
        budgets.set(waiter.key, budget)
      }
      if (budget.covered > 0) budget.covered--
      else if (budget.room > 0) {
        budget.room--
        needing.push(waiter)
      }
    }
    return needing
  }

  /**
   * Opens connections for the waiters that need one while the pool is under `maxTotal`; for those held back
   * by `maxTotal` alone, idle connections of other keys close, the least recently used first.
   */
  #pump(): void {
    if (this.#isClosed) return
    const needing = this.#needingSlots()
    let opened = 0
    while (opened < needing.length && this.#total < this.#options.maxTotal) {
      const { key } = needing[opened++]!
      this.#startOpen(key, this.#keys.get(key)!)
    }
    while (this.#closing < needing.length - opened) {
      const victim = this.#leastRecentlyUsedIdle()
      if (!victim) break
      this.#close(victim)
    }
  }

  #leastRecentlyUsedIdle(): Entry | undefined {
    let victim: Entry | undefined
    let since = Number.POSITIVE_INFINITY
    for (const state of this.#keys.values()) {
      const entry = state.idle[0]
      if (entry && state.waiters.length === 0 && entry.idleSince < since) {
        victim = entry
        since = entry.idleSince
      }
    }
    return victim
  }

  #startOpen(key: string, state: KeyState): void {
    state.opening++
    this.#total++
    let opened: Promise<OpenedBackend>
    try {
      opened = this.#open(key)
    } catch (error) {
      opened = Promise.reject(error)
    }
    const failed = (error: unknown) => {
      state.opening--
      this.#total--
      // The open would have served the oldest waiter of the key: it gets the error, the others wait on.
      state.waiters[0]?.reject(error)
      this.#forget(key)
      this.#pump()
      this.#checkDrained()
    }
    Promise.resolve(opened).then((opened) => {
      const { client, connection } = opened ?? {}
      if (typeof client?.end !== 'function' || typeof connection?.run !== 'function') {
        return failed(new TypeError('open must resolve with the { client, connection } of connect()'))
      }
      state.opening--
      const entry: Entry = { key, client, connection, state: 'fresh', idleTimer: undefined, idleSince: 0 }
      state.entries.add(entry)
      let running: Promise<void>
      try {
        running = connection.run()
      } catch (error) {
        running = Promise.reject(error)
      }
      running
        .then(
          () => undefined,
          // Destroyed while busy: the backend may outlive the socket, and must not outlive the slot.
          () => (entry.state === 'idle' ? undefined : opened.ensureGone?.()),
        )
        .catch(noop)
        .then(() => this.#gone(entry))
      if (this.#isClosed) this.#close(entry)
      else this.#handOut(entry)
    }, failed)
  }

  /**
   * A ready connection goes to the oldest waiter of its key, or idles. When the pool is full and older
   * waiters of a key with fewer connections (none, or at least two fewer) wait for a slot, more of them
   * than slots are about to free, it closes instead: its slot goes to them. So a busy key cannot starve the
   * others, and slots move towards an even share without bouncing between keys.
   */
  #handOut(entry: Entry): void {
    const state = this.#keys.get(entry.key)!
    const waiter = state.waiters[0]
    if (this.#total >= this.#options.maxTotal) {
      const before = waiter?.seq ?? Number.POSITIVE_INFINITY
      const mine = sizeOf(state)
      let starved = 0
      for (const other of this.#needingSlots()) {
        if (other.key === entry.key || other.seq > before) continue
        const theirs = sizeOf(this.#keys.get(other.key)!)
        if (theirs === 0 || theirs + 1 < mine) starved++
      }
      if (starved > this.#closing) {
        this.#close(entry)
        return
      }
    }
    if (waiter) {
      waiter.resolve(entry)
      return
    }
    entry.state = 'idle'
    state.idle.push(entry)
    entry.idleSince = performance.now()
    entry.idleTimer = setTimeout(() => this.#close(entry), this.#options.idleTimeout)
    entry.idleTimer.unref?.()
    this.#pump()
  }

  #unidle(entry: Entry): void {
    if (entry.state !== 'idle') return
    clearTimeout(entry.idleTimer)
    entry.idleTimer = undefined
    const state = this.#keys.get(entry.key)
    if (state) remove(state.idle, entry)
  }

  /** Ends a connection (Terminate, destroyed after `resetTimeout`); its slot frees in {@link #gone}. */
  #close(entry: Entry): void {
    if (entry.state === 'closing' || entry.state === 'closed') return
    this.#unidle(entry)
    entry.state = 'closing'
    this.#closing++
    try {
      entry.client.end({ timeout: this.#options.resetTimeout }).catch(noop)
    } catch {
      // end() only throws on misuse; the connection's run() settles either way once it is gone.
    }
  }

  /** The connection's `run()` settled: the backend is gone, so is its slot. */
  #gone(entry: Entry): void {
    const state = this.#keys.get(entry.key)
    if (!state?.entries.delete(entry)) return
    this.#unidle(entry)
    if (entry.state === 'closing') this.#closing--
    entry.state = 'closed'
    this.#total--
    this.#forget(entry.key)
    this.#pump()
    this.#checkDrained()
  }

  #checkDrained(): void {
    if (this.#total === 0) this.#drained?.resolve()
  }

  #timeoutError(state: KeyState): SqlPoolError {
    const { acquireTimeout, maxPerKey, maxTotal } = this.#options
    return new SqlPoolError(
      'pool-timeout',
      `no connection became free within ${acquireTimeout} ms: ${this.#waiters.length} requests were waiting ` +
        `(this key had ${sizeOf(state)} of maxPerKey ${maxPerKey} connections, ` +
        `the pool ${this.#total} of maxTotal ${maxTotal})`,
    )
  }
}
