/**
 * The parameter direction of the Kysely differential: the same JS values, inserted with Kysely's query builder
 * on edgepg and on pg, must store the same server text (read back with `::text`), except where listed here.
 * Each case states the text edgepg must store, and pg's text where it differs (by process time zone).
 */
import type { Kysely } from 'kysely'
import { admin } from './helpers.ts'
import type { TIME_ZONES } from './type-corpus.tables.ts'

type TimeZone = (typeof TIME_ZONES)[number]

export interface ParamCase {
  /** The column type the value is written into. */
  type: string
  value: unknown
  /** What edgepg stores (`v::text`); null for NULL. */
  stored: string | null
  /** What pg stores instead, in the time zones where it differs (and why, in a comment). */
  pg?: Partial<Record<TimeZone, string | null>>
}

const instant = new Date('2024-02-29T13:04:05.123Z')

export const PARAM_CASES: readonly ParamCase[] = [
  { type: 'timestamptz', value: instant, stored: '2024-02-29 13:04:05.123+00' },
  { type: 'timestamptz', value: new Date(0), stored: '1970-01-01 00:00:00+00' },
  { type: 'timestamptz', value: new Date('+010000-01-01T00:00:00Z'), stored: '10000-01-01 00:00:00+00' },
  {
    type: 'timestamptz',
    value: new Date(Date.UTC(-43, 2, 15, 12)),
    stored: '0044-03-15 12:00:00+00 BC',
    pg: { 'America/St_Johns': '0044-03-15 11:59:08+00 BC' }, // local mean time, as below
  },
  {
    type: 'timestamptz',
    value: new Date('1900-01-01T00:00:00Z'),
    stored: '1900-01-01 00:00:00+00',
    // pg writes local time with whole-minute offsets; St. John's was −03:30:52 in 1900.
    pg: { 'America/St_Johns': '1899-12-31 23:59:08+00' },
  },
  { type: 'timestamptz', value: null, stored: null },
  {
    type: 'timestamp',
    value: instant,
    stored: '2024-02-29 13:04:05.123',
    // edgepg writes a Date's UTC wall time into timestamp (and reads it back as UTC); pg its local wall time.
    pg: { 'America/St_Johns': '2024-02-29 09:34:05.123' },
  },
  {
    type: 'date',
    value: new Date('2024-02-29T00:00:00Z'),
    stored: '2024-02-29',
    // edgepg: the UTC date of the instant; pg: the local date.
    pg: { 'America/St_Johns': '2024-02-28' },
  },
  { type: 'date', value: '2024-02-29', stored: '2024-02-29' },
  { type: 'int8', value: 9007199254740993n, stored: '9007199254740993' },
  { type: 'int8', value: -9223372036854775808n, stored: '-9223372036854775808' },
  { type: 'int8', value: '9223372036854775807', stored: '9223372036854775807' },
  { type: 'int8', value: 42, stored: '42' },
  { type: 'numeric', value: 12345678901234567890n, stored: '12345678901234567890' },
  { type: 'numeric', value: '1.50', stored: '1.50' },
  { type: 'numeric', value: 0.1, stored: '0.1' },
  {
    type: 'float8',
    value: -0,
    stored: '-0',
    // pg writes numbers with toString(), which drops the sign of -0.
    pg: { UTC: '0', 'America/St_Johns': '0' },
  },
  { type: 'float8', value: Number.NaN, stored: 'NaN' },
  { type: 'float8', value: Number.NEGATIVE_INFINITY, stored: '-Infinity' },
  { type: 'float8', value: 1e21, stored: '1e+21' },
  { type: 'bool', value: true, stored: 'true' },
  { type: 'bool', value: false, stored: 'false' },
  { type: 'bytea', value: Buffer.from([0, 255]), stored: '\\x00ff' },
  { type: 'bytea', value: new Uint8Array([1, 2, 3]), stored: '\\x010203' },
  { type: 'bytea', value: new Uint8Array([9, 8, 7, 6]).subarray(1, 3), stored: '\\x0807' },
  { type: 'bytea', value: new Uint8Array(0), stored: '\\x' },
  { type: 'int4[]', value: [1, null, 3], stored: '{1,NULL,3}' },
  {
    type: 'int4[]',
    value: [
      [1, 2],
      [3, 4],
    ],
    stored: '{{1,2},{3,4}}',
  },
  { type: 'int4[]', value: [], stored: '{}' },
  { type: 'int8[]', value: [1n, -9223372036854775808n, null], stored: '{1,-9223372036854775808,NULL}' },
  {
    type: 'text[]',
    value: ['a b', '', 'NULL', null, '"q"', '\\', '{x}', ' s ', 'a,b', '😀'],
    stored: '{"a b","","NULL",NULL,"\\"q\\"","\\\\","{x}"," s ","a,b",😀}',
  },
  { type: 'bool[]', value: [true, false, null], stored: '{t,f,NULL}' },
  {
    type: 'bytea[]',
    value: [Buffer.from([0, 255]), null, new Uint8Array([1])],
    stored: '{"\\\\x00ff",NULL,"\\\\x01"}',
  },
  {
    type: 'timestamptz[]',
    value: [instant, null],
    stored: '{"2024-02-29 13:04:05.123+00",NULL}',
  },
  {
    type: 'jsonb',
    value: { a: [1, 'x', null], b: { c: true } },
    stored: '{"a": [1, "x", null], "b": {"c": true}}',
  },
  { type: 'jsonb', value: '{"s": 1}', stored: '{"s": 1}' },
  { type: 'jsonb', value: 1.5, stored: '1.5' },
  { type: 'json', value: { a: 1, é: '😀' }, stored: '{"a":1,"é":"😀"}' },
  // Both write a JS array as an array literal: an empty one is `{}`, which json reads as an empty object.
  { type: 'json', value: [], stored: '{}' },
  {
    type: 'uuid',
    value: 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
    stored: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  },
  { type: 'interval', value: '1 day 02:00:00', stored: '1 day 02:00:00' },
  { type: 'text', value: null, stored: null },
  { type: 'int4[]', value: null, stored: null },
]

