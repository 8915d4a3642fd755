// The HTTP entry's promise, through a real relay and PostgreSQL: for the same SQL and parameters, `http().query`
// gives what `client.query` gives over this project's transport (TCP, or the WebSocket relay) — every value of
// the type corpus under several session settings, parameters of every kind, and errors field by field.
import { type Client, DatabaseError, isPgError, type QueryResult } from '@edgepg/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { admin, type Opened, open, transportKind, url } from '../helpers.ts'
import { corpus, lossy, undecodable } from '../type-corpus.data.ts'
import { sameValue, show } from '../type-corpus.oracle.ts'
import { suiteRelay } from './relay.ts'

const relay = suiteRelay()

/** Session settings, given in the connection string's `options` so every pooled relay connection has them. */
const SESSIONS = [
  '',
  '-c TimeZone=America/St_Johns -c IntervalStyle=iso_8601',
  '-c TimeZone=Pacific/Chatham -c IntervalStyle=sql_standard',
  '-c TimeZone=Asia/Kolkata -c IntervalStyle=postgres_verbose',
]
const query = (options: string) => (options === '' ? undefined : `options=${encodeURIComponent(options)}`)

/** The reference: `client.query` over this project's transport, text results (no statement cache). */
const references = new Map<string, Opened>()
async function reference(options: string): Promise<Client> {
  let opened = references.get(options)
  if (!opened) {
    const q = query(options)
    opened = await open({ url: q === undefined ? url() : `${url()}?${q}`, statementCacheSize: 0 })
    references.set(options, opened)
  }
  return opened.client
}
afterAll(async () => {
  for (const opened of references.values()) await opened.client.end()
})

const select = (exprs: readonly string[]) => `select ${exprs.map((e, i) => `(${e}) as c${i}`).join(', ')}`

/** Every column whose value differs between the two results, one line each. */
function differences(over: QueryResult, wire: QueryResult, exprs: readonly string[]): string[] {
  return exprs.flatMap((expr, i) => {
    const [a, b] = [over.rows[0]![`c${i}`], wire.rows[0]![`c${i}`]]
    return sameValue(a, b) ? [] : [`${expr}: http ${show(a)}, ${transportKind} ${show(b)}`]
  })
}

describe(`http() gives the results of client.query over ${transportKind}`, () => {
  for (const options of SESSIONS) {
    it(`for every expression of the type corpus (options: ${options || 'none'})`, async () => {
      const sql = select(corpus)
      const over = await relay.db({ query: query(options) }).query(sql)
      const wire = await (await reference(options)).query(sql)
      expect(differences(over, wire, corpus).join('\n')).toBe('')
      expect(over.fields).toEqual(wire.fields)
      expect(over).toEqual(wire)
      expect(Object.getPrototypeOf(over.rows[0])).toBe(Object.getPrototypeOf(wire.rows[0]))
      expect([over.command, over.rowCount]).toEqual(['SELECT', 1])
    })
  }

  it('for values JavaScript holds only approximately', async () => {
    const sql = select(lossy.map((c) => c.sql))
    const over = await relay.db().query(sql)
    expect(over).toEqual(await (await reference('')).query(sql))
    for (const [i, c] of lossy.entries()) expect(over.rows[0]![`c${i}`], c.sql).toEqual(c.value)
  })

  it('rejecting values no JavaScript value holds with the same encode error', async () => {
    for (const { sql, error } of undecodable) {
      const text = `select ${sql} as v`
      const client = await reference('')
      const [over, wire] = (await Promise.all([
        relay
          .db()
          .query(text)
          .catch((e: unknown) => e),
        client.query(text).catch((e: unknown) => e),
      ])) as Error[]
      expect(isPgError(over, 'encode'), String(over)).toBe(true)
      expect(over!.message).toMatch(error)
      expect(over!.message).toBe(wire!.message)
    }
  })

  it('in array row mode, duplicate column names included', async () => {
    const sql = `select 1 as n, 'two' as n, null::int as n, array[1,2] as a`
    const over = await relay.db().query(sql, [], { rowMode: 'array' })
    expect(over.rows).toEqual([[1, 'two', null, [1, 2]]])
    expect(over).toEqual(await (await reference('')).query(sql, [], { rowMode: 'array' }))
  })

  it('with custom parsers and dates as text', async () => {
    const types = { parsers: { 1700: Number, 23: (text: string) => `int ${text}` }, dates: 'string' as const }
    const sql = `select 1.5::numeric as n, 7 as i, '2024-02-29 13:04:05+00'::timestamptz as t, '1 day'::interval as d, array[1.25]::numeric[] as a`
    const { client } = await open({ types, statementCacheSize: 0 })
    try {
      const over = await relay.db({ types }).query(sql)
      const wire = await client.query(sql)
      expect({ ...over.rows[0] }).toMatchObject({ n: 1.5, i: 'int 7', d: '1 day', a: [1.25] })
      expect(typeof over.rows[0]!.t).toBe('string')
      expect(over).toEqual(wire)
    } finally {
      await client.end()
    }
  })
})

