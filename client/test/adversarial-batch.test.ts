/**
 * An adversarial review of `batch` (issue 14): what a user or an attacker may put in a batch, how its results
 * decode, and its lifecycle. Every promise must settle, and the connection must stay usable or be destroyed,
 * never out of sync. Faults, aborts and long queues are in adversarial-batch-faults.test.ts.
 */
import { isDatabaseError, isPgError, Oid } from '@edgepg/client'
import { afterAll, describe, expect, it } from 'vitest'
import { admin, type Opened, openEach, transportKind } from './helpers.ts'

const db = openEach()

const table = `advb_${transportKind}`
afterAll(() => admin(`drop table if exists ${table}`))

async function freshTable(client: Opened['client']) {
  await client.batchExecute(`drop table if exists ${table}; create table ${table} (k int primary key)`)
}

const committed = async () =>
  ((await admin(`select k from ${table} order by k`)) as { k: number }[]).map((r) => r.k)

describe('what a batch may contain', () => {
  it('runs empty text, no rows, COPY TO STDOUT and DEALLOCATE ALL between cached statements', async () => {
    const { client } = await db()
    const results = await client.batch([
      [''],
      ['select 1 where false'],
      ['copy (select 1) to stdout'],
      ['select 5 as x'],
      ['deallocate all'],
      ['select 5 as x'],
    ])
    expect(results.map((r) => [r.command, r.rowCount, r.rows])).toEqual([
      ['', null, []],
      ['SELECT', 0, []],
      ['COPY', 1, []],
      ['SELECT', 1, [{ x: 5 }]],
      ['DEALLOCATE ALL', null, []],
      ['SELECT', 1, [{ x: 5 }]],
    ])
    // The cache was cleared by DEALLOCATE ALL: the same texts prepare again, in a batch and in a query.
    expect((await client.batch([['select 5 as x']]))[0]!.rows).toEqual([{ x: 5 }])
    expect((await client.query('select 5 as x')).rows).toEqual([{ x: 5 }])
  })

  it('rejects two statements in one text with the server error, and keeps the connection', async () => {
    const { client } = await db()
    const error = await client.batch([['select 1'], ['select 1; select 2']]).catch((e: unknown) => e)
    expect(isDatabaseError(error, '42601')).toBe(true)
    expect((error as Error).message).toMatch(/cannot insert multiple commands into a prepared statement/)
    expect((await client.batch([['select 1 as ok']]))[0]!.rows).toEqual([{ ok: 1 }])
  })

  it('rejects DISCARD ALL (not allowed in the implicit transaction) and keeps the cache in step', async () => {
    const { client } = await db()
    await client.query('select 7 as n')
    await client.query('select 7 as n')
    const error = await client.batch([['select 7 as n'], ['discard all']]).catch((e: unknown) => e)
    expect(isDatabaseError(error, '25001')).toBe(true)
    expect((await client.batch([['select 7 as n']]))[0]!.rows).toEqual([{ n: 7 }])
  })

  it('settles every promise when a statement terminates its own backend', async () => {
    const { client } = await db()
    const before = client.query('select 1 as a')
    const batch = client.batch([
      ['select 1'],
      ['select pg_terminate_backend(pg_backend_pid())'],
      ['select 2'],
    ])
    const after = client.batch([['select 3']])
    const settled = await Promise.allSettled([before, batch, after])
    expect(settled[0]!.status).toBe('fulfilled')
    expect(isDatabaseError((settled[1] as PromiseRejectedResult).reason, '57P01')).toBe(true)
    expect(isPgError((settled[2] as PromiseRejectedResult).reason, 'closed')).toBe(true)
    expect(client.isClosed).toBe(true)
  })

  it('runs BEGIN … COMMIT inside one batch, and a ROLLBACK TO SAVEPOINT in it keeps what came before', async () => {
    const { client } = await db()
    await freshTable(client)
    await client.batch([
      ['begin'],
      [`insert into ${table} values (1)`],
      ['savepoint s'],
      [`insert into ${table} values (2)`],
      ['rollback to savepoint s'],
      [`insert into ${table} values (3)`],
      ['commit'],
    ])
    expect(await committed()).toEqual([1, 3])
    expect(client.transactionStatus).toBe('idle')
  })

  it('rejects a Statement prepared on another connection with the server error, and both connections stay usable', async () => {
    const a = await db()
    const b = await db()
    const statement = await a.client.prepare('select $1::int as n')
    const error = await b.client.batch([['select 1'], [statement, [1]]]).catch((e: unknown) => e)
    expect(isDatabaseError(error, '26000')).toBe(true)
    expect((await a.client.batch([[statement, [2]]]))[0]!.rows).toEqual([{ n: 2 }])
    expect((await b.client.query('select 3 as n')).rows).toEqual([{ n: 3 }])
  })
})