/**
 * Values both libraries refuse alike: a JS array for a json column is written as a PostgreSQL array literal
 * by both, which json_in rejects (JSON.stringify it first).
 */
export const REFUSED_BY_BOTH: readonly { type: string; value: unknown; message: RegExp }[] = [
  { type: 'jsonb', value: [1, 'x'], message: /invalid input syntax for type json/ },
]

export const PARAM_TYPES = [...new Set([...PARAM_CASES, ...REFUSED_BY_BOTH].map((c) => c.type))]

export const paramTable = (type: string, via: string) => `p_${type.replace('[]', '_array')}_${via}`

/** Writes every case through both libraries; returns every disagreement with the expectations. */
export async function paramProblems(
  // biome-ignore lint/suspicious/noExplicitAny: tables made at run time
  libraries: readonly (readonly ['edgepg' | 'pg', Kysely<any>])[],
  schema: string,
  timeZone: TimeZone,
): Promise<string[]> {
  const problems: string[] = []
  for (const [via, db] of libraries) {
    const scoped = db.withSchema(schema)
    for (const type of PARAM_TYPES) await scoped.deleteFrom(paramTable(type, via)).execute()
    for (const [n, c] of PARAM_CASES.entries()) {
      await scoped
        .insertInto(paramTable(c.type, via))
        .values({ n, v: c.value })
        .execute()
        .catch((e: unknown) =>
          problems.push(`${via} cannot write ${c.type} case ${n}: ${(e as Error).message}`),
        )
    }
    for (const c of REFUSED_BY_BOTH) {
      const failure = await scoped
        .insertInto(paramTable(c.type, via))
        .values({ n: -1, v: c.value })
        .execute()
        .then(() => undefined)
        .catch((e: unknown) => e as Error)
      if (!failure?.message.match(c.message))
        problems.push(
          `${via} wrote ${JSON.stringify(c.value)} into ${c.type}: ${failure?.message ?? 'no error'}`,
        )
    }
  }
  for (const [n, c] of PARAM_CASES.entries()) {
    const [row] = await admin<{ edgepg: string | null; pg: string | null }>(
      `select (select v::text from ${schema}.${paramTable(c.type, 'edgepg')} where n = $1) as edgepg,
              (select v::text from ${schema}.${paramTable(c.type, 'pg')} where n = $1) as pg`,
      [n],
    )
    const pgExpected = c.pg && timeZone in c.pg ? c.pg[timeZone]! : c.stored
    if (row!.edgepg !== c.stored)
      problems.push(`${c.type} case ${n}: edgepg stored ${row!.edgepg}, expected ${c.stored}`)
    if (row!.pg !== pgExpected)
      problems.push(`${c.type} case ${n}: pg stored ${row!.pg}, expected ${pgExpected}`)
  }
  return problems
}
