/**
 * Adversarial review of the statement cache's pipeline-order rules (commit 612cadf): DISCARD ALL /
 * DEALLOCATE ALL handled as they are sent, the stale-statement retry, and batches re-run after a stale first
 * statement. Server statements are counted through simpleQuery, which bypasses the cache.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { admin, type Opened, openEach, transportKind } from './helpers.ts'

const db = openEach()
const table = `adv_cache_order_${transportKind}`
afterAll(() => admin(`drop table if exists ${table}`))

/** Prepared statements the server holds for this session (read through the simple protocol: no cache). */
async function serverStatements(client: Opened['client']): Promise<number> {
  const [result] = await client.simpleQuery('select count(*)::int as n from pg_prepared_statements')
  return (result!.rows[0] as { n: number }).n
}

async function freshTable(client: Opened['client']) {
  await client.batchExecute(
    `drop table if exists ${table}; create table ${table} (k int primary key, v int); insert into ${table} values (1, 1)`,
  )
}

describe('DISCARD ALL / DEALLOCATE ALL matched as they are sent', () => {
  it('a query whose text mentions discard all in a comment leaves no more statements on the server than the cache holds', async () => {
    const { client } = await db({ statementCacheSize: 2 })
    for (let i = 0; i < 6; i++) await client.query('select 1 as one /* discard all */')
    expect(await serverStatements(client)).toBeLessThanOrEqual(2)
  })

  it('a string literal reading discard all does not leak the cached statements', async () => {
    const { client } = await db({ statementCacheSize: 2 })
    await client.query('select 1 as a')
    await client.query('select 2 as b')
    await client.simpleQuery(`select 'discard all' as s`)
    await client.query('select 1 as a')
    await client.query('select 2 as b')
    expect(await serverStatements(client)).toBeLessThanOrEqual(2)
  })

  it('a DISCARD ALL refused inside a transaction (25001) leaves no more statements on the server than the cache holds', async () => {
    const { client } = await db({ statementCacheSize: 2 })
    await client.query('select 1 as a')
    await client.query('select 2 as b')
    const failure = await client
      .transaction(async (tx) => {
        await tx.batchExecute('discard all')
      })
      .catch((e: unknown) => e)
    expect((failure as { code?: string }).code).toBe('25001')
    await client.query('select 1 as a')
    await client.query('select 2 as b')
    expect(await serverStatements(client)).toBeLessThanOrEqual(2)
  })

  it('a prepared DISCARD ALL run later empties the cache: pipelined queries behind it succeed', async () => {
    const { client } = await db()
    const discard = await client.prepare('discard all')
    await client.query('select 1 as a')
    await client.query('select 1 as a')
    await client.query('select 2 as b')
    await client.query('select 2 as b')
    await client.query(discard)
    const [a, b] = await Promise.all([client.query('select 1 as a'), client.query('select 2 as b')])
    expect([a.rows, b.rows]).toEqual([[{ a: 1 }], [{ b: 2 }]])
  })

  it('a DISCARD ALL with a comment between its words, pipelined before two cached texts, does not fail them', async () => {
    const { client } = await db()
    await client.query('select 1 as a')
    await client.query('select 1 as a')
    await client.query('select 2 as b')
    await client.query('select 2 as b')
    const [, a, b] = await Promise.all([
      client.simpleQuery('discard /* everything */ all'),
      client.query('select 1 as a'),
      client.query('select 2 as b'),
    ])
    expect([a.rows, b.rows]).toEqual([[{ a: 1 }], [{ b: 2 }]])
  })

  it('a DISCARD ALL withdrawn before it was written leaves no more statements on the server than the cache holds', async () => {
    const { client } = await db({ statementCacheSize: 2 })
    await client.query('select 1 as a')
    await client.query('select 2 as b')
    // A request with a signal holds the wire: the DISCARD ALL behind it waits, unwritten, and is withdrawn.
    const slow = client.query('select pg_sleep(0.2)', [], { signal: new AbortController().signal })
    const controller = new AbortController()
    const discard = client.simpleQuery('discard all', { signal: controller.signal })
    controller.abort()
    await expect(discard).rejects.toThrow()
    await slow
    await client.query('select 1 as a')
    await client.query('select 2 as b')
    expect(await serverStatements(client)).toBeLessThanOrEqual(2)
  })

  it('a DISCARD ALL sent in a batch empties the cache as it is sent: the statements made behind it stay cached and none leaks', async () => {
    const { client } = await db({ statementCacheSize: 1 })
    await Promise.all([client.batch([['discard all']]), client.query('select 1 as a')])
    await client.query('select 2 as b')
    expect(await serverStatements(client)).toBeLessThanOrEqual(1)
  })

  it('a batch that runs DISCARD ALL and then a cached text succeeds', async () => {
    const { client } = await db()
    await client.query('select 1 as a')
    await client.query('select 1 as a')
    const [, a] = await client.batch([['discard all'], ['select 1 as a']])
    expect(a!.rows).toEqual([{ a: 1 }])
  })

  it('queries pipelined behind a batch that runs DISCARD ALL do not fail with 26000', async () => {
    const { client } = await db()
    for (const text of ['select 1 as a', 'select 2 as b']) {
      await client.query(text)
      await client.query(text)
    }
    const [, a, b] = await Promise.all([
      client.batch([['discard all']]),
      client.query('select 1 as a'),
      client.query('select 2 as b'),
    ])
    expect([a.rows, b.rows]).toEqual([[{ a: 1 }], [{ b: 2 }]])
  })
})

