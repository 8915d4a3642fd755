// Every supported type round-trips against the real server, in text (plain query) and binary (prepared).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Opened, open } from './helpers.ts'

let db: Opened
beforeAll(async () => {
  db = await open()
})
afterAll(async () => {
  await db.client.end()
})

type Case = [type: string, value: unknown, expected?: unknown]

const cases: Case[] = [
  ['bool', true],
  ['bool', false],
  ['int2', -32768],
  ['int2', 32767],
  ['int4', -2147483648],
  ['int4', 2147483647],
  ['int8', -9223372036854775808n],
  ['int8', 9223372036854775807n],
  ['int8', 0n],
  ['float4', 1.5],
  ['float4', Number.NaN],
  ['float4', Number.POSITIVE_INFINITY],
  ['float8', 0.1 + 0.2],
  ['float8', Number.NaN],
  ['float8', Number.NEGATIVE_INFINITY],
  ['float8', -0],
  ['float8', 1.7976931348623157e308],
  ['numeric', '12345678901234567890.000000000123456789'],
  ['numeric', '-0.50'],
  ['numeric', 'NaN'],
  ['numeric', 'Infinity'],
  ['numeric', '-Infinity'],
  ['numeric', '0'],
  ['text', ''],
  ['text', 'héllo wörld 👋🏽 — 日本語'],
  ['varchar', 'varying'],
  ['bytea', new Uint8Array([0, 1, 2, 253, 254, 255])],
  ['bytea', new Uint8Array(0)],
  ['json', { a: [1, 'two', null, { b: true }] }],
  ['jsonb', { z: 1, a: [1.5, 'x'] }],
  ['jsonb', '"just a string"', 'just a string'],
  ['uuid', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'],
  ['date', '2024-02-29'],
  ['date', 'infinity'],
  ['timestamp', new Date('2024-02-29T12:34:56.789Z')],
  ['timestamptz', new Date('1999-12-31T23:59:59.999Z')],
  ['timestamptz', new Date('1970-01-01T00:00:00.000Z')],
  ['interval', { months: 14, days: -3, microseconds: 14706789000 }],
  ['interval', { months: 0, days: 0, microseconds: -1000000 }],
  ['int4[]', [1, null, 3]],
  ['int4[]', []],
  [
    'int8[]',
    [
      [1n, 2n],
      [3n, 4n],
    ],
  ],
  ['text[]', ['a', 'b,c', 'd"e', 'f\\g', '', 'NULL', null, '{x}', ' spaced ']],
  ['float8[]', [1.5, Number.NaN, Number.POSITIVE_INFINITY]],
  ['bool[]', [true, false, null]],
  ['numeric[]', ['1.10', '-2']],
  ['bytea[]', [new Uint8Array([1, 2]), null]],
  ['uuid[]', ['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11']],
  ['jsonb[]', [{ a: 1 }, { b: [2] }]],
  ['date[]', ['2020-01-01', null]],
  ['timestamptz[]', [new Date('2020-01-01T00:00:00Z')]],
  ['varchar[]', ['x', 'y']],
]

const label = (c: Case) =>
  `${c[0]} ${typeof c[1] === 'bigint' ? `${c[1]}n` : JSON.stringify(c[1], replacer)?.slice(0, 40)}`
function replacer(_key: string, value: unknown) {
  if (value instanceof Uint8Array) return `bytes(${value.length})`
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value)
  return value
}

describe('types round-trip in text format (plain query)', () => {
  for (const c of cases) {
    it(`returns ${label(c)}`, async () => {
      const [type, value, expected = value] = c
      const row = await db.client.queryOne<{ v: unknown }>(`select $1::${type} as v`, [value])
      expect(row.v).toEqual(expected)
    })
  }
})

describe('types round-trip in binary format (prepared statement)', () => {
  for (const c of cases) {
    it(`returns ${label(c)}`, async () => {
      const [type, value, expected = value] = c
      const statement = await db.client.prepare(`select $1::${type} as v`)
      const row = await db.client.queryOne<{ v: unknown }>(statement, [value])
      expect(row.v).toEqual(expected)
      await db.client.closeStatement(statement)
    })
  }
})