describe('results and decoding', () => {
  it('decodes a cached statement with per-batch raw types as text and with the connection types as values, run after run', async () => {
    const { client } = await db()
    const types = { raw: true as const }
    const sql = 'select 1::int4 as a, 2::int8 as b, true as c'
    for (let i = 0; i < 3; i++) {
      expect((await client.batch([[sql]], { types }))[0]!.rows).toEqual([{ a: '1', b: '2', c: 't' }])
      expect((await client.batch([[sql]]))[0]!.rows).toEqual([{ a: 1, b: 2n, c: true }])
    }
  })

  it('rejects a batch whose parser throws in its middle, and the statements after it stay in step', async () => {
    const { client } = await db()
    const boom = (text: string) => {
      if (text === '2') throw new Error('boom')
      return Number(text)
    }
    const types = { parsers: { [Oid.int4]: boom } }
    for (let i = 0; i < 3; i++) {
      const error = await client
        .batch([['select 1::int4 as a'], ['select 2::int4 as a'], ['select 3::int4 as c']], { types })
        .catch((e: unknown) => e)
      expect((error as Error).message).toMatch(/could not decode a column: Error: boom/)
      const results = await client.batch([['select 3::int4 as c'], ['select 4 as d']])
      expect(results.map((r) => r.rows[0])).toEqual([{ c: 3 }, { d: 4 }])
    }
  })

  it('rejects a statement that sent rows before its error, and keeps the connection', async () => {
    const { client } = await db()
    const error = await client
      .batch([['select 1'], ['select 1 / (3 - g) as x from generate_series(1, 5) g']])
      .catch((e: unknown) => e)
    expect(isDatabaseError(error, '22012')).toBe(true)
    expect((await client.query('select 1 as ok')).rows).toEqual([{ ok: 1 }])
  })

  it('runs 5,000 statements in one batch, and one statement of 30 MB', async () => {
    const { client } = await db()
    const results = await client.batch(
      Array.from({ length: 5000 }, (_, i) => ['select $1::int as n', [i]] as const),
    )
    expect(results.map((r) => (r.rows[0] as { n: number }).n)).toEqual(
      Array.from({ length: 5000 }, (_, i) => i),
    )
    const [big] = await client.batch([["select repeat('x', 1000000) as r from generate_series(1, 30)"]])
    expect(big!.rows.length).toBe(30)
  })

  it('re-runs a stale batch with its signal and timeout still armed, and settles', async () => {
    const { client } = await db()
    await freshTable(client)
    const read = `select * from ${table}`
    await client.query(read)
    await client.query(read)
    await admin(`alter table ${table} add column b int`)
    const controller = new AbortController()
    // The stale statement first: only then is a batch run again (nothing before it could have had an effect).
    const [selected] = await client.batch([[read], ['select 1']], {
      signal: controller.signal,
      timeout: 5000,
    })
    expect(selected!.fields.map((f) => f.name)).toEqual(['k', 'b'])
    controller.abort()
    expect((await client.query('select 1 as ok')).rows).toEqual([{ ok: 1 }])
  })
})

describe('lifecycle', () => {
  it('refuses a batch with a statement that cannot be encoded before sending it, and the cache stays in step', async () => {
    const { client } = await db({ statementCacheSize: 2 })
    await client.query('select 1 as a')
    await client.query('select 1 as a')
    const many = Array.from({ length: 70_000 }, () => 1)
    const error = await client
      .batch([['select 1 as a'], ['select 2 as b'], ['select $1::int as c', many]])
      .catch((e: unknown) => e)
    expect((error as Error).message).toMatch(
      /too many parameters: found 70000, the protocol allows at most 65535/,
    )
    expect((await client.batch([['select 1 as a'], ['select 2 as b']])).map((r) => r.rows[0])).toEqual([
      { a: 1 },
      { b: 2 },
    ])
    const inTransaction = await client.transaction((tx) => tx.batch([['select 2 as b'], ['select 1 as a']]))
    expect(inTransaction.map((r) => r.rows[0])).toEqual([{ b: 2 }, { a: 1 }])
  })

  it('end() lets the batches already sent finish, and a batch after it is refused as closed', async () => {
    const { client } = await db()
    const controller = new AbortController()
    const sent = [
      client.batch([['select pg_sleep(0.05)'], ['select 1 as a']]).then((rs) => rs[1]!.rows),
      client.batch([['select 2 as b']], { signal: controller.signal }).then((rs) => rs[0]!.rows),
      client.query('select 3 as c').then((r) => r.rows),
    ]
    const ended = client.end()
    const late = await client.batch([['select 4']]).catch((e: unknown) => e)
    expect(await Promise.all(sent)).toEqual([[{ a: 1 }], [{ b: 2 }], [{ c: 3 }]])
    await ended
    expect(isPgError(late, 'closed')).toBe(true)
  })

  it('refuses tx.batch on a finished transaction or savepoint with a clear error', async () => {
    const { client } = await db()
    let finished: { batch: (queries: [string][]) => Promise<unknown> } | undefined
    await client.transaction(async (tx) => {
      finished = tx
    })
    expect(((await finished!.batch([['select 1']]).catch((e: unknown) => e)) as Error).message).toBe(
      'transaction is committed: start a new one',
    )
    const tx = await client.begin()
    const savepoint = await tx.savepoint()
    expect((await savepoint.batch([['select 1 as a']]))[0]!.rows).toEqual([{ a: 1 }])
    await tx.rollback()
    expect(((await savepoint.batch([['select 1']]).catch((e: unknown) => e)) as Error).message).toBe(
      'transaction is rolled back: start a new one',
    )
  })
})
