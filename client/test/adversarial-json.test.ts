// Adversarial tests of json and jsonb columns decoded by the byte reader (client/src/types/json.ts) against the
// real server: each value is compared, by shape (key order, -0, prototypes), with JSON.parse of the server's own
// text of it (`col::text`), in text results (a statement's first run) and binary results (once cached), with
// json columns followed by other columns, NULLs, and ending the row, so a reader that went past a value's end
// would take in the next column's length or the next message.
import { isPgError, Oid } from '@edgepg/client'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Opened, open } from './helpers.ts'

/** A comparable picture of a value: key order, prototypes and -0 included. */
function shape(value: unknown): unknown {
  if (typeof value === 'number') return Object.is(value, -0) ? ['number', '-0'] : ['number', String(value)]
  if (value === null || typeof value !== 'object') return [typeof value, value]
  const isArray = Array.isArray(value)
  const proto = Object.getPrototypeOf(value) === (isArray ? Array.prototype : Object.prototype)
  const props = Reflect.ownKeys(value).map((key) => {
    const d = Object.getOwnPropertyDescriptor(value, key)!
    return [String(key), 'value' in d ? shape(d.value) : 'accessor', d.enumerable, d.writable, d.configurable]
  })
  return [isArray ? 'array' : 'object', proto, props]
}

/** Texts the server must keep (json) or normalise (jsonb); the reader must read both as JSON.parse does. */
const FIXED = [
  '1',
  '0',
  '-0',
  '123456789012345',
  '1234567890123456',
  '12345678901234567890',
  '1E+2',
  '1e-7',
  '2.50',
  '-0.0',
  '1e400',
  'true',
  'false',
  'null',
  '"s"',
  '""',
  '"\\u00e9\\n\\"\\\\"',
  '"\\ud83d\\ude00"',
  '"é ü 日本"',
  '[]',
  '{}',
  '[-0, 0, 1.0, 1e2]',
  '{"b": 1, "a": 2, "1": 3, "b": 4}',
  '{"__proto__": {"x": 1}, "constructor": {"prototype": 1}, "toString": "t"}',
  '{"a":{"__proto__":[1]}}',
  ' \t\r\n[ 1 ,\n"x" ] \n',
  '{"k": "v", "n": 15, "m": -15, "f": 1.5, "t": true, "z": null}',
  `{"long": "${'x'.repeat(70)}", "short": "${'y'.repeat(64)}"}`,
  `"${'z'.repeat(200_000)}"`,
  `[${Array.from({ length: 50_000 }, (_, i) => (i % 2 === 0 ? i : `{"i": ${i}}`)).join(',')}]`,
  `${'['.repeat(1500)}1${']'.repeat(1500)}`,
  `${'{"d":'.repeat(1000)}"bottom"${'}'.repeat(1000)}`,
]

/** Random JSON texts, the same every run (fixed seed): fast-check's JSON values with a few spacings. */
const RANDOM = fc.sample(
  fc
    .tuple(fc.jsonValue({ maxDepth: 4 }), fc.constantFrom(undefined, 1, '\t'))
    .map(([v, indent]) => JSON.stringify(v, null, indent)),
  { numRuns: 150, seed: 46 },
)

let db: Opened
/** Rows inserted: id → the text sent. */
const sent = new Map<number, string>()
/** How many of them jsonb took too (it refuses \u0000, which json keeps). */
let jsonbRows = 0

beforeAll(async () => {
  db = await open({ statementCacheSize: 100 })
  await db.client.query('drop table if exists adv_json')
  await db.client.query('create table adv_json (id int primary key, j json, jb jsonb)')
  let id = 0
  for (const text of [...FIXED, ...RANDOM]) {
    id++
    try {
      await db.client.query('insert into adv_json values ($1, $2::json, $2::jsonb)', [id, text])
      sent.set(id, text)
      jsonbRows++
    } catch (error) {
      // jsonb refuses \u0000 and some numbers json keeps; those go in as json only
      if (!isPgError(error)) throw error
      await db.client.query('insert into adv_json values ($1, $2::json, null)', [id, text])
      sent.set(id, text)
    }
  }
})
afterAll(async () => {
  await db.client.query('drop table if exists adv_json')
  await db.client.end()
})

type Row = Record<string, unknown>

/**
 * {@link shape} as one string, one recursion per level of the value: vitest's deep equality and JSON.stringify
 * of a shape overflow the stack on the 1,500-deep values.
 */
function picture(value: unknown): string {
  if (typeof value === 'number') return Object.is(value, -0) ? 'n:-0' : `n:${value}`
  if (value === null || typeof value !== 'object') return `${typeof value}:${JSON.stringify(value)}`
  const isArray = Array.isArray(value)
  const proto = Object.getPrototypeOf(value) === (isArray ? Array.prototype : Object.prototype)
  let out = `${isArray ? '[' : '{'}${proto ? '' : '!proto'}`
  for (const key of Reflect.ownKeys(value)) {
    const d = Object.getOwnPropertyDescriptor(value, key)!
    const flags = `${d.enumerable ? '' : '!e'}${d.writable ? '' : '!w'}${d.configurable ? '' : '!c'}`
    out += `${JSON.stringify(String(key))}${flags}=${'value' in d ? picture(d.value) : 'accessor'},`
  }
  return `${out}${isArray ? ']' : '}'}`
}

