import { connect, isDatabaseError, isPgError } from '@edgepg/client'
import { describe, expect, it } from 'vitest'
import { admin, type Opened, open, openEach, transport, transportKind, url } from './helpers.ts'

const db = openEach()

/** Counts this session's prepared statements through the simple protocol, which the cache never touches. */
async function prepared(client: Opened['client'], text?: string): Promise<number> {
  const filter = text === undefined ? '' : ` where statement = '${text.replaceAll("'", "''")}'`
  const [result] = await client.simpleQuery(`select count(*)::int as n from pg_prepared_statements${filter}`)
  return result!.rows[0]!.n as number
}

const table = `cache_${transportKind}`

describe('statement cache', () => {
  it('prepares repeated SQL once per connection and then only binds it', async () => {
    const { client } = await db()
    for (let i = 0; i < 5; i++)
      expect((await client.queryOne<{ n: number }>('select $1::int as n', [i])).n).toBe(i)
    expect(await prepared(client, 'select $1::int as n')).toBe(1)
  })

  it('returns the same values when later runs switch to binary results', async () => {
    const { client } = await db()
    const sql = `select 42::int4 as a, 9007199254740991::int8 as b, 1.5::numeric as c, 'x'::text as d,
      '2024-02-29 12:34:56.789+00'::timestamptz as e, '{"k":[1,2]}'::jsonb as f, '\\xdeadbeef'::bytea as g,
      array[1,null,3]::int4[] as h, true as i, 2.5::float8 as j, '1 day 2 hours'::interval as k,
      '2024-02-29'::date as l, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid as m, null::int as n`
    const first = await client.query(sql)
    const second = await client.query(sql)
    const third = await client.query(sql)
    expect(second.rows).toEqual(first.rows)
    expect(third.rows).toEqual(first.rows)
    expect(second.fields.map((f) => f.name)).toEqual(first.fields.map((f) => f.name))
  })

  it('keeps at most statementCacheSize statements and closes the evicted ones on the server', async () => {
    const { client } = await db({ statementCacheSize: 3 })
    for (let i = 0; i < 6; i++) await client.query(`select ${i} as n`)
    expect(await prepared(client)).toBe(3)
  })

  it('statementCacheSize 0 prepares nothing', async () => {
    const { client } = await db({ statementCacheSize: 0 })
    await client.query('select 1 as n')
    await client.query('select 1 as n')
    expect(await prepared(client)).toBe(0)
  })

  it('re-prepares once when the result type changed (cached plan must not change result type)', async () => {
    const { client } = await db()
    await client.batchExecute(
      `drop table if exists ${table}; create table ${table} (a int); insert into ${table} values (1)`,
    )
    expect((await client.query(`select * from ${table}`)).rows).toEqual([{ a: 1 }])
    expect((await client.query(`select * from ${table}`)).rows).toEqual([{ a: 1 }])
    await admin(`alter table ${table} add column b text default 'new'`)
    expect((await client.query(`select * from ${table}`)).rows).toEqual([{ a: 1, b: 'new' }])
    await client.query(`drop table ${table}`)
  })

  it('re-prepares once after DEALLOCATE ALL removed the statements', async () => {
    const { client } = await db()
    expect((await client.queryOne<{ n: number }>('select $1::int + 1 as n', [1])).n).toBe(2)
    await client.simpleQuery('deallocate all')
    expect((await client.queryOne<{ n: number }>('select $1::int + 1 as n', [2])).n).toBe(3)
  })

  it('inside a transaction, reports the stale plan (nothing may be retried there) and recovers after it', async () => {
    const { client } = await db()
    const name = `${table}_tx`
    await client.batchExecute(`drop table if exists ${name}; create table ${name} (a int)`)
    await client.query(`select * from ${name}`)
    await client.query(`select * from ${name}`)
    await admin(`alter table ${name} add column b int`)
    const error = await client
      .transaction(async (tx) => {
        await tx.query(`select * from ${name}`)
      })
      .catch((e: unknown) => e)
    expect(isDatabaseError(error, '0A000')).toBe(true)
    expect((await client.query(`select * from ${name}`)).fields.map((f) => f.name)).toEqual(['a', 'b'])
    await client.query(`drop table ${name}`)
  })

  it('gives every pipelined copy of a bad statement the real syntax error', async () => {
    const { client } = await db()
    const results = await Promise.allSettled([1, 2, 3].map(() => client.query('selec 1')))
    for (const result of results) {
      expect(result.status).toBe('rejected')
      expect(isDatabaseError((result as PromiseRejectedResult).reason, '42601')).toBe(true)
    }
    expect(await prepared(client)).toBe(0)
  })

  it('pipelined first uses of one statement all succeed', async () => {
    const { client } = await db()
    const rows = await Promise.all(
      Array.from({ length: 20 }, (_, i) => client.queryOne<{ n: number }>('select $1::int * 2 as n', [i])),
    )
    expect(rows.map((r) => r.n)).toEqual(Array.from({ length: 20 }, (_, i) => i * 2))
    expect(await prepared(client, 'select $1::int * 2 as n')).toBe(1)
  })

  it('validates statementCacheSize before any I/O', async () => {
    const error = await connect(url(), { transport: transport(), statementCacheSize: -1 }).catch(
      (e: unknown) => e,
    )
    expect(isPgError(error, 'config')).toBe(true)
    expect((error as Error).message).toMatch(/statementCacheSize must be an integer ≥ 0, found -1/)
  })
})

