import { createPool, isPgError, type Pool, type PoolOptions } from '@edgepg/client'
import { afterEach, describe, expect, it } from 'vitest'
import { startFaultProxy } from '../../test/fault-proxy.ts'
import { admin, server, transport, url, waitFor } from './helpers.ts'

const pools: Pool[] = []
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.end()))
})

let apps = 0
/** A pool whose connections carry a unique application_name, so the test can count their backends. */
function pool(options: Partial<PoolOptions> = {}, target = url()): { pool: Pool; app: string } {
  const app = `edgepg-pool-${process.pid}-${++apps}`
  const created = createPool(`${target}?application_name=${app}`, { transport: transport(), ...options })
  pools.push(created)
  return { pool: created, app }
}

async function backends(app: string): Promise<number> {
  const [row] = await admin<{ n: number }>(
    'select count(*)::int as n from pg_stat_activity where application_name = $1',
    [app],
  )
  return row!.n
}

const pid = async (p: Pool) => (await p.queryOne<{ pid: number }>('select pg_backend_pid() as pid')).pid

describe('pool', () => {
  it('serves 200 concurrent queries from at most max connections, each with its own answer', async () => {
    const { pool: p, app } = pool({ max: 3 })
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => p.queryOne<{ n: number }>('select $1::int as n', [i])),
    )
    expect(results.map((r) => r.n)).toEqual(Array.from({ length: 200 }, (_, i) => i))
    expect(p.stats.size).toBeLessThanOrEqual(3)
    expect(await backends(app)).toBeLessThanOrEqual(3)
    expect(await backends(app)).toBeGreaterThanOrEqual(1)
  })

  it('with pipeline 1, never runs two pool.query calls on one connection at once', async () => {
    const { pool: p } = pool({ max: 2, pipeline: 1 })
    const pids = await Promise.all(
      Array.from({ length: 4 }, () =>
        p.queryOne<{ pid: number }>('select pg_backend_pid() as pid, pg_sleep(0.1)').then((r) => r.pid),
      ),
    )
    // Two at a time on two connections: each connection served exactly two of the four.
    const counts = [...new Set(pids)].map((id) => pids.filter((x) => x === id).length)
    expect(counts).toEqual([2, 2])
  })

  it('leases a connection for exclusive use: session state stays with the lease until release', async () => {
    const { pool: p } = pool({ max: 1 })
    const client = await p.connect()
    await client.query(`set application_name = 'leased'`)
    expect(p.stats).toMatchObject({ size: 1, leased: 1 })
    const queued = p.queryOne<{ n: string }>(`select current_setting('application_name') as n`)
    let isQueuedDone = false
    void queued.then(() => {
      isQueuedDone = true
    })
    await new Promise((r) => setTimeout(r, 50))
    expect(isQueuedDone).toBe(false) // the lease is exclusive: pool.query waits for it
    await client.query(`reset application_name`)
    client.release()
    await expect(queued).resolves.toMatchObject({ n: expect.stringMatching(/^edgepg-pool-/) })
  })

  it('a released client refuses further calls with a clear error', async () => {
    const { pool: p } = pool()
    const client = await p.connect()
    client.release()
    const error = await client.query('select 1').catch((e: unknown) => e)
    expect(isPgError(error, 'usage')).toBe(true)
    expect((error as Error).message).toMatch(/released to the pool/)
    client.release() // twice is harmless
  })

  it('closes a connection released inside a transaction instead of reusing it', async () => {
    const { pool: p, app } = pool({ max: 1 })
    const client = await p.connect()
    const first = (await client.queryOne<{ pid: number }>('select pg_backend_pid() as pid')).pid
    await client.query('begin')
    await client.query('create temporary table pool_tx (n int)')
    client.release()
    expect(await pid(p)).not.toBe(first)
    await waitFor(async () => (await backends(app)) === 1)
    // The abandoned transaction was rolled back with its backend; nothing of it is visible.
    await expect(p.query('select * from pool_tx')).rejects.toMatchObject({ code: '42P01' })
  })

  it('never hands out a connection whose backend was terminated', async () => {
    const { pool: p } = pool({ max: 1 })
    const first = await pid(p)
    await admin('select pg_terminate_backend($1)', [first])
    await waitFor(() => p.stats.size === 0)
    expect(await pid(p)).not.toBe(first)
  })

  it('runs transactions on a leased connection: commit on return, rollback on throw', async () => {
    const { pool: p } = pool({ max: 2 })
    await p.query('create table if not exists pool_tx_t (n int)')
    await p.query('truncate pool_tx_t')
    await p.transaction(async (tx) => {
      await tx.query('insert into pool_tx_t values (1)')
    })
    await expect(
      p.transaction(async (tx) => {
        await tx.query('insert into pool_tx_t values (2)')
        throw new Error('boom')
      }),
    ).rejects.toThrow('boom')
    expect((await p.query('select n from pool_tx_t order by n')).rows).toEqual([{ n: 1 }])
    expect(p.stats.leased).toBe(0)
    await p.query('drop table pool_tx_t')
  })

  it('a queued caller rejects with kind timeout after acquireTimeout, and the pool still works', async () => {
    const { pool: p } = pool({ max: 1, acquireTimeout: 200 })
    const client = await p.connect()
    const started = Date.now()
    const error = await p.connect().catch((e: unknown) => e)
    expect(isPgError(error, 'timeout')).toBe(true)
    expect((error as Error).message).toMatch(/no pooled connection became available within 200 ms/)
    expect(Date.now() - started).toBeGreaterThanOrEqual(190)
    expect(p.stats.waiting).toBe(0)
    client.release()
    expect((await p.queryOne<{ n: number }>('select 1 as n')).n).toBe(1)
  })

  it('refuses a caller at once when maxWaiting callers already wait', async () => {
    const { pool: p } = pool({ max: 1, maxWaiting: 1 })
    const client = await p.connect()
    const waiting = p.connect()
    await expect(p.connect()).rejects.toThrow(/pool queue is full/)
    client.release()
    ;(await waiting).release()
  })

  it('an aborted acquire leaves the queue at once', async () => {
    const { pool: p } = pool({ max: 1 })
    const client = await p.connect()
    const controller = new AbortController()
    const waiting = p.connect({ signal: controller.signal })
    controller.abort()
    await expect(waiting).rejects.toMatchObject({ kind: 'aborted' })
    expect(p.stats.waiting).toBe(0)
    client.release()
  })

  it('pool.query that leaves a transaction open destroys its connection and fails the pipelined calls', async () => {
    const { pool: p } = pool({ max: 1 })
    const before = await pid(p)
    const begin = p.query('begin')
    const behind = p.query('select 1')
    await expect(begin).rejects.toThrow(/left a transaction open/)
    await expect(behind).rejects.toBeDefined()
    expect(await pid(p)).not.toBe(before)
  })

  it('closes idle connections after idleTimeout', async () => {
    const { pool: p, app } = pool({ max: 2, idleTimeout: 100 })
    await Promise.all([p.query('select pg_sleep(0.05)'), p.query('select pg_sleep(0.05)')])
    expect(await backends(app)).toBeGreaterThanOrEqual(1)
    await waitFor(() => p.stats.size === 0, 3000)
    await waitFor(async () => (await backends(app)) === 0, 3000)
  })

  it('replaces a connection older than maxLifetime', async () => {
    const { pool: p } = pool({ max: 1, maxLifetime: 150 })
    const first = await pid(p)
    await new Promise((r) => setTimeout(r, 200))
    expect(await pid(p)).not.toBe(first)
  })

  it('checks a long-idle connection before handing it out and replaces it when the check fails', async () => {
    const proxy = await startFaultProxy({ host: server.host, port: server.port })
    try {
      const { pool: p } = pool(
        { max: 1, healthCheckAfter: 20, acquireTimeout: 1500, idleTimeout: 0, connectTimeout: 3000 },
        url(undefined, proxy.host, proxy.port),
      )
      const first = await pid(p)
      await new Promise((r) => setTimeout(r, 40))
      proxy.faults = { lose: true } // the idle connection dies silently: its ping is lost
      const next = pid(p)
      await new Promise((r) => setTimeout(r, 300))
      proxy.faults = {} // long before the ping's deadline (1500 ms), so the replacement connects
      expect(await next).not.toBe(first)
    } finally {
      await proxy.close()
    }
  })

  it('end() lets calls in flight and queued finish, refuses new ones and closes every backend', async () => {
    const { pool: p, app } = pool({ max: 2 })
    const inFlight = p.queryOne<{ n: number }>('select 7 as n, pg_sleep(0.1)')
    const ended = p.end()
    await expect(p.query('select 1')).rejects.toThrow(/pool is ended/)
    expect((await inFlight).n).toBe(7)
    await ended
    expect(p.stats.size).toBe(0)
    await waitFor(async () => (await backends(app)) === 0)
  })

  it('end() serves a caller already queued behind a lease before closing', async () => {
    const { pool: p, app } = pool({ max: 1 })
    const client = await p.connect()
    const queued = p.queryOne<{ n: number }>('select 8 as n')
    const ended = p.end()
    client.release()
    expect((await queued).n).toBe(8)
    await ended
    await waitFor(async () => (await backends(app)) === 0)
  })

  it('rejects every waiter with the cause when the server cannot be reached', async () => {
    const { pool: p } = pool({ connectTimeout: 2000 }, url(undefined, '127.0.0.1', 1))
    const results = await Promise.allSettled([p.query('select 1'), p.query('select 1'), p.connect()])
    for (const result of results) {
      expect(result.status).toBe('rejected')
      expect(isPgError((result as PromiseRejectedResult).reason)).toBe(true)
    }
    await waitFor(() => p.stats.opening === 0)
    expect(p.stats).toMatchObject({ size: 0, waiting: 0 })
  })

  it('validates its options before any I/O', () => {
    expect(() => createPool(url(), { transport: transport(), max: 0 })).toThrow(
      /max must be an integer from 1 to 2147483647, found 0/,
    )
    expect(() => createPool(url(), { transport: transport(), pipeline: 1.5 })).toThrow(/pipeline/)
  })
})
