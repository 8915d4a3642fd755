/**
 * Adversarial: Drizzle transactions on an edgepg pool — nothing leaks into the next lease, every lease comes
 * back, every promise settles — over TCP and the relay.
 */
import type { Pool } from '@edgepg/client'
import { count, eq, sql } from 'drizzle-orm'
import { DrizzleQueryError, TransactionRollbackError } from 'drizzle-orm/errors'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { drizzle, type EdgePgDatabase, TransactionAbortedError } from '../src/index.ts'
import { admin, createSchema, pool, TRANSPORTS, truncate } from './helpers.ts'
import { type Tables, tables } from './schema.ts'

describe.each(TRANSPORTS)('adversarial drizzle transactions over %s', (kind) => {
  const schemaName = `drizzle_adv_tx_${kind}`
  const t = tables(schemaName)
  let db: EdgePgDatabase<Tables> & { $client: Pool }

  const tags = async () =>
    (await admin<{ tag: string }>(`select tag from ${schemaName}.ledger order by id`)).map((r) => r.tag)
  const expectPoolClean = () => expect(db.$client.stats).toMatchObject({ leased: 0, waiting: 0 })

  beforeAll(async () => {
    await createSchema(schemaName)
    db = drizzle(pool(kind, { max: 2 }), { schema: t })
  })
  afterAll(async () => {
    await db?.$client.end()
  })
  beforeEach(async () => {
    await truncate(schemaName)
  })

  it('refuses a tx used after its transaction ended instead of running on the next lease', async () => {
    let leaked: Parameters<Parameters<typeof db.transaction>[0]>[0] | undefined
    await db.transaction(async (tx) => {
      leaked = tx
      await tx.insert(t.ledger).values({ tag: 'in' })
    })
    const other = db.transaction(async (tx) => {
      await tx.insert(t.ledger).values({ tag: 'other' })
      await tx.execute(sql`select pg_sleep(0.05)`)
      throw new Error('other rolls back')
    })
    const late = await leaked!
      .insert(t.ledger)
      .values({ tag: 'late' })
      .then(
        () => 'resolved',
        (error: unknown) => String((error as DrizzleQueryError).cause ?? error),
      )
    await expect(other).rejects.toThrow('other rolls back')
    expect(late).toMatch(/released/)
    expect(await tags()).toEqual(['in'])
    expectPoolClean()
  })

  it('tx.rollback() in a nested transaction rolls back everything and returns the lease', async () => {
    const run = db.transaction(async (tx) => {
      await tx.insert(t.ledger).values({ tag: 'outer' })
      await tx.transaction(async (inner) => {
        await inner.insert(t.ledger).values({ tag: 'inner' })
        await inner.transaction(async (deeper) => {
          await deeper.insert(t.ledger).values({ tag: 'deeper' })
          deeper.rollback()
        })
      })
    })
    await expect(run).rejects.toBeInstanceOf(TransactionRollbackError)
    expect(await tags()).toEqual([])
    expectPoolClean()
  })

  it('a throw inside a nested savepoint caught by the outer transaction keeps the outer work', async () => {
    await db.transaction(async (tx) => {
      await tx.insert(t.ledger).values({ tag: 'a' })
      await tx
        .transaction(async (inner) => {
          await inner.insert(t.ledger).values({ tag: 'lost' })
          await inner.execute(sql`select 1/0`)
        })
        .catch(() => undefined)
      await tx.transaction(async (inner) => {
        await inner.insert(t.ledger).values({ tag: 'b' })
      })
    })
    expect(await tags()).toEqual(['a', 'b'])
    expectPoolClean()
  })

  it('a failed statement caught inside a savepoint body surfaces at release and leaves the outer usable', async () => {
    const failure = await db
      .transaction(async (tx) => {
        await tx.insert(t.ledger).values({ tag: 'kept' })
        await tx
          .transaction(async (inner) => {
            await inner.execute(sql`select 1/0`).catch(() => undefined)
          })
          .catch((error: unknown) => {
            expect(error).toBeInstanceOf(DrizzleQueryError)
            expect((error as DrizzleQueryError).cause).toMatchObject({ code: '25P02' })
          })
        await tx.insert(t.ledger).values({ tag: 'after' })
      })
      .then(() => 'committed')
    expect(failure).toBe('committed')
    expect(await tags()).toEqual(['kept', 'after'])
    expectPoolClean()
  })

  it('an unawaited failing statement turns the commit into TransactionAbortedError', async () => {
    const run = db.transaction(async (tx) => {
      await tx.insert(t.ledger).values({ tag: 'x' })
      void tx.execute(sql`select 1/0`).catch(() => undefined)
    })
    await expect(run).rejects.toBeInstanceOf(TransactionAbortedError)
    expect(await tags()).toEqual([])
    expectPoolClean()
  })

  it('a body that rejects with a statement still in flight rolls back and returns a clean lease', async () => {
    const run = db.transaction(async (tx) => {
      await Promise.all([
        tx
          .insert(t.ledger)
          .values({ tag: 'slow' })
          .then(() => tx.execute(sql`select pg_sleep(0.05)`)),
        Promise.reject(new Error('early')),
      ])
    })
    await expect(run).rejects.toThrow('early')
    await new Promise((r) => setTimeout(r, 150))
    expect(await tags()).toEqual([])
    const [{ status }] = (await db.execute<{ status: string }>(sql`select 'ok' as status`)).rows as [
      { status: string },
    ]
    expect(status).toBe('ok')
    expectPoolClean()
  })

  it('16 concurrent transactions on a pool of 2 stay apart (set local, own rows) and all leases return', async () => {
    const results = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        db
          .transaction(async (tx) => {
            await tx.execute(sql.raw(`set local application_name = 'tx${i}'`))
            await tx.insert(t.ledger).values({ tag: `t${i}` })
            const mine = await tx
              .select({ n: count() })
              .from(t.ledger)
              .where(eq(t.ledger.tag, `t${i}`))
            const name = await tx.execute<{ application_name: string }>(sql`show application_name`)
            if (i % 3 === 0) throw new Error(`fail ${i}`)
            return [mine[0]!.n, name.rows[0]!.application_name]
          })
          .catch((error: Error) => error.message),
      ),
    )
    expect(results).toEqual(results.map((_, i) => (i % 3 === 0 ? `fail ${i}` : [1, `tx${i}`])))
    expect((await tags()).sort()).toEqual(
      Array.from({ length: 16 }, (_, i) => i)
        .filter((i) => i % 3 !== 0)
        .map((i) => `t${i}`)
        .sort(),
    )
    const leases = [await db.$client.connect(), await db.$client.connect()]
    try {
      for (const lease of leases) {
        expect(lease.transactionStatus).toBe('idle')
        const shown = await lease.query<{ name: string }>('select current_setting($1) as name', [
          'application_name',
        ])
        expect(shown.rows[0]!.name).not.toMatch(/^tx\d+$/)
      }
    } finally {
      for (const lease of leases) lease.release()
    }
    expectPoolClean()
  })

  it('a bad transaction config rejects with DrizzleQueryError and the connection stays usable', async () => {
    const run = db.transaction(async () => 1, { isolationLevel: 'bogus' as 'serializable' })
    await expect(run).rejects.toBeInstanceOf(DrizzleQueryError)
    expect(await db.transaction(async (tx) => (await tx.execute(sql`select 1 as one`)).rows)).toEqual([
      { one: 1 },
    ])
    expectPoolClean()
  })

  it('a pooled query outside a transaction does not see its uncommitted rows', async () => {
    await db.transaction(async (tx) => {
      await tx.insert(t.ledger).values({ tag: 'uncommitted' })
      const outside = await db.select({ n: count() }).from(t.ledger)
      expect(outside).toEqual([{ n: 0 }])
    })
    expect(await tags()).toEqual(['uncommitted'])
  })

  it('a connection killed mid-transaction rejects the transaction and the pool recovers', async () => {
    const run = db.transaction(async (tx) => {
      await tx.insert(t.ledger).values({ tag: 'doomed' })
      await tx.execute(sql`select pg_terminate_backend(pg_backend_pid())`)
    })
    await expect(run).rejects.toThrow()
    expect(await tags()).toEqual([])
    expect((await db.execute(sql`select 2 as two`)).rows).toEqual([{ two: 2 }])
    expectPoolClean()
  })
})
