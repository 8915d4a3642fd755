/**
 * Adversarial review of the statement cache's pipeline order (commit 612cadf): pipelined bursts of mixed
 * texts while another session alters the table, small caches, the pool, and requests withdrawn unsent.
 * Each call is checked against the order it was issued in: a read sees exactly the writes issued before it
 * that succeeded, and a write that rejected left nothing behind.
 */
import { createPool, isDatabaseError, isPgError, type QueryResult } from '@edgepg/client'
import { afterAll, describe, expect, it } from 'vitest'
import { admin, type Opened, openEach, transport, transportKind, url } from './helpers.ts'

const db = openEach()
const table = `adv_cache_burst_${transportKind}`
afterAll(() => admin(`drop table if exists ${table}`))

type Queryable = Pick<Opened['client'], 'query'>

/** Prepared statements the server holds for this session (read through the simple protocol: no cache). */
async function serverStatements(client: Opened['client']): Promise<number> {
  const [result] = await client.simpleQuery('select count(*)::int as n from pg_prepared_statements')
  return (result!.rows[0] as { n: number }).n
}

/** What a stale statement may reject with when it cannot be retried (requests were sent behind it). */
const isStale = (e: unknown) => isDatabaseError(e, '0A000') || isDatabaseError(e, '26000')

/**
 * Issues `writes` inserts (two texts) interleaved with counting reads (two texts), all in one tick, and checks
 * each read counts exactly the inserts issued before it that resolved; a rejected insert must be stale and
 * absent. Returns the keys that were inserted.
 */
async function burst(client: Queryable, first: number, writes: number): Promise<number[]> {
  const inserts: { k: number; call: Promise<unknown> }[] = []
  const reads: { before: number; call: Promise<{ rows: unknown[] }> }[] = []
  for (let i = 0; i < writes; i++) {
    const k = first + i
    const text =
      i % 2 === 0
        ? `insert into ${table} (k, v) values ($1, $1) returning *`
        : `insert into ${table} (k, v) values ($1, $1) returning * /* odd */`
    inserts.push({ k, call: client.query(text, [k]) })
    if (i % 3 === 2) {
      const read =
        i % 2 === 0
          ? `select count(*)::int as n from ${table} where k >= $1`
          : `select * from ${table} where k >= $1 order by k`
      reads.push({ before: inserts.length, call: client.query(read, [first]) })
    }
  }
  const [outcomes, readOutcomes] = await Promise.all([
    Promise.allSettled(inserts.map((x) => x.call)),
    Promise.allSettled(reads.map((x) => x.call)),
  ])
  const inserted: number[] = []
  outcomes.forEach((o, i) => {
    if (o.status === 'fulfilled') inserted.push(inserts[i]!.k)
    else if (!isStale(o.reason)) throw o.reason
  })
  reads.forEach((r, j) => {
    const o = readOutcomes[j]!
    if (o.status === 'rejected') {
      if (!isStale(o.reason)) throw o.reason
      return
    }
    const seen = o.value.rows
    const expected = outcomes.slice(0, r.before).filter((o) => o.status === 'fulfilled').length
    const row0 = seen[0] as { n?: number } | undefined
    const count = row0 !== undefined && typeof row0.n === 'number' ? row0.n : seen.length
    expect(count, `a read issued after ${r.before} inserts`).toBe(expected)
  })
  return inserted
}

async function freshTable() {
  await admin(`drop table if exists ${table}; create table ${table} (k int primary key, v int)`)
}

async function rowsFrom(first: number, client: Queryable): Promise<number[]> {
  const { rows } = await client.query(`select k from ${table} where k >= $1 order by k`, [first])
  return (rows as { k: number }[]).map((r) => r.k)
}

