/**
 * Adversarial probes of @edgepg/prisma's connection lifecycle: interactive transactions that time out, throw,
 * abort or leave session state, maxWait, $disconnect with queries in flight, reuse after $disconnect.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Prisma } from '../generated/node/client.ts'
import { PrismaEdgePg } from '../src/index.ts'
import { admin, createSchema, dropSchema, PrismaClient, pool, TRANSPORTS, waitFor } from './helpers.ts'

const sessions = async (app: string) =>
  (
    await admin<{ state: string | null }>(
      'select state from pg_stat_activity where application_name = $1 order by state',
      [app],
    )
  ).map((r) => r.state)

for (const kind of TRANSPORTS) {
  describe(`adversarial lifecycle over ${kind}`, () => {
    const schema = `prisma_adv_life_${kind}`
    beforeAll(async () => {
      await createSchema(schema)
    })
    afterAll(async () => {
      await dropSchema(schema)
    })

    it('a timed-out interactive transaction rolls back and gives its connection back', async () => {
      const p = pool(kind, schema, { max: 1 })
      const db = new PrismaClient({ adapter: new PrismaEdgePg(p, { schema }) })
      try {
        const error = await db
          .$transaction(
            async (tx) => {
              await tx.ledger.create({ data: { tag: 'timeout' } })
              await new Promise((r) => setTimeout(r, 600))
              await tx.ledger.create({ data: { tag: 'timeout-late' } })
            },
            { timeout: 200 },
          )
          .catch((e: unknown) => e)
        expect(error).toBeInstanceOf(Prisma.PrismaClientKnownRequestError)
        expect((error as { code: string }).code).toBe('P2028')
        expect(await db.ledger.count({ where: { tag: { startsWith: 'timeout' } } })).toBe(0)
        expect(p.stats.leased).toBe(0)
        expect(await db.$transaction(async (tx) => tx.ledger.count())).toBe(0)
      } finally {
        await db.$disconnect()
      }
    })

    it('a transaction timing out while a query runs in it settles and frees the connection', async () => {
      const p = pool(kind, schema, { max: 1 })
      const db = new PrismaClient({ adapter: new PrismaEdgePg(p, { schema }) })
      try {
        const error = await db
          .$transaction(async (tx) => tx.$queryRaw`select pg_sleep(1)::text`, { timeout: 200 })
          .catch((e: unknown) => e)
        expect(error).toBeInstanceOf(Error)
        expect(await db.$queryRaw`select 1 as one`).toEqual([{ one: 1 }])
        await new Promise((r) => setTimeout(r, 100))
        expect(p.stats.leased).toBe(0)
      } finally {
        await db.$disconnect()
      }
    })

    it('maxWait expiring while the pool is exhausted leaks no connection', async () => {
      const p = pool(kind, schema, { max: 1 })
      const db = new PrismaClient({ adapter: new PrismaEdgePg(p, { schema }) })
      try {
        let release!: () => void
        const gate = new Promise<void>((r) => {
          release = r
        })
        const holder = db.$transaction(async () => gate, { timeout: 5_000 })
        await new Promise((r) => setTimeout(r, 100))
        const waiter = await db
          .$transaction(async (tx) => tx.ledger.count(), { maxWait: 100 })
          .catch((e: unknown) => e)
        expect(waiter).toMatchObject({ code: 'P2028' })
        release()
        await holder
        await new Promise((r) => setTimeout(r, 200))
        expect(p.stats.leased).toBe(0)
        expect(await db.$transaction(async (tx) => tx.ledger.count())).toBe(0)
      } finally {
        await db.$disconnect()
      }
    })

    it('an aborted transaction that the callback swallows commits nothing and the next lease is clean', async () => {
      const p = pool(kind, schema, { max: 1 })
      const db = new PrismaClient({ adapter: new PrismaEdgePg(p, { schema }) })
      try {
        const outcome = await db
          .$transaction(async (tx) => {
            await tx.ledger.create({ data: { tag: 'aborted' } })
            await tx.$executeRaw`select 1/0`.catch(() => undefined)
            return tx.ledger.count().catch((e: unknown) => e)
          })
          .catch((e: unknown) => ({ thrown: e }))
        // The swallowed failure aborted the transaction: the next query in it fails with 25P02 (and COMMIT
        // of an aborted transaction is a rollback).
        expect(outcome).toMatchObject({
          code: 'P2039',
          meta: { driverAdapterError: { cause: { originalCode: '25P02' } } },
        })
        expect(await db.ledger.count({ where: { tag: 'aborted' } })).toBe(0)
        const status = await db.$transaction(
          async (tx) => tx.$queryRaw<{ n: bigint }[]>`select count(*) as n from ledger`,
        )
        expect(status).toEqual([{ n: 0n }])
      } finally {
        await db.$disconnect()
      }
    })

    it('SET LOCAL in a transaction does not reach the next one on the same connection', async () => {
      const p = pool(kind, schema, { max: 1 })
      const db = new PrismaClient({ adapter: new PrismaEdgePg(p, { schema }) })
      try {
        await db.$transaction(async (tx) => {
          await tx.$executeRaw`set local statement_timeout = 1234`
        })
        const rows = await db.$queryRaw<{ t: string }[]>`select current_setting('statement_timeout') as t`
        expect(rows).toEqual([{ t: '0' }])
      } finally {
        await db.$disconnect()
      }
    })

    it('$disconnect while queries run settles every query', async () => {
      const p = pool(kind, schema, { max: 2 })
      const db = new PrismaClient({ adapter: new PrismaEdgePg(p, { schema, endPoolOnDispose: true }) })
      await db.$queryRaw`select 1`
      const running = [
        db.$queryRaw`select pg_sleep(0.3)::text`.then(
          () => 'ok',
          () => 'rejected',
        ),
        db
          .$transaction(async (tx) => tx.$queryRaw`select pg_sleep(0.3)::text`)
          .then(
            () => 'ok',
            () => 'rejected',
          ),
      ]
      await new Promise((r) => setTimeout(r, 50))
      await db.$disconnect()
      // As on adapter-pg: the pipelined query completes; the interactive transaction is cancelled by Prisma.
      expect(await Promise.all(running)).toEqual(['ok', 'rejected'])
      expect(p.isEnded).toBe(true)
    })

    it('sessions are not left open or idle in transaction after a burst of failing transactions', async () => {
      const app = `adv_burst_${kind}`
      const p = pool(kind, `${schema}`, { max: 4 })
      const db = new PrismaClient({ adapter: new PrismaEdgePg(p, { schema, endPoolOnDispose: true }) })
      try {
        await db.$executeRawUnsafe(`select 1`)
        const results = await Promise.allSettled(
          Array.from({ length: 12 }, (_, i) =>
            db.$transaction(
              async (tx) => {
                await tx.$executeRawUnsafe(`set application_name = '${app}'`)
                await tx.ledger.create({ data: { tag: `burst${i}` } })
                if (i % 3 === 0) throw new Error(`fail ${i}`)
                if (i % 3 === 1) await tx.$executeRaw`select 1/0`
                return i
              },
              { maxWait: 20_000, timeout: 20_000 },
            ),
          ),
        )
        expect(results.filter((r) => r.status === 'fulfilled').map((r) => r.value)).toEqual([2, 5, 8, 11])
        expect(p.stats.leased).toBe(0)
        const states = await sessions(app)
        expect(states.filter((s) => s !== 'idle')).toEqual([])
        expect(await db.ledger.count({ where: { tag: { startsWith: 'burst' } } })).toBe(4)
      } finally {
        await db.$disconnect()
      }
      expect(await sessions(app)).toEqual([])
    })

    it('recovers from backends terminated under an idle pool, as adapter-pg does', async () => {
      const app = `adv_kill_${kind}`
      const p = pool(kind, schema, { max: 2 })
      const db = new PrismaClient({ adapter: new PrismaEdgePg(p, { schema }) })
      try {
        await db.$transaction(async (tx) => {
          await tx.$executeRawUnsafe(`set application_name = '${app}'`)
        })
        expect(
          await admin(
            'select pg_terminate_backend(pid) as t from pg_stat_activity where application_name = $1',
            [app],
          ),
        ).toEqual([{ t: true }])
        await waitFor(async () => (await sessions(app)).length === 0)
        for (let i = 0; i < 3; i++) expect(await db.$queryRaw`select ${i}::int as i`).toEqual([{ i }])
        expect(await db.$transaction(async (tx) => tx.ledger.count())).toBeGreaterThanOrEqual(0)
      } finally {
        await db.$disconnect()
      }
    })
  })
}
