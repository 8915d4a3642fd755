// Driver attack cases D1a, D1b and D1d at the pool level: a broken connection is never handed out again, and
// the pool recovers once the server is back. D1d restarts a PostgreSQL of its own, so the shared one stays up.
import { createPool, isDatabaseError, isPgError, type Pool } from '@edgepg/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type PgServer, startEmbeddedPostgres } from '../../scripts/embedded-pg.ts'
import { startFaultProxy } from '../../test/fault-proxy.ts'
import { server, transport, transportKind, unhandledRejections, url, waitFor } from './helpers.ts'

const pid = async (pool: Pool) => (await pool.queryOne<{ pid: number }>('select pg_backend_pid() as pid')).pid

describe('D1a and D1b through a pool', () => {
  it('D1a: a connection reset mid-query rejects it, and the next pool query runs on a new connection', async () => {
    const proxy = await startFaultProxy({ host: server.host, port: server.port })
    const pool = createPool(url(undefined, proxy.host, proxy.port), { transport: transport(), max: 1 })
    try {
      const first = await pid(pool)
      const running = pool.query('select pg_sleep(5)')
      await new Promise((r) => setTimeout(r, 100))
      proxy.resetAll()
      const error = await running.catch((e: unknown) => e)
      expect(isPgError(error, 'closed') || isPgError(error, 'io')).toBe(true)
      expect(await pid(pool)).not.toBe(first)
    } finally {
      await pool.end()
      await proxy.close()
    }
  })

  it('D1b: a blackholed connection fails by queryTimeout, is destroyed, and the next query uses a new one', async () => {
    const proxy = await startFaultProxy({ host: server.host, port: server.port })
    const pool = createPool(url(undefined, proxy.host, proxy.port), {
      transport: transport(),
      max: 1,
      queryTimeout: 300,
      healthCheckAfter: 0,
    })
    try {
      const first = await pid(pool)
      proxy.faults = { blackhole: true }
      const error = await pool.query('select 1').catch((e: unknown) => e)
      expect(isPgError(error, 'timeout')).toBe(true)
      proxy.faults = {}
      await waitFor(() => pool.stats.size === 0)
      expect(await pid(pool)).not.toBe(first)
    } finally {
      await pool.end()
      await proxy.close()
    }
  })
})

describe('D1d: the server restarts (fast shutdown) under a pool', () => {
  let own: PgServer
  beforeAll(async () => {
    own = await startEmbeddedPostgres()
  }, 60_000)
  afterAll(() => own.stop())

  it('surfaces 57P01 to the running query, rejects pending work, and recovers once the server is back', async () => {
    const pool = createPool(own.url(own.roles.scram), {
      transport: transport(),
      max: 2,
      connectTimeout: 5000,
    })
    try {
      const unhandled = await unhandledRejections(async () => {
        expect((await pool.queryOne<{ n: number }>('select 1 as n')).n).toBe(1)
        const running = pool.query('select pg_sleep(30)').catch((e: unknown) => e)
        const queued = pool.query('select pg_sleep(30)').catch((e: unknown) => e)
        await new Promise((r) => setTimeout(r, 200))
        const restarting = own.restart()
        const [first, second] = await Promise.all([running, queued])
        for (const error of [first, second]) {
          const db = isDatabaseError(error) ? error : (error as Error).cause
          expect(isPgError(error), String(error)).toBe(true)
          // The backend's own FATAL, or the closed error carrying it.
          expect(isDatabaseError(db, '57P01') || isPgError(error, 'closed') || isPgError(error, 'io')).toBe(
            true,
          )
        }
        expect([first, second].some((e) => isDatabaseError(e, '57P01'))).toBe(true)
        await restarting
        await waitFor(() => pool.stats.size === 0)
        expect((await pool.queryOne<{ n: number }>('select 2 as n')).n).toBe(2)
      })
      expect(unhandled).toEqual([])
    } finally {
      await pool.end()
    }
  })

  it(`a query while the server is down rejects with a clear error instead of hanging (${transportKind})`, async () => {
    const pool = createPool(own.url(own.roles.scram), {
      transport: transport(),
      max: 1,
      connectTimeout: 3000,
    })
    try {
      await pool.query('select 1')
      await own.restart(async () => {
        await waitFor(() => pool.stats.size === 0, 10_000)
        const error = await pool.query('select 1').catch((e: unknown) => e)
        expect(isPgError(error), String(error)).toBe(true)
        expect((error as Error).message).toMatch(/could not connect|closed|refused|unavailable|relay/i)
      })
      expect((await pool.queryOne<{ n: number }>('select 3 as n')).n).toBe(3)
    } finally {
      await pool.end()
    }
  })
})
