/**
 * `createPool()`: up to `max` connections, opened on demand, shared two ways.
 * - `pool.query()` (and `queryOne`, `queryOpt`, `execute`, `batch`) pipelines: a call goes to the least busy
 *   connection, up to `pipeline` calls in flight on each, so a few connections serve many callers. A
 *   statement that leaves a transaction open this way destroys its connection (see `ConnectionCore.checkStatus`).
 * - `pool.connect()` leases a connection for exclusive use (transactions, session settings); `release()` gives
 *   it back, and a connection released mid-transaction or broken is closed, never handed out again.
 *
 * Timers: a waiter's `acquireTimeout` runs only while it waits; idle connections are closed by one timer
 * (unref'd where the runtime allows) and, independently, checked lazily whenever the pool is used, so no
 * correctness depends on a timer firing. In a Worker, create the pool in the request and hand
 * `pool.end()` to `ctx.waitUntil()`: nothing outlives it.
 */
import type { BatchOptions } from './batch.ts'
import { destroyAndCancel } from './cancel.ts'
import { Client } from './client.ts'
import type { ConnectionConfig } from './config.ts'
import { type ConnectOptions, openCore } from './connect.ts'
import type { ConnectionCore, TransactionStatus } from './core.ts'
import { abortedError, closedError, isPgError, timeoutError, usageError } from './errors.ts'
import { OpenBackoff } from './pool-backoff.ts'
import { PoolClient } from './pool-client.ts'
import { type PoolLimits, type PoolOptions, type PoolStats, resolvePoolOptions } from './pool-options.ts'
import { Waiters } from './pool-waiters.ts'
import type { QueryOptions } from './query.ts'
import type { QueryResult, Row } from './result.ts'
import { type RequestOptions, timeoutProblem } from './send.ts'
import type { Transaction, TransactionOptions } from './transaction.ts'

export { PoolClient } from './pool-client.ts'
export type { PoolOptions, PoolStats } from './pool-options.ts'

interface Entry {
  readonly core: ConnectionCore
  /** The pool's own client for pipelined calls; never handed out. */
  readonly client: Client
  readonly createdAt: number
  idleSince: number
  inflight: number
  /**
   * The leasing client; 'reserved' while a lease is being handed out; 'draining' once released with
   * requests still in flight (it is handed out again only after they completed, if no transaction is open).
   */
  lease: PoolClient | 'reserved' | 'draining' | undefined
}

/**
 * Creates a pool. No connection is opened until the first call.
 *
 * @example
 * ```ts
 * const pool = createPool(process.env.DATABASE_URL, { transport: nodeSocket(), max: 10 })
 * const { rows } = await pool.query('select * from users where id = $1', [id])
 * await pool.transaction(async (tx) => { await tx.execute('update stock set n = n - 1 where id = $1', [id]) })
 * const client = await pool.connect()
 * try { await client.query('set search_path to app') } finally { client.release() }
 * await pool.end()
 * ```
 */
export function createPool(config: string | ConnectionConfig, options: PoolOptions): Pool {
  return new Pool(config, options)
}

export class Pool {
  readonly #config: string | ConnectionConfig
  readonly #connectOptions: ConnectOptions
  readonly #limits: PoolLimits
  readonly #entries: Entry[] = []
  readonly #waiters = new Waiters<Entry>()
  /** Connections being opened or closed: `end()` waits for them. */
  readonly #settling = new Set<Promise<unknown>>()
  #opening = 0
  readonly #backoff: OpenBackoff
  #retry: ReturnType<typeof setTimeout> | undefined
  #reaper: ReturnType<typeof setTimeout> | undefined
  #ending: Promise<void> | undefined

  /** @internal use {@link createPool} */
  constructor(config: string | ConnectionConfig, options: PoolOptions) {
    const { limits, connectOptions } = resolvePoolOptions(options)
    this.#config = config
    this.#connectOptions = connectOptions
    this.#limits = limits
    this.#backoff = new OpenBackoff(limits.openBackoffMax)
  }

