/** Defects found by the adversarial review of client.batch and the query path (each fails before its fix). */
import { afterAll, describe, expect, it } from 'vitest'
import { admin, type Opened, openEach, transportKind } from './helpers.ts'

const db = openEach()
const table = `advb_defects_${transportKind}`
afterAll(() => admin(`drop table if exists ${table}, ${table}_log`))

/** Prepared statements the server holds for this session (read through the simple protocol: no cache). */
async function serverStatements(client: Opened['client']): Promise<number> {
  const [result] = await client.simpleQuery('select count(*)::int as n from pg_prepared_statements')
  return (result!.rows[0] as { n: number }).n
}

async function freshTable(client: Opened['client']) {
  await client.batchExecute(
    `drop table if exists ${table}, ${table}_log; create table ${table} (k int primary key, v int);
     insert into ${table} values (1, 1); create table ${table}_log (k int)`,
  )
}

describe('batch and the statement cache', () => {
  it('a batch of more new texts than the cache holds leaves no statement on the server beyond the cache size', async () => {
    const { client } = await db({ statementCacheSize: 2 })
    for (let round = 0; round < 5; round++)
      await client.batch(Array.from({ length: 4 }, (_, i) => [`select ${round * 10 + i} as n`] as const))
    await client.query('select 1')
    expect(await serverStatements(client)).toBeLessThanOrEqual(2)
  })

  it('a stale retry of a batch with the same text twice leaves one statement for it on the server', async () => {
    const { client } = await db()
    await freshTable(client)
    const twice = [[`select * from ${table}`], [`select * from ${table}`]] as const
    await client.batch(twice)
    await client.batch(twice)
    await admin(`alter table ${table} add column b int`)
    await client.batch(twice)
    expect(await serverStatements(client)).toBe(1)
  })

  it('a batch that binds a cached statement its own new texts evict runs inside a transaction', async () => {
    const { client } = await db({ statementCacheSize: 2 })
    const results = await client.transaction(async (tx) => {
      await tx.query('select 1 as a')
      await tx.query('select 1 as a')
      await tx.query('select 2 as b')
      await tx.query('select 2 as b')
      return tx.batch([['select 1 as a'], ['select 3 as c'], ['select 4 as d']])
    })
    expect(results.map((r) => r.rows[0])).toEqual([{ a: 1 }, { c: 3 }, { d: 4 }])
  })

  it('a batch that binds a cached statement its own new texts evict runs before the requests issued after it', async () => {
    const { client } = await db({ statementCacheSize: 1 })
    await freshTable(client)
    const read = `select v from ${table} where k = 1`
    await client.query(read)
    await client.query(read)
    const [batch, update] = await Promise.all([
      client.batch([[read], ['select 1 as x']]),
      client.query(`update ${table} set v = 2 where k = 1`),
    ])
    expect(update.rowCount).toBe(1)
    // Issued before the update, the batch must read the value before it.
    expect(batch[0]!.rows).toEqual([{ v: 1 }])
  })

  it('a query behind a failed batch, bound to a statement the batch was to parse, runs in its place in the pipeline', async () => {
    const { client } = await db()
    await freshTable(client)
    const insert = `insert into ${table}_log values ($1)`
    const [failed, inserted, deleted] = await Promise.allSettled([
      // The error skips the second statement's Parse; the query behind binds the name it was to create.
      client.batch([['select 1/0'], [insert, [1]]]),
      client.query(insert, [2]),
      client.query(`delete from ${table}_log where k = 2`),
    ])
    expect(failed.status).toBe('rejected')
    expect(inserted.status).toBe('fulfilled')
    // Issued after the insert, the delete must see its row.
    expect(deleted.status === 'fulfilled' && deleted.value.rowCount).toBe(1)
    expect(await admin(`select k from ${table}_log`)).toEqual([])
  })

  it('a transaction batch of a cached text and 100 new ones runs with the default cache size', async () => {
    const { client } = await db()
    await client.query('select 0 as z')
    await client.query('select 0 as z')
    const results = await client.transaction((tx) =>
      tx.batch([
        ['select 0 as z'],
        ...Array.from({ length: 100 }, (_, i) => [`select ${i + 1} as n`] as [string]),
      ]),
    )
    expect(results.length).toBe(101)
  })

  it('a stale re-run of a batch does not take a session advisory lock twice', async () => {
    const { client } = await db()
    await freshTable(client)
    const read = `select * from ${table}`
    await client.query(read)
    await client.query(read)
    await admin(`alter table ${table} add column b int`)
    // The stale statement is not the first: the batch is not run again (the lock would be taken twice); it
    // rejects with the server's error, and the lock taken once stays until unlocked.
    const error = await client.batch([['select pg_advisory_lock(4242)'], [read]]).catch((e: unknown) => e)
    expect((error as Error).message).toMatch(/cached plan must not change result type/)
    const [unlocked] = await client.simpleQuery('select pg_advisory_unlock(4242) as ok')
    expect(unlocked!.rows).toEqual([{ ok: true }])
    // One lock, one unlock: the lock is free again.
    const [held] = await client.simpleQuery(
      "select count(*)::int as n from pg_locks where locktype = 'advisory' and objid = 4242 and pid = pg_backend_pid()",
    )
    expect(held!.rows).toEqual([{ n: 0 }])
  })

  it('a batch with COMMIT before a stale statement does not run its committed statements twice', async () => {
    const { client } = await db()
    await freshTable(client)
    const read = `select * from ${table}`
    await client.query(read)
    await client.query(read)
    await admin(`alter table ${table} add column b int`)
    await client.batch([[`insert into ${table}_log values (1)`], ['commit'], [read]]).catch(() => {})
    expect(await admin(`select k from ${table}_log`)).toEqual([{ k: 1 }])
  })
})

