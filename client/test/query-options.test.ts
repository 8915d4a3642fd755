// Per-query row mode, result size limit and types, and raw text values: what the relay's HTTP queries run on, and
// what a user who needs duplicate column names or a bounded result gets.
import { createPool, isPgError, Oid } from '@edgepg/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { admin, type Opened, open, transport, url, waitFor } from './helpers.ts'

let db: Opened
beforeAll(async () => {
  db = await open()
})
afterAll(async () => {
  await db.client.end()
})

describe("rowMode: 'array'", () => {
  it('keeps every value of columns with the same name, in column order', async () => {
    const result = await db.client.query<unknown[]>(
      'select 1 as a, 2 as a, null::text as b, $1::text as a',
      ['x'],
      {
        rowMode: 'array',
      },
    )
    expect(result.rows).toEqual([[1, 2, null, 'x']])
    expect(Array.isArray(result.rows[0])).toBe(true)
    expect(result.fields.map((f) => f.name)).toEqual(['a', 'a', 'b', 'a'])
  })

  it('applies to cached statements (binary results) and to queryOne', async () => {
    const sql = 'select $1::int8 as n, $1::int8 as n, now() as t'
    for (let i = 0; i < 3; i++) {
      const row = await db.client.queryOne<unknown[]>(sql, [BigInt(i)], { rowMode: 'array' })
      expect(row.slice(0, 2)).toEqual([BigInt(i), BigInt(i)])
      expect(row[2]).toBeInstanceOf(Date)
    }
    // The same text without the option still gives objects.
    expect(await db.client.queryOne(sql, [5n])).toMatchObject({ n: 5n })
  })

  it('applies to queryRaw', async () => {
    const rows: unknown[] = []
    for await (const row of db.client.queryRaw('select g, g from generate_series(1, 5) g', [], {
      rowMode: 'array',
      batchSize: 2,
    }))
      rows.push(row)
    expect(rows).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
      [4, 4],
      [5, 5],
    ])
  })

  it('refuses a row mode it does not know, before sending anything', async () => {
    const error = await db.client
      .query('select 1', [], { rowMode: 'arrays' as 'array' })
      .catch((e: unknown) => e)
    expect(isPgError(error, 'usage')).toBe(true)
    expect((error as Error).message).toMatch(/rowMode must be 'object' or 'array', found arrays/)
  })
})

describe('maxResultBytes', () => {
  it('returns a result under the limit as usual', async () => {
    const result = await db.client.query('select g from generate_series(1, 100) g', [], {
      maxResultBytes: 10_000,
    })
    expect(result.rows).toHaveLength(100)
  })

  it('rejects a larger result with kind limit, cancels the statement, and leaves the connection usable', async () => {
    const pid = (await db.client.queryOne<{ pid: number }>('select pg_backend_pid() as pid')).pid
    // Rows without end, streamed as they are made (a set-returning function in the select list is not
    // materialized first): only a cancel stops this statement.
    const error = await db.client
      .query("select generate_series(1, 1000000000) as g, repeat('x', 100) as x", [], {
        maxResultBytes: 100_000,
      })
      .catch((e: unknown) => e)
    expect(isPgError(error, 'limit')).toBe(true)
    expect((error as Error).message).toMatch(/larger than maxResultBytes \(100000 bytes\)/)
    await waitFor(async () => {
      const [row] = await admin<{ state: string }>('select state from pg_stat_activity where pid = $1', [pid])
      return row?.state === 'idle'
    })
    expect((await db.client.queryOne<{ n: number }>('select 41 + 1 as n')).n).toBe(42)
    expect(db.client.transactionStatus).toBe('idle')
  })

  it('counts row bytes, so a result of exactly the limit passes and one byte more does not', async () => {
    const sql = "select repeat('y', 96) as s from generate_series(1, 10)"
    // 10 rows × (7 bytes of message header + 4 length bytes + 96 bytes) = 1070 bytes.
    expect((await db.client.query(sql, [], { maxResultBytes: 1070 })).rows).toHaveLength(10)
    const error = await db.client.query(sql, [], { maxResultBytes: 1069 }).catch((e: unknown) => e)
    expect(isPgError(error, 'limit')).toBe(true)
  })

  it('counts rows without columns too, so millions of them cannot pass as nothing', async () => {
    // 7 bytes each: 1000 rows fit in 7000 bytes, 200 000 do not.
    expect(
      (await db.client.query('select from generate_series(1, 1000)', [], { maxResultBytes: 7000 })).rows,
    ).toHaveLength(1000)
    const error = await db.client
      .query('select from generate_series(1, 200000)', [], { maxResultBytes: 100_000 })
      .catch((e: unknown) => e)
    expect(isPgError(error, 'limit')).toBe(true)
  })

  it('still honours the caller signal', async () => {
    const controller = new AbortController()
    const pending = db.client.query('select pg_sleep(10)', [], {
      maxResultBytes: 1000,
      signal: controller.signal,
    })
    setTimeout(() => controller.abort(), 100)
    const error = await pending.catch((e: unknown) => e)
    expect(isPgError(error, 'aborted') || (error as { code?: string }).code === '57014').toBe(true)
    expect((await db.client.queryOne<{ n: number }>('select 1 as n')).n).toBe(1)
  })

  it('refuses a limit that is not a positive whole number', async () => {
    for (const bad of [0, -1, 1.5, Number.NaN, '10' as unknown as number]) {
      const error = await db.client.query('select 1', [], { maxResultBytes: bad }).catch((e: unknown) => e)
      expect(isPgError(error, 'usage')).toBe(true)
    }
  })
})

