import { DatabaseError } from '@edgepg/client'
import { AbortedTransactionError, type Kysely, sql } from 'kysely'
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest'
import { EdgePgDialect } from '../src/index.ts'
import {
  admin,
  createSchema,
  type DB,
  expectCrudWithReturning,
  kysely,
  pool,
  TRANSPORTS,
  waitFor,
} from './helpers.ts'

describe.each(TRANSPORTS)('kysely on edgepg over %s', (kind) => {
  const schema = `kysely_${kind}`
  let db: Kysely<DB>

  beforeAll(async () => {
    await createSchema(schema)
    db = kysely(kind, schema)
  })
  afterAll(async () => {
    await db?.destroy()
  })
  beforeEach(async () => {
    await admin(`truncate ${schema}.pet, ${schema}.person, ${schema}.ledger restart identity cascade`)
  })

  it('inserts, selects, updates and deletes with returning', async () => {
    await expectCrudWithReturning(db)
  })

  it('reports numAffectedRows for insert, update and delete', async () => {
    const insert = await db
      .insertInto('person')
      .values(['a', 'b', 'c'].map((name) => ({ name, email: `${name}@example.com` })))
      .executeTakeFirst()
    expect(insert.numInsertedOrUpdatedRows).toBe(3n)
    const update = await db
      .updateTable('person')
      .set({ name: 'x' })
      .where('name', '!=', 'c')
      .executeTakeFirst()
    expect(update.numUpdatedRows).toBe(2n)
    const none = await db
      .updateTable('person')
      .set({ name: 'y' })
      .where('name', '=', 'nobody')
      .executeTakeFirst()
    expect(none.numUpdatedRows).toBe(0n)
    const del = await db.deleteFrom('person').executeTakeFirst()
    expect(del.numDeletedRows).toBe(3n)
  })

  it('joins two tables', async () => {
    const [ada] = await db
      .insertInto('person')
      .values({ name: 'ada', email: 'ada@example.com' })
      .returning('id')
      .execute()
    await db
      .insertInto('pet')
      .values([
        { owner_id: ada!.id, species: 'cat' },
        { owner_id: ada!.id, species: 'dog' },
      ])
      .execute()
    const rows = await db
      .selectFrom('person')
      .innerJoin('pet', 'pet.owner_id', 'person.id')
      .select(['person.name', 'pet.species'])
      .orderBy('pet.species')
      .execute()
    expect(rows).toEqual([
      { name: 'ada', species: 'cat' },
      { name: 'ada', species: 'dog' },
    ])
  })

  it('commits a transaction, with the isolation level and access mode asked for', async () => {
    const level = await db
      .transaction()
      .setIsolationLevel('serializable')
      .execute(async (trx) => {
        await trx.insertInto('ledger').values({ tag: 'committed' }).execute()
        return (
          await sql<{ level: string }>`select current_setting('transaction_isolation') as level`.execute(trx)
        ).rows[0]?.level
      })
    expect(level).toBe('serializable')
    expect(await admin(`select tag from ${schema}.ledger`)).toEqual([{ tag: 'committed' }])
    const readOnly = db
      .transaction()
      .setAccessMode('read only')
      .execute((trx) => trx.insertInto('ledger').values({ tag: 'refused' }).execute())
    await expect(readOnly).rejects.toMatchObject({ code: '25006' })
  })

  it('rolls back a transaction whose callback throws', async () => {
    const failing = db.transaction().execute(async (trx) => {
      await trx.insertInto('ledger').values({ tag: 'rolled back' }).execute()
      throw new Error('callback failed')
    })
    await expect(failing).rejects.toThrow('callback failed')
    expect(await admin(`select tag from ${schema}.ledger`)).toEqual([])
    // The connection went back clean: the next transaction commits on the same pool.
    await db.transaction().execute((trx) => trx.insertInto('ledger').values({ tag: 'after' }).execute())
    expect(await admin(`select tag from ${schema}.ledger`)).toEqual([{ tag: 'after' }])
  })

  it("refuses to commit a transaction a failed statement aborted, with Kysely's AbortedTransactionError", async () => {
    const trx = await db.startTransaction().execute()
    await trx.insertInto('ledger').values({ tag: 'lost' }).execute()
    await expect(sql`select 1/0`.execute(trx)).rejects.toMatchObject({ code: '22012' })
    await expect(trx.commit().execute()).rejects.toBeInstanceOf(AbortedTransactionError)
    expect(await admin(`select tag from ${schema}.ledger`)).toEqual([])
  })

  it('rolls back to a savepoint while the outer transaction commits', async () => {
    const trx = await db.startTransaction().execute()
    await trx.insertInto('ledger').values({ tag: 'outer' }).execute()
    const inner = await trx.savepoint('inner').execute()
    await inner.insertInto('ledger').values({ tag: 'inner' }).execute()
    const kept = await inner.savepoint('kept').execute()
    await kept.releaseSavepoint('kept').execute()
    const back = await kept.rollbackToSavepoint('inner').execute()
    await back.insertInto('ledger').values({ tag: 'after savepoint' }).execute()
    const kept2 = await back.savepoint('kept2').execute()
    await kept2.insertInto('ledger').values({ tag: 'released' }).execute()
    await (await kept2.releaseSavepoint('kept2').execute()).commit().execute()
    const tags = await admin<{ tag: string }>(`select tag from ${schema}.ledger order by id`)
    expect(tags.map((r) => r.tag)).toEqual(['outer', 'after savepoint', 'released'])
  })

  it('keeps 8 concurrent transactions on one pool apart', async () => {
    // Every transaction inserts, then all read while all are open, then all commit.
    const inserted = barrier(8)
    const read = barrier(8)
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        db.transaction().execute(async (trx) => {
          await trx
            .insertInto('ledger')
            .values({ tag: `tx ${i}` })
            .execute()
          await inserted()
          const seen = await trx.selectFrom('ledger').select('tag').execute()
          const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx)
          await read()
          return { seen: seen.map((r) => r.tag), pid: rows[0]!.pid }
        }),
      ),
    )
    results.forEach((r, i) => {
      expect(r.seen).toEqual([`tx ${i}`])
    })
    expect(new Set(results.map((r) => r.pid)).size).toBe(8)
    expect(await admin(`select count(*)::int as n from ${schema}.ledger`)).toEqual([{ n: 8 }])
  })

  it("surfaces a unique violation as edgepg's DatabaseError with code 23505", async () => {
    await db.insertInto('person').values({ name: 'ada', email: 'ada@example.com' }).execute()
    const error = await db
      .insertInto('person')
      .values({ name: 'ada again', email: 'ada@example.com' })
      .execute()
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DatabaseError)
    expect(error).toMatchObject({ code: '23505', constraint: 'person_email_key' })
  })

  it("cancels the server's work when Kysely's abort signal fires during a query", async () => {
    const single = kysely(kind, schema, { max: 1, acquireTimeout: 5000 })
    onTestFinished(() => single.destroy())
    const marker = `kysely-abort-${kind}`
    const sleeping = async () =>
      (
        await admin<{ n: number }>(
          "select count(*)::int as n from pg_stat_activity where state = 'active' and query like $1",
          [`%${marker}%`],
        )
      )[0]!.n > 0
    const controller = new AbortController()
    const query = sql`select pg_sleep(60) /* ${sql.raw(marker)} */`.execute(single, {
      signal: controller.signal,
    })
    const settled = query.catch((e: unknown) => e)
    await waitFor(sleeping)
    controller.abort(new Error('caller gave up'))
    expect(await settled).toMatchObject({ message: 'caller gave up' })
    // edgepg got the signal and sent CancelRequest: the sleep stops long before its 60 s.
    await waitFor(async () => !(await sleeping()))
    const { rows } = await sql<{ one: number }>`select 1 as one`.execute(single)
    expect(rows).toEqual([{ one: 1 }])
  })

  it('streams 100,000 rows in chunks of chunkSize fetched from the portal one batch at a time', async () => {
    // Not edgepg's default batch size (1000), so a stream that ignored chunkSize would fetch further ahead.
    const chunkSize = 250
    // nextval() in the select list runs as each row is produced, so the sequence tells how far the server got.
    const sequence = `${schema}.fetched`
    const fetched = async () =>
      Number((await admin<{ last_value: string }>(`select last_value from ${sequence}`))[0]!.last_value)
    const rows = db
      .selectFrom(sql<{ s: number }>`generate_series(1, 100000)`.as('s'))
      .select([sql<number>`s.s`.as('n'), sql<string>`nextval(${sequence}::regclass)`.as('seq')])
      .stream(chunkSize)
    let count = 0
    let sum = 0
    const ahead: number[] = []
    for await (const row of rows) {
      count++
      sum += row.n
      // While the consumer holds a row the server has produced at most the batches already asked for.
      if (count === 1 || count === 50_001 || count === 99_001) ahead.push((await fetched()) - count)
    }
    expect(count).toBe(100_000)
    expect(sum).toBe((100_000 * 100_001) / 2)
    for (const a of ahead) {
      expect(a).toBeGreaterThanOrEqual(0)
      expect(a).toBeLessThan(2 * chunkSize)
    }
  })

  it('closes the portal and returns the connection when a stream is left early', async () => {
    // One connection: a lease the stream kept would make the next query wait for acquireTimeout and fail.
    const single = kysely(kind, schema, { max: 1, acquireTimeout: 5000 })
    onTestFinished(() => single.destroy())
    const pid = sql<{ pid: number }>`select pg_backend_pid() as pid`
    const before = (await pid.execute(single)).rows[0]?.pid
    let count = 0
    for await (const _ of single
      .selectFrom(sql<{ s: number }>`generate_series(1, 100000)`.as('s'))
      .select(sql<number>`s.s`.as('n'))
      .stream(100)) {
      if (++count === 250) break
    }
    expect(count).toBe(250)
    // The same session answers next: the portal was closed, not the connection destroyed.
    expect((await pid.execute(single)).rows[0]?.pid).toBe(before)
  })
})

describe('EdgePgDialect', () => {
  it('takes an async function that returns the pool, called once', async () => {
    let calls = 0
    const db = new (await import('kysely')).Kysely<Record<string, never>>({
      dialect: new EdgePgDialect({
        pool: async () => {
          calls++
          return pool('tcp')
        },
      }),
    })
    try {
      const a = await sql<{ one: number }>`select 1 as one`.execute(db)
      const b = await sql<{ one: number }>`select 1 as one`.execute(db)
      expect([a.rows, b.rows]).toEqual([[{ one: 1 }], [{ one: 1 }]])
      expect(calls).toBe(1)
    } finally {
      await db.destroy()
    }
  })

  it('refuses a config without a pool, saying what it expected', () => {
    expect(() => new EdgePgDialect({} as never)).toThrow(
      'EdgePgDialect expects { pool }, an edgepg Pool or an async function returning one; found undefined',
    )
  })
})

/** Resolves for everyone once `parties` callers have arrived. */
function barrier(parties: number): () => Promise<void> {
  let arrived = 0
  let release!: () => void
  const all = new Promise<void>((resolve) => {
    release = resolve
  })
  return () => {
    if (++arrived === parties) release()
    return all
  }
}