describe('http() with types per request', () => {
  const types = { parsers: { 1700: Number, 23: (text: string) => `int ${text}` }, dates: 'string' as const }
  const sql = `select 1.5::numeric as n, 7 as i, '2024-02-29 13:04:05+00'::timestamptz as t, 5::int8 as l`

  it('decodes a query and a batch with them as client.query does, and the next request with the client own', async () => {
    const db = relay.db()
    const wire = await reference('')
    for (let i = 0; i < 2; i++) {
      expect(await db.query(sql, [], { types })).toEqual(await wire.query(sql, [], { types }))
      expect(await db.query(sql)).toEqual(await wire.query(sql))
    }
    const [own, plain] = await db.transaction([[sql], [sql]], { types })
    expect(own).toEqual(await wire.query(sql, [], { types }))
    expect(plain!.rows[0]).toMatchObject({ n: 1.5, i: 'int 7', l: 5n })
    expect((await db.query(sql)).rows[0]).toMatchObject({ n: '1.5', i: 7, l: 5n })
  })

  it('refuses types that are not an object before sending anything', async () => {
    await expect(relay.db().query(sql, [], { types: 1 as never })).rejects.toThrow(
      'types must be an object of type options ({ parsers, dates, raw }), found 1',
    )
  })
})

describe(`http() sends parameters as client.query over ${transportKind} does`, () => {
  const date = new Date('2024-02-29T13:04:05.123Z')
  const PARAMS: [type: string, value: unknown][] = [
    ['int8', 2n ** 62n],
    ['int8', -9007199254740993n],
    ['int4', -7],
    ['float8', -0],
    ['float8', Number.NaN],
    ['float8', Number.NEGATIVE_INFINITY],
    ['float8', 0.1],
    ['float4', 1.1],
    ['numeric', '12345678901234567890.000000000123'],
    ['bool', false],
    ['text', 'é 😀 "q" \\ {a,b} \u2028'],
    ['text', ''],
    ['text', null],
    ['int4', undefined],
    ['bytea', Uint8Array.of(0, 1, 0x5c, 254, 255)],
    ['bytea', new Uint8Array(0)],
    ['bytea', Uint16Array.of(0x0102, 0xffff)],
    ['timestamptz', date],
    ['timestamptz', new Date(Date.UTC(-43, 2, 15, 12))],
    ['timestamp', new Date('1999-12-31T23:59:59.999Z')],
    ['date', '2024-02-29'],
    ['interval', { months: 14, days: -3, microseconds: 1500 }],
    ['jsonb', { a: [1, 'b', null], ü: { deep: true }, s: 'x"\\y' }],
    ['json', { n: 1.5e300 }],
    ['int4[]', [1, null, 3]],
    [
      'int8[]',
      [
        [1n, 2n],
        [3n, 4n],
      ],
    ],
    ['text[]', ['a b', '', 'NULL', null, '"q"\\', '{x}']],
    ['bytea[]', [Uint8Array.of(1, 2), null, new Uint8Array(0)]],
    ['jsonb[]', [{ a: 1 }, { b: ['x'] }]],
    ['timestamptz[]', [date, null]],
    ['bool[]', [true, false]],
    ['uuid', '0e37df36-f698-11e6-8dd4-cb9ced3df976'],
  ]
  const sql = `select ${PARAMS.map(([type], i) => `$${i + 1}::${type} as v${i}`).join(', ')}`
  const values = PARAMS.map(([, value]) => value)

  it('every kind round-trips to the value the wire path gives', async () => {
    const over = await relay.db().query(sql, values)
    const wire = await (await reference('')).query(sql, values)
    expect(over).toEqual(wire)
    const row = over.rows[0]!
    expect(row.v0).toBe(2n ** 62n)
    expect(row.v1).toBe(-9007199254740993n)
    expect(Object.is(row.v3, -0)).toBe(true)
    expect(row.v14).toEqual(Uint8Array.of(0, 1, 0x5c, 254, 255))
    expect(row.v16).toEqual(Uint8Array.of(2, 1, 255, 255))
    expect(row.v17).toEqual(date)
    expect(row.v22).toEqual(values[22])
    expect(row.v27).toEqual([Uint8Array.of(1, 2), null, new Uint8Array(0)])
  })

  it('as the same text: each parameter reads back as the server printed it on the wire path', async () => {
    const printed = `select ${PARAMS.map(([type], i) => `$${i + 1}::${type}::text as v${i}`).join(', ')}`
    expect(await relay.db().query(printed, values)).toEqual(
      await (await reference('')).query(printed, values),
    )
  })
})

