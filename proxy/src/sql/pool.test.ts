/**
 * Unit tests of the relay's SQL pool with fake connections (fault cases: opens that hang or fail, resets
 * that fail, connections that die), and of the backend key. The real-PostgreSQL behaviour is in
 * proxy/test/sql-pool.test.ts.
 */
import type { Client, Connection } from '@edgepg/client'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { type OpenedBackend, type PooledBackend, SqlPool, SqlPoolError, type SqlPoolOptions } from './pool.ts'

interface Deferred<T> {
  promise: Promise<T>
  resolve(value: T): void
  reject(error: unknown): void
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((yes, no) => {
    resolve = yes
    reject = no
  })
  return { promise, resolve, reject }
}

/** A fake connection: records its queries, ends when told, dies with `die()`. */
class FakeBackend {
  readonly queries: string[] = []
  isClosed = false
  transactionStatus: 'idle' | 'transaction' | 'failed' = 'idle'
  /** What the next `DISCARD ALL` does; resolves by default. */
  reset: () => Promise<unknown> = () => Promise.resolve([])
  endCalls = 0
  readonly running = deferred<void>()
  readonly client: Client
  readonly connection: Connection

  constructor() {
    const self = this
    this.client = {
      get isClosed() {
        return self.isClosed
      },
      get transactionStatus() {
        return self.transactionStatus
      },
      simpleQuery(sql: string) {
        self.queries.push(sql)
        return self.reset()
      },
      end() {
        self.endCalls++
        self.isClosed = true
        self.running.resolve()
        return Promise.resolve()
      },
    } as unknown as Client
    this.connection = { run: () => self.running.promise } as unknown as Connection
  }

  die(): void {
    this.isClosed = true
    this.running.reject(new Error('server closed the connection unexpectedly'))
  }

  opened(): OpenedBackend {
    return { client: this.client, connection: this.connection }
  }
}

/** A pool whose opens are held until the test settles them (`opens[i]`). */
function heldPool(options: SqlPoolOptions = {}) {
  const opens: { key: string; result: Deferred<OpenedBackend> }[] = []
  const pool = new SqlPool(options, (key) => {
    const result = deferred<OpenedBackend>()
    opens.push({ key, result })
    return result.promise
  })
  pools.push(pool)
  return { pool, opens }
}

/** A pool that opens fake backends at once; `backends` lists them in order. */
function fakePool(options: SqlPoolOptions = {}) {
  const backends: FakeBackend[] = []
  const pool = new SqlPool(options, async () => {
    const backend = new FakeBackend()
    backends.push(backend)
    return backend.opened()
  })
  pools.push(pool)
  return { pool, backends }
}

const flush = () => new Promise((resolve) => setImmediate(resolve))

let pools: SqlPool[] = []
afterEach(async () => {
  vi.useRealTimers()
  for (const pool of pools) void pool.close()
  pools = []
})