describe('the statement cache under requests that never reach the server', () => {
  it('a query refused before it was sent leaves no cached name behind (found by the lifecycle model)', async () => {
    const { client } = await open()
    const controller = new AbortController()
    controller.abort()
    await expect(
      client.query('select $1::text as token', ['x'], { signal: controller.signal }),
    ).rejects.toSatisfy((e) => isPgError(e, 'aborted'))
    await client.query('begin')
    expect(await client.queryOne('select $1::text as token', ['y'])).toEqual({ token: 'y' })
    await client.query('commit')
    await client.end()
  })

  it('a query pipelined behind a failed Parse in a failed transaction reports 25P02, not 26000', async () => {
    const { client } = await open()
    await client.query('begin')
    await client.query('select 1/0').catch(() => {})
    const [a, b] = await Promise.all([
      client.query('select $1::text as token', ['a']).catch((e: unknown) => e),
      client.query('select $1::text as token', ['b']).catch((e: unknown) => e),
    ])
    expect(isDatabaseError(a, '25P02')).toBe(true)
    expect(isDatabaseError(b, '25P02'), String(b)).toBe(true)
    await client.query('rollback')
    await client.end()
  })

  it('DEALLOCATE ALL and DISCARD ALL empty the cache: a query in flight during end() still gets its answer', async () => {
    for (const reset of ['deallocate all', 'discard all']) {
      const { client } = await open()
      await client.query('select $1::text as token', ['x'])
      await client.simpleQuery(reset)
      const pending = client.query('select $1::text as token', ['in flight'])
      const ended = client.end()
      expect((await pending).rows).toEqual([{ token: 'in flight' }])
      await ended
    }
  })
})

// From the adversarial review of per-query types (each failed before its fix).
describe('statement cache, as a caller can misuse it', () => {
  it("keeps its own copy of a statement's fields: a result's fields changed by the caller change nothing later", async () => {
    const { client } = await db()
    const renamed = await client.query('select $1::int4 as i', [1])
    renamed.fields[0]!.name = 'renamed'
    renamed.fields[0]!.typeOid = 25
    expect((await client.query('select $1::int4 as i', [2])).rows).toEqual([{ i: 2 }])
    expect((await client.query('select $1::int4 as i', [3], { types: { raw: true } })).rows).toEqual([
      { i: '3' },
    ])
    const sorted = await client.query('select $1::int4 as b, 0::int4 as a', [1])
    sorted.fields.sort((x, y) => x.name.localeCompare(y.name))
    expect((await client.query('select $1::int4 as b, 0::int4 as a', [2])).rows).toEqual([{ b: 2, a: 0 }])
    const dropped = await client.query("select $1::int4 as b, 'x'::text as a", [1])
    dropped.fields.pop()
    expect((await client.query("select $1::int4 as b, 'x'::text as a", [2])).rows).toEqual([{ b: 2, a: 'x' }])
    expect((await client.query('select 1 as one')).rows).toEqual([{ one: 1 }])
  })

  it('closes the statements a result-type change made stale: one server statement per cached text', async () => {
    const { client } = await db({ statementCacheSize: 100 })
    const orphans = `${table}_orphan`
    await client.query(`drop table if exists ${orphans}`)
    await client.query(`create table ${orphans} (a int4)`)
    const sql = `select * from ${orphans}`
    await client.query(sql)
    await client.query(sql)
    for (let round = 0; round < 4; round++) {
      await client.query(`alter table ${orphans} alter column a type ${round % 2 ? 'int4' : 'int8'}`)
      await Promise.all(Array.from({ length: 5 }, () => client.query(sql)))
    }
    expect(await prepared(client, sql)).toBe(1)
    await client.query(`drop table ${orphans}`)
  })
})