describe('the query path and the statement cache', () => {
  it('a stale cached select * pipelined before an insert does not see the insert', async () => {
    const { client } = await db()
    await freshTable(client)
    const read = `select * from ${table}_log`
    await client.query(read)
    await client.query(read)
    await admin(`alter table ${table}_log add column b int`)
    const [before, inserted] = await Promise.allSettled([
      client.query(read),
      client.query(`insert into ${table}_log values (1)`),
    ])
    expect(inserted.status).toBe('fulfilled')
    // Not retried behind the insert (it would see it): the server's error, and the next call prepares anew.
    expect(before.status).toBe('rejected')
    expect(((before as PromiseRejectedResult).reason as Error).message).toMatch(/cached plan must not change/)
    expect((await client.query(read)).rows).toEqual([{ k: 1, b: null }])
  })

  it('after DISCARD ALL, a cached insert pipelined before a delete is deleted by it', async () => {
    const { client } = await db()
    await freshTable(client)
    const insert = `insert into ${table}_log values ($1)`
    await client.query(insert, [0])
    await client.query(insert, [0])
    const [, , deleted] = await Promise.all([
      client.query('discard all'),
      client.query(insert, [1]),
      client.query(`delete from ${table}_log where k = 1`),
    ])
    expect(deleted.rowCount).toBe(1)
  })

  it('a query bound to a statement whose held Parse was withdrawn runs in its place in the pipeline', async () => {
    const { client } = await db()
    await freshTable(client)
    const insert = `insert into ${table}_log values ($1)`
    const holder = new AbortController()
    const withdrawn = new AbortController()
    // The head holds the wire (a signal): the queries behind it are held, not written.
    const head = client.query('select pg_sleep(0.1)', [], { signal: holder.signal })
    const first = client.query(insert, [1], { signal: withdrawn.signal })
    const second = client.query(insert, [2])
    const deleted = client.query(`delete from ${table}_log where k = 2`)
    withdrawn.abort()
    const settled = await Promise.allSettled([head, first, second, deleted])
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled'])
    expect((settled[3] as PromiseFulfilledResult<{ rowCount: number }>).value.rowCount).toBe(1)
  })

  it('inside a transaction, a query bound to a statement whose held Parse was withdrawn succeeds', async () => {
    const { client } = await db()
    await freshTable(client)
    const insert = `insert into ${table}_log values ($1)`
    await client.transaction(async (tx) => {
      const holder = new AbortController()
      const withdrawn = new AbortController()
      const head = tx.query('select pg_sleep(0.1)', [], { signal: holder.signal })
      const first = tx.query(insert, [1], { signal: withdrawn.signal }).catch((e: unknown) => e)
      const second = tx.query(insert, [2])
      withdrawn.abort()
      await head
      await first
      expect((await second).rowCount).toBe(1)
    })
    expect(await admin(`select k from ${table}_log`)).toEqual([{ k: 2 }])
  })
})