describe('SqlPool with fake connections', () => {
  it('opens in flight count against maxPerKey and maxTotal', async () => {
    const { pool, opens } = heldPool({ maxPerKey: 2, maxTotal: 3 })
    for (let i = 0; i < 5; i++) pool.acquire('a').catch(() => {})
    for (let i = 0; i < 5; i++) pool.acquire('b').catch(() => {})
    await flush()
    expect(opens.map((open) => open.key)).toEqual(['a', 'a', 'b'])
    expect(pool.stats()).toMatchObject({ size: 3, inUse: 0, waiting: 10 })
  })

  it('waiters of one key are served first come first served', async () => {
    const { pool } = fakePool({ maxPerKey: 1 })
    const first = await pool.acquire('k')
    const order: number[] = []
    const waiting = [1, 2, 3].map((n) =>
      pool.acquire('k').then((backend) => {
        order.push(n)
        pool.release(backend, true)
      }),
    )
    await flush()
    pool.release(first, true)
    await Promise.all(waiting)
    expect(order).toEqual([1, 2, 3])
  })

  it('a waiter past acquireTimeout rejects with pool-timeout saying how many waited and how long', async () => {
    vi.useFakeTimers()
    const { pool } = heldPool({ maxPerKey: 1, acquireTimeout: 250 })
    const results = [pool.acquire('k'), pool.acquire('k')].map((p) => p.catch((error: unknown) => error))
    await vi.advanceTimersByTimeAsync(250)
    const [error] = await Promise.all(results)
    expect(error).toBeInstanceOf(SqlPoolError)
    expect((error as SqlPoolError).code).toBe('pool-timeout')
    expect((error as SqlPoolError).message).toMatch(/within 250 ms: 2 requests were waiting/)
    expect(pool.stats().waiting).toBe(0)
  })

  it('beyond maxWaiting an acquire rejects at once with pool-full', async () => {
    const { pool } = heldPool({ maxPerKey: 1, maxWaiting: 2 })
    pool.acquire('k').catch(() => {})
    pool.acquire('k').catch(() => {})
    const error = await pool.acquire('other').catch((e: unknown) => e)
    expect((error as SqlPoolError).code).toBe('pool-full')
    expect((error as SqlPoolError).message).toMatch(/2 requests already wait .*maxWaiting 2/)
  })

  it('an aborted waiter leaves the queue with the signal reason and its open serves the next caller', async () => {
    const { pool, opens } = heldPool({ maxPerKey: 1 })
    const controller = new AbortController()
    const aborted = pool.acquire('k', controller.signal).catch((e: unknown) => e)
    await flush()
    controller.abort(new Error('client went away'))
    expect(((await aborted) as Error).message).toBe('client went away')
    expect(pool.stats().waiting).toBe(0)
    const next = pool.acquire('k')
    const backend = new FakeBackend()
    opens[0]!.result.resolve(backend.opened())
    expect((await next).client).toBe(backend.client)
    expect(opens).toHaveLength(1)
  })

  it('an already aborted signal rejects without queueing or opening', async () => {
    const { pool, opens } = heldPool()
    const error = await pool.acquire('k', AbortSignal.abort(new Error('gone'))).catch((e: unknown) => e)
    expect((error as Error).message).toBe('gone')
    expect(opens).toHaveLength(0)
  })

  it('a failed open rejects the oldest waiter with its error; the next waiter gets the next open', async () => {
    const { pool, opens } = heldPool({ maxPerKey: 1 })
    const first = pool.acquire('k').catch((e: unknown) => e)
    const second = pool.acquire('k')
    await flush()
    const refused = Object.assign(new Error('sorry, too many clients already'), { code: '53300' })
    opens[0]!.result.reject(refused)
    expect(await first).toBe(refused)
    await flush()
    expect(opens).toHaveLength(2)
    const backend = new FakeBackend()
    opens[1]!.result.resolve(backend.opened())
    expect((await second).client).toBe(backend.client)
  })

  it('an open that throws synchronously rejects the acquire and frees its slot', async () => {
    const pool = new SqlPool({ maxPerKey: 1 }, () => {
      throw new Error('no route to host')
    })
    pools.push(pool)
    await expect(pool.acquire('k')).rejects.toThrow('no route to host')
    expect(pool.stats().size).toBe(0)
  })

  it('an open that resolves with something else than a connection rejects the acquire', async () => {
    const pool = new SqlPool({}, async () => ({}) as OpenedBackend)
    pools.push(pool)
    await expect(pool.acquire('k')).rejects.toThrow('open must resolve with the { client, connection }')
    expect(pool.stats().size).toBe(0)
  })

  it('a released connection reaches the next waiter only after DISCARD ALL succeeded', async () => {
    const { pool, backends } = fakePool({ maxPerKey: 1 })
    const first = await pool.acquire('k')
    const reset = deferred<unknown>()
    backends[0]!.reset = () => reset.promise
    let next: PooledBackend | undefined
    const waiting = pool.acquire('k').then((backend) => {
      next = backend
    })
    pool.release(first, true)
    await flush()
    expect(backends[0]!.queries).toEqual(['DISCARD ALL'])
    expect(next).toBeUndefined()
    reset.resolve([])
    await waiting
    expect(next?.client).toBe(backends[0]!.client)
  })

  it('a connection whose DISCARD ALL fails is ended and the waiter gets a new one', async () => {
    const { pool, backends } = fakePool({ maxPerKey: 1 })
    const first = await pool.acquire('k')
    backends[0]!.reset = () => Promise.reject(new Error('reset failed'))
    const waiting = pool.acquire('k')
    pool.release(first, true)
    expect((await waiting).client).toBe(backends[1]!.client)
    expect(backends[0]!.endCalls).toBe(1)
  })

  it('a connection still in a transaction at release is ended without a reset', async () => {
    const { pool, backends } = fakePool()
    const lease = await pool.acquire('k')
    backends[0]!.transactionStatus = 'transaction'
    pool.release(lease, true)
    await flush()
    expect(backends[0]!.queries).toEqual([])
    expect(backends[0]!.endCalls).toBe(1)
    expect(pool.stats().size).toBe(0)
  })

  it('a connection keeps its slot until its backend is gone', async () => {
    const { pool, backends } = fakePool({ maxPerKey: 1 })
    const lease = await pool.acquire('k')
    let endCalls = 0
    Object.assign(backends[0]!.client, {
      end: () => {
        endCalls++
        return Promise.resolve()
      },
    })
    const waiting = pool.acquire('k')
    pool.release(lease, false)
    await flush()
    expect(endCalls).toBe(1)
    expect(backends).toHaveLength(1)
    expect(pool.stats()).toMatchObject({ size: 1, waiting: 1 })
    backends[0]!.running.resolve()
    expect((await waiting).client).toBe(backends[1]!.client)
  })

  it('a connection that dies while idle is dropped and the next acquire opens another', async () => {
    const { pool, backends } = fakePool()
    pool.release(await pool.acquire('k'), true)
    await flush()
    expect(pool.stats().idle).toBe(1)
    backends[0]!.die()
    await flush()
    expect(pool.stats().size).toBe(0)
    expect((await pool.acquire('k')).client).toBe(backends[1]!.client)
  })

  it('an idle connection is ended after idleTimeout, on an unref’d timer', async () => {
    vi.useFakeTimers()
    const { pool, backends } = fakePool({ idleTimeout: 1000 })
    pool.release(await pool.acquire('k'), true)
    await vi.advanceTimersByTimeAsync(0)
    expect(pool.stats().idle).toBe(1)
    await vi.advanceTimersByTimeAsync(999)
    expect(backends[0]!.endCalls).toBe(0)
    await vi.advanceTimersByTimeAsync(1)
    expect(backends[0]!.endCalls).toBe(1)
    expect(pool.stats().size).toBe(0)
  })

  it('idle timers do not keep the process alive', async () => {
    const unref = vi.fn()
    const realSetTimeout = globalThis.setTimeout
    const spy = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, ms: number) => {
      const timer = realSetTimeout(fn, ms)
      const unrefTimer = timer.unref.bind(timer)
      timer.unref = () => {
        unref(ms)
        return unrefTimer()
      }
      return timer
    }) as typeof setTimeout)
    try {
      const { pool } = fakePool({ idleTimeout: 12_345 })
      pool.release(await pool.acquire('k'), true)
      await flush()
      expect(unref).toHaveBeenCalledWith(12_345)
    } finally {
      spy.mockRestore()
    }
  })

  it('at maxTotal an idle connection of another key is ended to make room', async () => {
    const { pool, backends } = fakePool({ maxTotal: 1 })
    pool.release(await pool.acquire('a'), true)
    await flush()
    const b = await pool.acquire('b')
    expect(backends[0]!.endCalls).toBe(1)
    expect(b.client).toBe(backends[1]!.client)
  })

  it('releasing the same lease twice throws', async () => {
    const { pool } = fakePool()
    const lease = await pool.acquire('k')
    pool.release(lease, true)
    expect(() => pool.release(lease, true)).toThrow('not leased from this sql pool (released twice?)')
  })

  it('close() rejects waiters, ends every connection and opens in flight, and settles when all are gone', async () => {
    const { pool, opens } = heldPool({ maxPerKey: 2 })
    const leased = pool.acquire('k')
    const waiting = [pool.acquire('k'), pool.acquire('k')].map((p) => p.catch((e: unknown) => e))
    await flush()
    const first = new FakeBackend()
    opens[0]!.result.resolve(first.opened())
    await leased
    let isClosed = false
    const closing = pool.close().then(() => {
      isClosed = true
    })
    for (const error of await Promise.all(waiting)) expect((error as SqlPoolError).code).toBe('pool-closed')
    expect(first.endCalls).toBe(1)
    await flush()
    expect(isClosed).toBe(false)
    const late = new FakeBackend()
    opens[1]!.result.resolve(late.opened())
    await closing
    expect(late.endCalls).toBe(1)
    await expect(pool.acquire('k')).rejects.toMatchObject({ code: 'pool-closed' })
  })

  it('refuses bad options with the option named', () => {
    const open = async () => new FakeBackend().opened()
    expect(() => new SqlPool({ maxPerKey: 0 }, open)).toThrow(
      'sql pool maxPerKey must be an integer from 1 to',
    )
    expect(() => new SqlPool({ idleTimeout: 2 ** 31 }, open)).toThrow(
      /idleTimeout .* \(ms\), found 2147483648/,
    )
    expect(() => new SqlPool({ maxWaiting: 1.5 }, open)).toThrow('found 1.5')
  })
})