describe('the stale retry of requests with a deadline or a signal', () => {
  for (const variant of ['queryTimeout', 'timeout', 'signal'] as const) {
    it(`five pipelined copies of a text after ALTER TABLE all succeed with a ${variant}`, async () => {
      const { client } = await db(variant === 'queryTimeout' ? { queryTimeout: 30_000 } : {})
      await freshTable(client)
      const read = `select * from ${table}`
      await client.query(read)
      await client.query(read)
      await admin(`alter table ${table} add column w int`)
      const options =
        variant === 'timeout'
          ? { timeout: 30_000 }
          : variant === 'signal'
            ? { signal: new AbortController().signal }
            : {}
      const results = await Promise.allSettled(
        Array.from({ length: 5 }, () => client.query(read, [], options)),
      )
      expect(results.map((r) => (r.status === 'fulfilled' ? 'ok' : String(r.reason)))).toEqual(
        Array(5).fill('ok'),
      )
    })
  }
})

describe('several drops in one text', () => {
  it('two DEALLOCATE ALL in one simple query leave the statements prepared behind them cached, none leaked', async () => {
    const { client } = await db({ statementCacheSize: 1 })
    await Promise.all([client.simpleQuery('deallocate all; deallocate all'), client.query('select 1 as a')])
    await client.query('select 2 as b')
    expect(await serverStatements(client)).toBeLessThanOrEqual(1)
  })
})

describe('requests aborted after they were written', () => {
  it('a new text aborted while behind another request on the wire leaves no statement on the server', async () => {
    const { client } = await db({ statementCacheSize: 1 })
    const controller = new AbortController()
    const ahead = client.query('select 1 as a')
    // Observed at once: it rejects as soon as it is aborted, before `ahead` answers.
    const aborted = client.query('select 2 as b', [], { signal: controller.signal }).catch((e: unknown) => e)
    controller.abort()
    await ahead
    expect(((await aborted) as Error).message).toMatch('aborted')
    await client.query('select 3 as c')
    await client.query('select 3 as c')
    expect(await serverStatements(client)).toBeLessThanOrEqual(1)
  })
})

describe('the stale retry keeps the order of the queries of the same text', () => {
  it('a stale copy is not retried after queries of its text issued after it', async () => {
    const { client } = await db()
    await client.batchExecute(
      `drop table if exists ${table}_seq; create table ${table}_seq (id serial primary key, tag text, big text)`,
    )
    const insert = `insert into ${table}_seq (tag, big) values ($1, $2) returning *`
    await client.query(insert, ['warm', ''])
    await client.query(insert, ['warm', ''])
    await admin(`alter table ${table}_seq add column extra int`)
    const issued: string[] = []
    const calls: Promise<unknown>[] = []
    const issue = (tag: string, big = '') => {
      issued.push(tag)
      const call = client.query(insert, [tag, big])
      // Observed at once (some reject while later ones are still being issued); allSettled reads them after.
      call.catch(() => {})
      calls.push(call)
    }
    issue('first')
    // Its Bind is 16 MB: the first copy's answer (and its retry being queued) comes long before its own.
    issue('second', 'x'.repeat(16 * 1024 * 1024))
    let isSecondDone = false
    calls[1]!
      .finally(() => {
        isSecondDone = true
      })
      .catch(() => {})
    // Issued after both, while the second's Bind is still on its way.
    for (let i = 0; i < 200 && !isSecondDone; i++) {
      await new Promise((r) => setTimeout(r, 2))
      issue(`later-${i}`)
    }
    const outcomes = await Promise.allSettled(calls)
    const { rows } = await client.query(`select tag from ${table}_seq where tag <> 'warm' order by id`)
    await client.query(`drop table ${table}_seq`)
    const succeeded = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [issued[i]!] : []))
    // The inserts ran in the order they were issued.
    expect((rows as { tag: string }[]).map((r) => r.tag).slice(0, 3)).toEqual(succeeded.slice(0, 3))
  })
})

describe('batch re-run after a stale first statement', () => {
  it('a batch whose first statement went stale after ALTER TABLE runs again even when its planning evicted a statement', async () => {
    const { client } = await db({ statementCacheSize: 2 })
    await freshTable(client)
    const read = `select * from ${table} where k = 1`
    await client.query(read)
    await client.query(read)
    await client.query('select 1 as x')
    await admin(`alter table ${table} add column w int`)
    const [rows, y] = await client.batch([[read], ['select 2 as y']])
    expect(rows!.rows).toEqual([{ k: 1, v: 1, w: null }])
    expect(y!.rows).toEqual([{ y: 2 }])
  })
})