describe('types: { raw: true }', () => {
  it("returns every value as the server's text, also from cached statements", async () => {
    const raw = await open({ types: { raw: true } })
    try {
      const sql =
        "select 1::int4 as i, 2::int8 as l, true as b, '\\x0102'::bytea as y, array[1,2] as a, " +
        "'2024-01-02 03:04:05+00'::timestamptz as t, '{\"k\":1}'::jsonb as j, 1.50::numeric as n, null::int as z"
      for (let i = 0; i < 3; i++) {
        const result = await raw.client.query(sql)
        expect(result.rows[0]).toEqual({
          i: '1',
          l: '2',
          b: 't',
          y: '\\x0102',
          a: '{1,2}',
          t: '2024-01-02 03:04:05+00',
          j: '{"k": 1}',
          n: '1.50',
          z: null,
        })
        expect(result.fields.every((f) => f.format === 0)).toBe(true)
        expect(result.fields[0]!.typeOid).toBe(Oid.int4)
      }
    } finally {
      await raw.client.end()
    }
  })
})

describe('types per query', () => {
  const RAW = { raw: true }
  const DATES_AS_TEXT = { dates: 'string' as const }
  const PARSERS = { parsers: { [Oid.int4]: (text: string) => `int4:${text}`, [Oid.numeric]: Number } }
  const KINDS = [undefined, RAW, DATES_AS_TEXT, PARSERS]
  const SQL =
    "select $1::int4 as i, 2::int8 as l, true as b, '\\x0102'::bytea as y, array[1,2] as a, " +
    "'2024-01-02 03:04:05.678+00'::timestamptz as t, '1 day 02:03:04'::interval as v, 1.50::numeric as n, " +
    '\'{"k":1}\'::jsonb as j, null::int as z'

  it('decodes each query as a connection made with those types would, on one cached statement, in any order', async () => {
    // The oracle: one connection per kind, made with the types as its own.
    const oracles = await Promise.all(KINDS.map((types) => open(types ? { types } : {})))
    try {
      // A fixed pseudo-random order of 40 queries, so every kind follows every other on the same statement.
      let seed = 7
      const order = Array.from({ length: 40 }, () => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31
        return seed % KINDS.length
      })
      for (const [i, kind] of order.entries()) {
        const types = KINDS[kind]
        const got = await db.client.query(SQL, [i], types ? { types } : {})
        const expected = await oracles[kind]!.client.query(SQL, [i])
        expect(got.rows, `query ${i} with ${JSON.stringify(types)}`).toEqual(expected.rows)
        expect(got.fields.map((f) => f.format)).toEqual(expected.fields.map((f) => f.format))
      }
      expect((await db.client.queryOne(SQL, [1], { types: RAW })).i).toBe('1')
      expect((await db.client.queryOne(SQL, [1], { types: PARSERS })).i).toBe('int4:1')
      expect((await db.client.queryOne(SQL, [1])).t).toBeInstanceOf(Date)
    } finally {
      await Promise.all(oracles.map((o) => o.client.end()))
    }
  })

  it('applies to pool.query and to a leased client, and leaves the pool decoding as it was made', async () => {
    const pool = createPool(url(), { transport: transport(), max: 2 })
    try {
      const sql = "select '2024-01-02'::date as d, 5::int8 as l"
      expect((await pool.query(sql, [], { types: RAW })).rows[0]).toEqual({ d: '2024-01-02', l: '5' })
      expect((await pool.query(sql)).rows[0]).toEqual({ d: '2024-01-02', l: 5n })
      const client = await pool.connect()
      try {
        expect((await client.query(sql, [], { types: RAW })).rows[0]).toEqual({ d: '2024-01-02', l: '5' })
        expect((await client.query(sql)).rows[0]).toEqual({ d: '2024-01-02', l: 5n })
      } finally {
        client.release()
      }
    } finally {
      await pool.end()
    }
  })

  it('refuses types on a prepared statement and types that are not an object, before sending anything', async () => {
    const statement = await db.client.prepare('select $1::int4 as n')
    await expect(db.client.query(statement, [1], { types: RAW })).rejects.toThrow(
      /types is not an option of a query on a prepared statement/,
    )
    await expect(db.client.query('select 1', [], { types: 'raw' as never })).rejects.toThrow(
      'types must be an object of type options ({ parsers, dates, raw }), found raw',
    )
    expect((await db.client.query(statement, [3])).rows).toEqual([{ n: 3 }])
  })
})

describe('simpleQuery with rowMode and types', () => {
  it('builds each statement’s rows as asked and decodes them with the given types, the connection’s otherwise', async () => {
    const text = "select 1 as a, 2 as a; select 5::int8 as n, '2024-01-02'::date as d"
    const [first, second] = await db.client.simpleQuery(text, { rowMode: 'array', types: { raw: true } })
    expect(first!.rows).toEqual([['1', '2']])
    expect(second!.rows).toEqual([['5', '2024-01-02']])
    const [, plain] = await db.client.simpleQuery(text)
    expect({ ...plain!.rows[0] }).toEqual({ n: 5n, d: '2024-01-02' })
  })

  it('refuses a row mode or types it does not know, before sending anything', async () => {
    await expect(db.client.simpleQuery('select 1', { rowMode: 'rows' as never })).rejects.toThrow(
      "rowMode must be 'object' or 'array', found rows",
    )
    await expect(db.client.simpleQuery('select 1', { types: 'raw' as never })).rejects.toThrow(
      'types must be an object of type options ({ parsers, dates, raw }), found raw',
    )
    expect((await db.client.simpleQuery('select 1 as n'))[0]!.rows).toEqual([{ n: 1 }])
  })
})