describe(`http() rejects with the DatabaseError client.query over ${transportKind} gives`, () => {
  const table = `http_errors_${transportKind}`
  beforeAll(async () => {
    await admin(`drop table if exists ${table}`)
    await admin(
      `create table ${table} (id int primary key, name text not null, n int constraint ${table}_positive check (n > 0))`,
    )
    await admin(`insert into ${table} values (1, 'one', 1)`)
    await admin(`grant all on ${table} to public`)
  })
  afterAll(async () => {
    await admin(`drop table if exists ${table}`)
  })

  const STATEMENTS: [sql: string, params?: unknown[]][] = [
    ['selec 1'],
    ['select * from http_no_such_table'],
    ['select 1 / $1::int', [0]],
    ['select $1::int', ['x']],
    [`insert into ${table} values (1, 'again', 1)`],
    [`insert into ${table} values (2, null, 1)`],
    [`insert into ${table} values (3, 'three', -1)`],
    [
      `do $$ begin raise exception 'custom' using detail = 'the detail', hint = 'the hint', errcode = 'P0001'; end $$`,
    ],
    [`do $$ begin execute 'selec 2'; end $$`],
    ['select $1::int, $2::int', [1]],
  ]

  for (const [sql, params] of STATEMENTS) {
    it(`for ${sql}`, async () => {
      const over = await relay
        .db()
        .query(sql, params)
        .catch((e: unknown) => e)
      const wire = await (await reference('')).query(sql, params).catch((e: unknown) => e)
      expect(over).toBeInstanceOf(DatabaseError)
      expect(wire).toBeInstanceOf(DatabaseError)
      // Every field, severityNonLocalized (the V field) too: the relay adds it to Neon's format.
      expect({ ...(over as DatabaseError) }).toEqual({ ...(wire as DatabaseError) })
      expect((over as Error).message).toBe((wire as Error).message)
    })
  }

  it('with the position as a number', async () => {
    const error = (await relay
      .db()
      .query('select 1 from http_no_such_table')
      .catch((e: unknown) => e)) as DatabaseError
    expect([error.code, error.position]).toEqual(['42P01', 15])
  })
})