describe('values the server produces', () => {
  it('decodes NULL of every type as null', async () => {
    const types = [
      'bool',
      'int2',
      'int4',
      'int8',
      'float8',
      'numeric',
      'text',
      'bytea',
      'jsonb',
      'uuid',
      'date',
      'timestamptz',
      'interval',
      'int4[]',
    ]
    const row = await db.client.queryOne(`select ${types.map((t, i) => `null::${t} as c${i}`).join(', ')}`)
    expect(Object.values(row)).toEqual(types.map(() => null))
  })

  it('decodes timestamptz in the session time zone to the same instant', async () => {
    await db.client.query(`set time zone 'Asia/Kolkata'`)
    const row = await db.client.queryOne<{ t: Date }>(`select '2024-06-01 12:00:00+00'::timestamptz as t`)
    expect(row.t.toISOString()).toBe('2024-06-01T12:00:00.000Z')
    await db.client.query(`set time zone 'UTC'`)
  })

  it('decodes multi-dimensional arrays with explicit bounds', async () => {
    const row = await db.client.queryOne<{ a: unknown }>(`select '[0:1][1:2]={{1,2},{3,4}}'::int4[] as a`)
    expect(row.a).toEqual([
      [1, 2],
      [3, 4],
    ])
  })

  it('returns an unknown type (a point) as its text form', async () => {
    const row = await db.client.queryOne<{ p: unknown }>(`select point(1.5, 2) as p`)
    expect(row.p).toBe('(1.5,2)')
  })

  it('round-trips a 10 MiB bytea', async () => {
    const big = new Uint8Array(10 * 1024 * 1024)
    for (let i = 0; i < big.length; i += 4096) big[i] = i % 251
    const row = await db.client.queryOne<{ v: Uint8Array; n: number }>(
      'select $1::bytea as v, length($1::bytea) as n',
      [big],
    )
    expect(row.n).toBe(big.length)
    expect(row.v.length).toBe(big.length)
    expect(Buffer.compare(Buffer.from(row.v), Buffer.from(big))).toBe(0)
  })

  it('accepts a custom text parser per OID', async () => {
    const { client } = await open({ types: { parsers: { 1700: (text: string) => Number(text) } } })
    const row = await client.queryOne<{ n: unknown }>(`select 1.25::numeric as n`)
    expect(row.n).toBe(1.25)
    await client.end()
  })

  it('keeps dates as strings when asked', async () => {
    const { client } = await open({ types: { dates: 'string' } })
    const row = await client.queryOne<{ t: unknown }>(`select '2024-01-02 03:04:05+00'::timestamptz as t`)
    expect(typeof row.t).toBe('string')
    expect(row.t).toMatch(/^2024-01-02 03:04:05/)
    await client.end()
  })
})

describe('text that starts with U+FEFF (a byte-order mark)', () => {
  const bom = '\uFEFF'

  it('keeps it in values on the text, binary and simple-query paths', async () => {
    const sql = `select E'\\uFEFFbom' as v, E'\\uFEFF' as only /* bom values */`
    const text = await db.client.queryOne<{ v: string; only: string }>(sql)
    const binary = await db.client.queryOne<{ v: string; only: string }>(sql)
    const [simple] = await db.client.simpleQuery(sql)
    for (const row of [text, binary, simple!.rows[0]!]) {
      expect(row.v).toBe(`${bom}bom`)
      expect(row.only).toBe(bom)
    }
  })

  it('keeps it in column names', async () => {
    const { fields, rows } = await db.client.query(`select 1 as "${bom}name"`)
    expect(fields[0]!.name).toBe(`${bom}name`)
    expect(Object.keys(rows[0]!)).toEqual([`${bom}name`])
  })

  it('keeps it in error and notice messages', async () => {
    const notices: string[] = []
    const off = db.connection.on('notice', (notice) => notices.push(notice.message))
    try {
      await db.client.query(`do $$ begin raise notice '%', E'\\uFEFFnotice'; end $$`)
      await expect(
        db.client.query(`do $$ begin raise exception '%', E'\\uFEFFfailure'; end $$`),
      ).rejects.toMatchObject({ kind: 'db', message: `${bom}failure` })
    } finally {
      off()
    }
    expect(notices).toEqual([`${bom}notice`])
  })
})

describe('messages the server sends longer than 30000 bytes', () => {
  it('prepares and runs a statement with 65,535 parameters (the protocol maximum)', async () => {
    const count = 65535
    const statement = await db.client.prepare(
      `select $1::int4 + $${count}::int4 as v`,
      new Array<number>(count).fill(23),
    )
    expect(statement.params).toHaveLength(count)
    const params = Array.from({ length: count }, (_, i) => i)
    const row = await db.client.queryOne<{ v: number }>(statement, params)
    expect(row.v).toBe(count - 1)
    await db.client.closeStatement(statement)
  })

  it('keeps the connection after a SET of a search_path longer than 30000 bytes', async () => {
    const { client } = await open()
    try {
      const schema = 's'.repeat(60)
      const path = Array.from({ length: 600 }, () => schema).join(', ')
      await client.query(`set search_path = ${path}`)
      const row = await client.queryOne<{ n: number }>('select 1 as n')
      expect(row.n).toBe(1)
    } finally {
      await client.end()
    }
  })
})