/** Runs `sql` three times (text results, then binary once cached); returns each run's rows and formats. */
async function thrice(sql: string): Promise<{ rows: Row[]; formats: number[] }[]> {
  const runs = []
  for (let i = 0; i < 3; i++) {
    const result = await db.client.query<Row>(sql)
    runs.push({ rows: result.rows, formats: result.fields.map((f) => f.format) })
  }
  return runs
}

describe('json and jsonb columns read from the bytes, against the server text', () => {
  it('gives JSON.parse of col::text for json and jsonb, text and binary, with columns and NULLs after them', async () => {
    const sql =
      'select id, j, j::text as jt, jb, 7::int4 as seven, jb::text as jbt, null::int4 as nothing, j as j2, jb as jb2 from adv_json order by id'
    const runs = await thrice(sql)
    // the first run in text, the cached runs in binary for json and jsonb
    expect(runs[0]!.formats[1]).toBe(0)
    expect(runs[2]!.formats[1]).toBe(1)
    expect(runs[2]!.formats[3]).toBe(1)
    for (const { rows } of runs) {
      expect(rows).toHaveLength(sent.size)
      for (const row of rows) {
        const id = row.id as number
        // json keeps the text as sent
        expect(row.jt, `id ${id}`).toBe(sent.get(id))
        expect(picture(row.j), `id ${id}`).toBe(picture(JSON.parse(row.jt as string)))
        expect(picture(row.j2), `id ${id}`).toBe(picture(JSON.parse(row.jt as string)))
        expect(row.seven).toBe(7)
        expect(row.nothing).toBeNull()
        if (row.jbt === null) expect(row.jb).toBeNull()
        else {
          expect(picture(row.jb), `id ${id}`).toBe(picture(JSON.parse(row.jbt as string)))
          expect(picture(row.jb2), `id ${id}`).toBe(picture(JSON.parse(row.jbt as string)))
        }
      }
    }
  })

  it('reads a json value that ends the row, or is followed by a NULL, then the next row and CommandComplete', async () => {
    for (const sql of [
      'select jb::text as t, jb from adv_json where jb is not null order by id',
      'select j::text as t, j, null::json as n from adv_json order by id',
      'select j::text as t, j, null::text as a, null::text as b from adv_json order by id',
    ]) {
      for (const { rows } of await thrice(sql)) {
        expect(rows).toHaveLength(sql.includes('jb is not null') ? jsonbRows : sent.size)
        for (const row of rows) {
          const value = 'jb' in row ? row.jb : row.j
          expect(picture(value), String(row.t).slice(0, 40)).toBe(picture(JSON.parse(row.t as string)))
        }
      }
    }
  })

  it('reads top-level scalars next to every kind of following column, text and binary', async () => {
    const scalars = ['1', '-0', '0', '15', '123456789012345', '1.5', '1e5', 'true', 'null', '"x"', '[]', '{}']
    const followers = ["'9'::text", '9::int4', 'null::int4', "'\\x3130'::bytea", "'{}'::jsonb", "'1'::json"]
    for (const scalar of scalars) {
      const sql = `select '${scalar}'::json as j, '${scalar}'::jsonb as jb, ${followers.join(', ')}, '${scalar}'::jsonb::text as jbt, '${scalar}'::jsonb as last`
      for (const { rows } of await thrice(sql)) {
        const row = rows[0]!
        // json keeps the text (-0 stays -0); jsonb prints its numeric (-0 becomes 0)
        expect(shape(row.j), scalar).toEqual(shape(JSON.parse(scalar)))
        const normalised = shape(JSON.parse(row.jbt as string))
        expect(shape(row.jb), scalar).toEqual(normalised)
        expect(shape(row.last), scalar).toEqual(normalised)
      }
    }
  })

  it('reads json arrays (json[], jsonb[]) of scalars and objects, text and binary', async () => {
    const sql = `select array['1', '-0', 'true', '{"a": [1, "x"]}', '"s"', null]::jsonb[] as jb, array['15', '{"__proto__": 1}', '1E+2']::json[] as j, 5 as after`
    for (const { rows } of await thrice(sql)) {
      const row = rows[0]!
      expect(shape(row.jb)).toEqual(shape([1, 0, true, { a: [1, 'x'] }, 's', null]))
      expect(shape(row.j)).toEqual(shape(JSON.parse('[15, {"__proto__": 1}, 100]')))
      expect(row.after).toBe(5)
    }
  })

  it('decodes json right after a custom parser of another column threw, in text and binary', async () => {
    const types = {
      parsers: {
        [Oid.int4]: () => {
          throw new Error('parser says no')
        },
      },
    }
    const sql = 'select 1::int4 as i, \'{"a": [1, 2]}\'::jsonb as jb'
    await expect(db.client.query(sql, [], { types })).rejects.toThrow('parser says no')
    for (const { rows } of await thrice(sql)) expect(rows).toEqual([{ i: 1, jb: { a: [1, 2] } }])
  })
})