  /** Runs one statement on a pooled connection (pipelined with other callers). See `Client.query`. */
  query<R = Row>(
    statement: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<QueryResult<R>> {
    return this.#shared(options, (client) => client.query<R>(statement, params, options))
  }

  /** See `Client.queryOne`. */
  queryOne<R = Row>(statement: string, params?: readonly unknown[], options?: QueryOptions): Promise<R> {
    return this.#shared(options, (client) => client.queryOne<R>(statement, params, options))
  }

  /** See `Client.queryOpt`. */
  queryOpt<R = Row>(
    statement: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<R | null> {
    return this.#shared(options, (client) => client.queryOpt<R>(statement, params, options))
  }

  /** See `Client.execute`. */
  execute(statement: string, params?: readonly unknown[], options?: QueryOptions): Promise<number> {
    return this.#shared(options, (client) => client.execute(statement, params, options))
  }

  /**
   * See `Client.batch`: the statements in one pipeline with one Sync on a pooled connection (one implicit
   * transaction), pipelined with other callers.
   */
  batch<R = Row>(
    queries: readonly (readonly [text: string, params?: readonly unknown[]])[],
    options?: BatchOptions,
  ): Promise<QueryResult<R>[]> {
    return this.#shared(options, (client) => client.batch<R>(queries, options))
  }

  /** Runs `body` in a transaction on a leased connection: commit on return, rollback on throw. */
  async transaction<T>(body: (tx: Transaction) => Promise<T>, options?: TransactionOptions): Promise<T> {
    const client = await this.connect()
    try {
      return await client.transaction(body, options)
    } finally {
      client.release()
    }
  }

  /**
   * Leases a connection for exclusive use. Always `release()` it (in a `finally`); a client released
   * inside a transaction, or broken, is closed rather than reused.
   */
  async connect(options: { signal?: AbortSignal } = {}): Promise<PoolClient> {
    const entry = await this.#acquire(true, options.signal)
    const client = new PoolClient(entry.core, (destroy) => this.#release(entry, client, destroy))
    entry.lease = client
    return client
  }

  /** Counts of connections and waiters, for metrics. */
  get stats(): PoolStats {
    let idle = 0
    let leased = 0
    for (const entry of this.#entries) {
      if (entry.lease) leased++
      else if (entry.inflight === 0) idle++
    }
    return { size: this.#entries.length, idle, leased, opening: this.#opening, waiting: this.#waiters.length }
  }

  /** True once `end()` was called. */
  get isEnded(): boolean {
    return this.#ending !== undefined
  }

  /**
   * Refuses new calls; lets calls in flight, callers already waiting and leased clients finish (a waiter
   * still gives up at `acquireTimeout`); closes each connection as it becomes idle. Resolves when all are
   * closed. A leased client that is never released keeps it waiting, as in pg — unless `timeout` is given:
   * then, when it passes, waiters reject and every connection still open (in flight or leased) is destroyed,
   * so a graceful shutdown is bounded.
   */
  end(options?: { timeout?: number }): Promise<void> {
    if (this.#ending) return this.#ending
    const problem = timeoutProblem(options?.timeout)
    if (problem) return Promise.reject(usageError(problem))
    clearTimeout(this.#reaper)
    this.#reaper = undefined
    clearTimeout(this.#retry)
    this.#retry = undefined
    this.#ending = Promise.resolve()
    this.#serve()
    for (const entry of [...this.#entries]) if (isIdle(entry)) this.#close(entry)
    const drained = this.#drained()
    const timeout = options?.timeout
    this.#ending = timeout === undefined ? drained : this.#drainedWithin(drained, timeout)
    return this.#ending
  }

  /** `end({ timeout })`: gives up on everything still open once `timeout` passed. */
  #drainedWithin(drained: Promise<void>, timeout: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        const error = timeoutError(
          `pool.end() gave up after ${timeout} ms: connections still in use were destroyed and their statements cancelled`,
        )
        this.#waiters.rejectAll(error)
        for (const entry of this.#entries.splice(0)) destroyAndCancel(entry.core, error)
        resolve()
      }, timeout)
    })
    return Promise.race([drained, deadline]).finally(() => clearTimeout(timer))
  }

  async #drained(): Promise<void> {
    while (this.#settling.size > 0) await Promise.allSettled([...this.#settling])
  }

  #track(promise: Promise<unknown>) {
    const tracked: Promise<unknown> = promise.then(
      () => this.#settling.delete(tracked),
      () => this.#settling.delete(tracked),
    )
    this.#settling.add(tracked)
  }

  async #shared<T>(options: RequestOptions | undefined, call: (client: Client) => Promise<T>): Promise<T> {
    const entry = await this.#acquire(false, options?.signal)
    try {
      return await call(entry.client)
    } finally {
      entry.inflight--
      this.#settled(entry)
    }
  }

  /** A connection with room (reserved for the caller before this resolves), opening one when allowed. */
  #acquire(isExclusive: boolean, signal: AbortSignal | undefined): Promise<Entry> {
    if (this.#ending) return Promise.reject(usageError('pool is ended: create a new pool'))
    if (signal?.aborted) return Promise.reject(abortedError('acquire aborted', signal.reason))
    const entry = this.#pick(isExclusive)
    if (entry) return this.#checked(entry, isExclusive, signal)
    if (this.#waiters.length >= this.#limits.maxWaiting) {
      return Promise.reject(
        usageError(`pool queue is full: ${this.#waiters.length} callers already wait (maxWaiting)`),
      )
    }
    const waiting = this.#waiters.wait(
      isExclusive,
      this.#limits.acquireTimeout,
      signal,
      () =>
        `no pooled connection became available within ${this.#limits.acquireTimeout} ms ` +
        `(${this.#entries.length} open of max ${this.#limits.max}, ${this.#waiters.length} waiting)`,
      (picked) => this.#checked(picked, isExclusive, signal),
    )
    this.#grow()
    this.#track(waiting) // end() waits for the callers already queued
    return waiting
  }

  /** Runs the health check on a connection idle for long, then hands it out (or tries again). */
  async #checked(entry: Entry, isExclusive: boolean, signal: AbortSignal | undefined): Promise<Entry> {
    const after = this.#limits.healthCheckAfter
    if (after === 0 || entry.idleSince === 0 || Date.now() - entry.idleSince < after) {
      entry.idleSince = 0
      return entry
    }
    entry.idleSince = 0
    try {
      // A connection that died silently (NAT timeout, blackholed peer) fails the ping by its deadline.
      await entry.client.query('select 1', [], { timeout: Math.min(this.#limits.acquireTimeout, 5000) })
      return entry
    } catch {
      this.#unreserve(entry, isExclusive)
      this.#close(entry)
      return this.#acquire(isExclusive, signal)
    }
  }

  #unreserve(entry: Entry, isExclusive: boolean) {
    if (isExclusive) entry.lease = undefined
    else entry.inflight--
  }

  /** Picks and reserves a connection with room, closing expired idle ones on the way. */
  #pick(isExclusive: boolean): Entry | undefined {
    const now = Date.now()
    let best: Entry | undefined
    for (const entry of [...this.#entries]) {
      if (entry.lease || entry.core.state === 'closed' || entry.core.state === 'closing') continue
      if (isIdle(entry) && this.#isExpired(entry, now)) {
        this.#close(entry)
        continue
      }
      if (isExclusive ? entry.inflight > 0 : entry.inflight >= this.#limits.pipeline) continue
      if (!best || entry.inflight < best.inflight) best = entry
      if (best.inflight === 0) break
    }
    if (!best) return undefined
    if (isExclusive) {
      best.lease = 'reserved'
      best.core.checkStatus = undefined
    } else {
      best.inflight++
      best.core.checkStatus = refuseOpenTransaction
      // Busy connections and room for more: open another for the callers that follow.
      if (best.inflight > 1) this.#grow()
    }
    return best
  }

  #isExpired(entry: Entry, now: number): boolean {
    const { idleTimeout, maxLifetime } = this.#limits
    return (
      (idleTimeout > 0 && entry.idleSince > 0 && now - entry.idleSince >= idleTimeout) ||
      (maxLifetime > 0 && now - entry.createdAt >= maxLifetime)
    )
  }

  /** Opens as many connections as the waiters need, within `max`. */
  #grow() {
    const { max, pipeline } = this.#limits
    const { exclusive, shared } = this.#waiters.counts()
    const busy = this.#entries.length > 0 && this.#entries.every((entry) => entry.lease || entry.inflight > 0)
    const needed = Math.max(exclusive + Math.ceil(shared / pipeline), busy ? 1 : 0) - this.#opening
    const room = max - this.#entries.length - this.#opening
    if (Math.min(needed, room) <= 0) return
    const wait = this.#backoff.wait
    if (wait > 0) {
      this.#retryIn(wait)
      return
    }
    for (let i = 0; i < Math.min(needed, room); i++) this.#open()
  }

  /** Tries to grow again once the backoff after a failed open has passed. */
  #retryIn(wait: number) {
    if (this.#retry !== undefined || this.#ending) return
    this.#retry = setTimeout(() => {
      this.#retry = undefined
      if (this.#waiters.length > 0) this.#grow()
    }, wait)
    ;(this.#retry as { unref?: () => void }).unref?.()
  }

  #open() {
    this.#opening++
    const opening = openCore(this.#config, this.#connectOptions)
    this.#track(opening)
    opening.then(
      (core) => {
        this.#opening--
        this.#backoff.succeeded()
        const entry: Entry = {
          core,
          client: new Client(core),
          createdAt: Date.now(),
          idleSince: Date.now(),
          inflight: 0,
          lease: undefined,
        }
        this.#entries.push(entry)
        // The pool drives its connections; one that dies leaves the pool and is never handed out again.
        const done = core.run()
        this.#track(done)
        const gone = () => {
          this.#remove(entry)
          this.#serve()
        }
        done.then(gone, gone)
        this.#serve()
        if (this.#ending && isIdle(entry)) this.#close(entry)
      },
      (error: unknown) => {
        this.#opening--
        const failure = isPgError(error) ? error : closedError('could not open a pooled connection', error)
        this.#backoff.failed()
        // Nothing open: the server is unreachable for everyone waiting, not just one; later callers try
        // again once the backoff has passed.
        if (this.#entries.length === 0) {
          this.#waiters.rejectAll(failure)
        } else this.#serve()
      },
    )
  }

  /** Hands connections with room to waiters, first come first served, then opens more if needed. */
  #serve() {
    this.#waiters.serve((isExclusive) => this.#pick(isExclusive))
    if (this.#waiters.length > 0) this.#grow()
  }

  /** A pipelined call or a lease finished on `entry`. */
  #settled(entry: Entry) {
    this.#serve()
    if (!isIdle(entry)) return
    entry.idleSince = Date.now()
    if (this.#ending || this.#isExpired(entry, entry.idleSince)) this.#close(entry)
    else this.#armReaper()
  }

  /**
   * A lease came back. It is handed out again only when nothing of the old lease can reach the next one:
   * requests still in flight are waited for (then the transaction status decides); an open portal or COPY
   * (nothing the pool could finish) or an open transaction closes the connection.
   */
  #release(entry: Entry, client: PoolClient, destroy: boolean | Error | undefined) {
    if (entry.lease !== client) return
    const core = entry.core
    if (!destroy && core.hasExclusiveWork && core.state === 'running') {
      core.fail(closedError('connection destroyed: released to the pool with a stream or COPY still open'))
    }
    if (destroy || core.state !== 'running' || core.pendingCount === 0) {
      this.#returned(entry, destroy)
      return
    }
    entry.lease = 'draining'
    const drained = core.whenIdle().then(() => this.#returned(entry, false))
    this.#track(drained)
  }

  #returned(entry: Entry, destroy: boolean | Error | undefined) {
    entry.lease = undefined
    const core = entry.core
    if (destroy || core.state !== 'running' || core.transactionStatus !== 'idle') {
      this.#close(entry)
    } else {
      core.checkStatus = refuseOpenTransaction
    }
    this.#settled(entry)
  }

  #close(entry: Entry) {
    this.#remove(entry)
    if (entry.core.state !== 'closed') this.#track(entry.core.end())
  }

  #remove(entry: Entry) {
    const index = this.#entries.indexOf(entry)
    if (index >= 0) this.#entries.splice(index, 1)
  }

  #armReaper() {
    const { idleTimeout } = this.#limits
    if (idleTimeout === 0 || this.#reaper !== undefined || this.#ending) return
    this.#reaper = setTimeout(() => {
      this.#reaper = undefined
      const now = Date.now()
      for (const entry of [...this.#entries])
        if (isIdle(entry) && this.#isExpired(entry, now)) this.#close(entry)
      if (this.#entries.some(isIdle)) this.#armReaper()
    }, idleTimeout)
    // Node, Deno and Bun: an idle pool does not keep the process alive.
    ;(this.#reaper as { unref?: () => void }).unref?.()
  }
}

/** Pipelined calls behind a statement that opened a transaction would run inside it: refuse them all. */
const refuseOpenTransaction = (status: TransactionStatus) =>
  status === 'idle'
    ? undefined
    : usageError(
        'a statement run through pool.query() left a transaction open; the connection was destroyed. ' +
          'Use pool.transaction() or a client from pool.connect() for transactions',
      )

const isIdle = (entry: Entry) => entry.lease === undefined && entry.inflight === 0
