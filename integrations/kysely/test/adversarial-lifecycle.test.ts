/**
 * Adversarial checks of the pool dialect's lifecycle: failed transactions, savepoints released out of order,
 * abort signals before, during and after a query, streams that fail or are given bad chunk sizes, and a pool
 * function that rejects or resolves slowly. After each, the lease is back in the pool and the next query is
 * clean.
 */
import { DatabaseError, type Pool } from '@edgepg/client'
import { AbortedTransactionError, Kysely, sql, WithSchemaPlugin } from 'kysely'
import { beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest'
import { EdgePgDialect } from '../src/index.ts'
import { admin, createSchema, type DB, kyselyOnPg, pool, TRANSPORTS, waitFor } from './helpers.ts'

describe.each(TRANSPORTS)('adversarial lifecycle over %s', (kind) => {
  const schema = `kysely_adv_${kind}`
  let edgepg: Pool
  let db: Kysely<DB>

  beforeAll(async () => {
    await createSchema(schema)
  })
  beforeEach(async () => {
    await admin(`truncate ${schema}.pet, ${schema}.person, ${schema}.ledger restart identity cascade`)
    edgepg = pool(kind, { max: 1 })
    db = new Kysely<DB>({
      dialect: new EdgePgDialect({ pool: edgepg }),
      plugins: [new WithSchemaPlugin(schema)],
    })
    onTestFinished(() => db.destroy())
  })

  const tags = async () =>
    (await db.selectFrom('ledger').select('tag').orderBy('id').execute()).map((r) => r.tag)
  const noLease = () => edgepg.stats.leased === 0

  it('rolls back a transaction whose callback throws after a failed statement, and returns its lease', async () => {
    const failure = db.transaction().execute(async (trx) => {
      await trx.insertInto('ledger').values({ tag: 'lost' }).execute()
      await sql`select 1/0`.execute(trx).catch(() => undefined)
      throw new Error('callback gave up')
    })
    await expect(failure).rejects.toThrow('callback gave up')
    expect(edgepg.stats).toMatchObject({ leased: 0, size: 1 })
    expect(await tags()).toEqual([])
    // The one connection is out of the aborted transaction: a write through it commits on its own.
    await db.insertInto('ledger').values({ tag: 'kept' }).execute()
    expect(await tags()).toEqual(['kept'])
  })

  it('refuses a rollback to a savepoint nested under a released one, then reports the aborted commit', async () => {
    const trx = await db.startTransaction().execute()
    await trx.insertInto('ledger').values({ tag: 'outer' }).execute()
    const a = await trx.savepoint('a').execute()
    const b = await a.savepoint('b').execute()
    await b.releaseSavepoint('a' as never).execute()
    const error = await b
      .rollbackToSavepoint('b')
      .execute()
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DatabaseError)
    expect((error as DatabaseError).code).toBe('3B001')
    await expect(trx.commit().execute()).rejects.toBeInstanceOf(AbortedTransactionError)
    expect(noLease()).toBe(true)
    expect(await tags()).toEqual([])
  })

  it('quotes a savepoint name that tries to end the transaction early', async () => {
    const trx = await db.startTransaction().execute()
    await trx.insertInto('ledger').values({ tag: 'inside' }).execute()
    const sp = await trx.savepoint('x"; commit; --').execute()
    await sp.rollbackToSavepoint('x"; commit; --').execute()
    await trx.rollback().execute()
    expect(await tags()).toEqual([])
    expect(noLease()).toBe(true)
  })

  it('rejects with the abort reason before, during and after a query, cancelling the server statement', async () => {
    const before = new AbortController()
    before.abort(new Error('aborted before'))
    await expect(sql`select 1`.execute(db.withoutPlugins(), { signal: before.signal })).rejects.toThrow(
      'aborted before',
    )
    const during = new AbortController()
    const sleeping = db.selectNoFrom(sql`pg_sleep(30)`.as('s')).execute({ signal: during.signal })
    await waitFor(async () => {
      const rows = await admin(
        `select 1 from pg_stat_activity where state = 'active' and query like '%pg_sleep(30)%' and pid <> pg_backend_pid()`,
      )
      return rows.length === 1
    })
    during.abort(new Error('aborted during'))
    await expect(sleeping).rejects.toThrow('aborted during')
    await waitFor(noLease)
    const active = await admin(
      `select 1 from pg_stat_activity where state = 'active' and query like '%pg_sleep(30)%' and pid <> pg_backend_pid()`,
    )
    expect(active).toEqual([])
    const after = new AbortController()
    expect(await db.selectNoFrom(sql<number>`7`.as('x')).execute({ signal: after.signal })).toEqual([
      { x: 7 },
    ])
    after.abort()
    expect(await db.selectNoFrom(sql<number>`8`.as('x')).execute()).toEqual([{ x: 8 }])
  })

  it('rejects a query aborted while it waits for the only lease, and the lease stays usable', async () => {
    let release!: () => void
    const held = db.connection().execute(async (c) => {
      await new Promise<void>((r) => {
        release = r
      })
      return (await sql<{ x: number }>`select 1 as x`.execute(c)).rows
    })
    await waitFor(() => edgepg.stats.leased === 1)
    const waiting = new AbortController()
    const queued = db.selectNoFrom(sql<number>`2`.as('x')).execute({ signal: waiting.signal })
    waiting.abort(new Error('gave up waiting'))
    await expect(queued).rejects.toThrow('gave up waiting')
    release()
    expect(await held).toEqual([{ x: 1 }])
    await waitFor(() => noLease() && edgepg.stats.waiting === 0)
    expect(await db.selectNoFrom(sql<number>`3`.as('x')).execute()).toEqual([{ x: 3 }])
  })

  it('rolls back a transaction whose statement is aborted, and returns its lease', async () => {
    const signal = new AbortController()
    const run = db.transaction().execute(async (trx) => {
      await trx.insertInto('ledger').values({ tag: 'aborted' }).execute()
      const sleeping = trx.selectNoFrom(sql`pg_sleep(30)`.as('s')).execute({ signal: signal.signal })
      signal.abort(new Error('abort inside transaction'))
      await sleeping
    })
    await expect(run).rejects.toThrow('abort inside transaction')
    await waitFor(noLease)
    expect(await tags()).toEqual([])
  })

  it('ends a stream aborted mid-way with the abort, and returns its lease', async () => {
    const signal = new AbortController()
    let seen = 0
    const consume = async () => {
      const stream = db
        .selectNoFrom(sql<number>`generate_series(1, 100000)`.as('n'))
        .stream({ chunkSize: 10, signal: signal.signal })
      for await (const _ of stream) if (++seen === 25) signal.abort(new Error('enough rows'))
    }
    await expect(consume()).rejects.toThrow()
    expect(seen).toBeLessThan(100)
    await waitFor(noLease)
    expect(await db.selectNoFrom(sql<number>`1`.as('x')).execute()).toEqual([{ x: 1 }])
  })

  it('rejects a stream whose statement fails mid-way with a DatabaseError, after the rows before it', async () => {
    const rows: number[] = []
    const consume = async () => {
      const stream = db
        .selectFrom(sql<{ g: number }>`generate_series(1, 1000)`.as('g'))
        .select(sql<number>`1 / (500 - g)`.as('q'))
        .stream(100)
      for await (const row of stream) rows.push(row.q)
    }
    const error = await consume().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DatabaseError)
    expect((error as DatabaseError).code).toBe('22012')
    expect(rows.length % 100).toBe(0)
    expect(rows.length).toBeLessThan(500)
    expect(noLease()).toBe(true)
    expect(await db.selectNoFrom(sql<number>`1`.as('x')).execute()).toEqual([{ x: 1 }])
  })

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])(
    'refuses stream chunkSize %s with a RangeError and returns the lease',
    async (chunkSize) => {
      const consume = async () => {
        for await (const _ of db.selectNoFrom(sql<number>`1`.as('x')).stream(chunkSize));
      }
      await expect(consume()).rejects.toThrow(
        /stream chunkSize must be a positive integer up to 2147483647; found/,
      )
      expect(noLease()).toBe(true)
    },
  )

  it('reports numAffectedRows as Kysely on pg does for upserts, merge and update with returning', async () => {
    const oracle = kyselyOnPg<DB>(schema)
    onTestFinished(() => oracle.destroy())
    const run = async (k: Kysely<DB>) => {
      await admin(`truncate ${schema}.pet, ${schema}.person restart identity cascade`)
      const upsert = await k
        .insertInto('person')
        .values([
          { name: 'a', email: 'a@x' },
          { name: 'b', email: 'b@x' },
        ])
        .onConflict((oc) => oc.column('email').doUpdateSet({ name: 'z' }))
        .returning('id')
        .execute()
      const skip = await k
        .insertInto('person')
        .values([
          { name: 'a', email: 'a@x' },
          { name: 'c', email: 'c@x' },
        ])
        .onConflict((oc) => oc.column('email').doNothing())
        .executeTakeFirst()
      const update = await k.updateTable('person').set({ name: 'q' }).returning('id').execute()
      const merge = await k
        .mergeInto('person as t')
        .using('person as s', 's.id', 't.id')
        .whenMatched()
        .thenUpdateSet({ name: 'm' })
        .executeTakeFirst()
      const raw = await sql`delete from ${sql.table(`${schema}.person`)} where name = 'm'`.execute(k)
      return {
        upsert,
        skip: skip.numInsertedOrUpdatedRows,
        update,
        merge: merge.numChangedRows,
        raw: raw.numAffectedRows,
      }
    }
    const fromEdgepg = await run(db)
    expect(fromEdgepg).toEqual(await run(oracle))
    expect(fromEdgepg).toMatchObject({ skip: 1n, merge: 3n, raw: 3n })
  })
})

describe('EdgePgDialect with a pool function', () => {
  it('retries a pool function that rejected, and calls a slow one once for 20 concurrent queries', async () => {
    let calls = 0
    let made: Pool | undefined
    const db = new Kysely<DB>({
      dialect: new EdgePgDialect({
        pool: async () => {
          calls++
          if (calls === 1) throw new Error('no pool yet')
          await new Promise((r) => setTimeout(r, 100))
          made = pool('tcp', { max: 2 })
          return made
        },
      }),
    })
    onTestFinished(() => db.destroy())
    const first = await Promise.allSettled(Array.from({ length: 5 }, () => sql`select 1`.execute(db)))
    expect(first.map((r) => r.status)).toEqual(Array(5).fill('rejected'))
    expect(calls).toBe(1)
    const second = await Promise.all(
      Array.from({ length: 20 }, (_, i) => sql<{ n: number }>`select ${i}::int as n`.execute(db)),
    )
    expect(second.map((r) => r.rows[0]?.n)).toEqual(Array.from({ length: 20 }, (_, i) => i))
    expect(calls).toBe(2)
    expect(made?.stats.size).toBeLessThanOrEqual(2)
    await db.destroy()
    expect(made?.isEnded).toBe(true)
  })
})