describe('pipelined bursts while another session alters the table', () => {
  for (const statementCacheSize of [1, 2, 100]) {
    it(`reads see exactly the writes issued before them and no write is lost or doubled (cache ${statementCacheSize})`, async () => {
      await freshTable()
      const { client } = await db({ statementCacheSize })
      let first = 0
      for (let round = 0; round < 6; round++) {
        // Every text cached and bound, then the table changes under it: the burst's statements go stale.
        await burst(client, 100_000 + round, 1)
        await burst(client, 200_000 + round, 1)
        await admin(`delete from ${table}`)
        if (round % 2 === 0) await admin(`alter table ${table} add column extra${round} int`)
        const altering =
          round % 2 === 1 ? admin(`alter table ${table} add column extra${round} int`) : undefined
        first = (round + 1) * 1000
        const inserted = await burst(client, first, 12)
        await altering
        expect(await rowsFrom(first, client)).toEqual(inserted)
        await client.query('select 1')
        expect(await serverStatements(client)).toBeLessThanOrEqual(statementCacheSize)
      }
    })
  }

  it('the pool keeps each connection in order while the table changes under the pipelined callers', async () => {
    await freshTable()
    const pool = createPool(url(), { transport: transport(), max: 2, statementCacheSize: 2 })
    try {
      for (let round = 0; round < 4; round++) {
        await burst(pool, 300_000 + round * 10, 2)
        const altering = admin(`alter table ${table} add column p${round} int`)
        if (round % 2 === 0) await altering
        // Two connections: a read on one may not see a write on the other, so only write outcomes are checked.
        const first = 400_000 + round * 100
        const calls = Array.from({ length: 16 }, (_, i) =>
          pool.query(`insert into ${table} (k, v) values ($1, $1) returning *`, [first + i]),
        )
        const outcomes = await Promise.allSettled(calls)
        await altering
        const inserted: number[] = []
        outcomes.forEach((o, i) => {
          if (o.status === 'fulfilled') inserted.push(first + i)
          else if (!isStale(o.reason)) throw o.reason
        })
        const { rows } = await pool.query(`select k from ${table} where k between $1 and $2 order by k`, [
          first,
          first + 99,
        ])
        expect((rows as { k: number }[]).map((r) => r.k)).toEqual(inserted)
      }
    } finally {
      await pool.end()
    }
  })
})

describe('requests withdrawn before they were written', () => {
  it('a new text withdrawn unsent leaves the cache able to run it, in order, with no statement left behind', async () => {
    await freshTable()
    const { client } = await db({ statementCacheSize: 2 })
    const insert = `insert into ${table} (k, v) values ($1, $1) returning *`
    const count = `select count(*)::int as n from ${table} where k >= $1`
    for (let round = 0; round < 5; round++) {
      const base = round * 10
      // A request with a signal holds the wire: the ones behind it wait in the held queue.
      const slow = client.query('select pg_sleep(0.1)', [], { signal: new AbortController().signal })
      const withdrawn = new AbortController()
      const timedOut = client.query(insert, [base + 1], { timeout: 1 })
      const aborted = client.query(insert, [base + 2], { signal: withdrawn.signal })
      const kept = client.query(insert, [base + 3])
      const abortedBatch = client.batch(
        [
          [insert, [base + 4]],
          [count, [base]],
        ],
        { signal: withdrawn.signal },
      )
      const read = client.query(count, [base])
      withdrawn.abort()
      const results = await Promise.allSettled([slow, timedOut, aborted, kept, abortedBatch, read])
      expect(results[0]!.status).toBe('fulfilled')
      expect(results[3]!.status).toBe('fulfilled')
      const timedOutRan = results[1]!.status === 'fulfilled'
      if (!timedOutRan) expect(isPgError((results[1] as PromiseRejectedResult).reason, 'timeout')).toBe(true)
      expect(isPgError((results[2] as PromiseRejectedResult).reason, 'aborted')).toBe(true)
      expect(isPgError((results[4] as PromiseRejectedResult).reason, 'aborted')).toBe(true)
      const expectedKeys = [...(timedOutRan ? [base + 1] : []), base + 3]
      const n = ((results[5] as PromiseFulfilledResult<QueryResult>).value.rows[0] as { n: number }).n
      const keys = await rowsFrom(base, client)
      expect(keys.filter((k) => k < base + 10)).toEqual(expectedKeys)
      // The read was issued after the kept insert (and the timed-out one, had it run): it counts them.
      expect(n).toBe(expectedKeys.length)
      await client.query('select 1')
      expect(await serverStatements(client)).toBeLessThanOrEqual(2)
    }
  })
})

describe('DEALLOCATE ALL inside a transaction', () => {
  it('keeps the cache in step with the server: cached texts run inside and after it, no statement leaks', async () => {
    const { client } = await db({ statementCacheSize: 4 })
    await client.query('select 1 as a')
    await client.query('select 1 as a')
    await client.transaction(async (tx) => {
      await tx.query('deallocate all')
      expect((await tx.query('select 1 as a')).rows).toEqual([{ a: 1 }])
    })
    const [a, b] = await Promise.all([client.query('select 1 as a'), client.query('select 2 as b')])
    expect([a.rows, b.rows]).toEqual([[{ a: 1 }], [{ b: 2 }]])
    expect(await serverStatements(client)).toBeLessThanOrEqual(4)
  })
})
