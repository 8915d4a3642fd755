/**
 * The table half of the Kysely type-corpus differential: for a representative set of column types, each
 * library reads the corpus values of that type, writes them back into a table of that type with Kysely's
 * query builder (its own JS values as parameters), and reads them back; the values read back must agree after
 * the mapping of pg-mapping.ts, and the text the server stored must be the same for both.
 */
import { type Kysely, sql } from 'kysely'
import { corpus } from '../../../client/test/type-corpus.data.ts'
import { show } from '../../../client/test/type-corpus.oracle.ts'
import { admin } from './helpers.ts'
import { sameAsPg, toPg } from './pg-mapping.ts'

/** The process time zones the differential runs in: UTC, and one where local time and UTC part ways. */
export const TIME_ZONES = ['UTC', 'America/St_Johns'] as const

/** Runs `fn` with the process's local time zone set to `timeZone` (what pg reads timestamps and dates in). */
export async function inTimeZone<T>(timeZone: string, fn: () => Promise<T>): Promise<T> {
  const before = process.env.TZ
  process.env.TZ = timeZone
  try {
    return await fn()
  } finally {
    if (before === undefined) delete process.env.TZ
    else process.env.TZ = before
  }
}

/** Creates `schema.name (n int primary key, v type)` for each table, owned by `owner`, in one round trip. */
export async function createTables(
  schema: string,
  owner: string,
  tables: readonly { name: string; type: string }[],
): Promise<void> {
  await admin(
    tables
      .map(
        ({ name, type }) =>
          `create table ${schema}.${name} (n int primary key, v ${type}); alter table ${schema}.${name} owner to ${owner};`,
      )
      .join('\n'),
  )
}

/** A column type of the round trip: the corpus values whose type is `oid` go into a `v <sql>` column. */
export interface RoundTripType {
  oid: number
  sql: string
  /** What both libraries' users write for a value they read (json values as JSON text, as both need). */
  param?: (value: unknown) => unknown
  /** The text edgepg's write stores, from the original's text, where a JS value cannot hold all of it. */
  edgeStores?: (original: string) => string | null
  /** The text pg's write stores, from the text edgepg's write stored, where pg's value or encoding loses. */
  pgStores?: (edgeText: string) => string
  /** Why pg cannot write its own values of this type back (the insert must fail with `message`). */
  pgCannotWrite?: { why: string; message: RegExp }
}

const asJsonText = (value: unknown) => (value === null ? null : JSON.stringify(value))

/** json re-serialised by JSON.parse/JSON.stringify: spacing, duplicate keys, escapes, big numbers, `null` as SQL NULL (both libraries). */
const jsonRoundTrip = (text: string) => asJsonText(JSON.parse(text))
/** jsonb's text is the server's normal form already; only a json `null` reads as JS null, written as SQL NULL (both). */
const jsonbRoundTrip = (text: string) => (text === 'null' ? null : text)
/** A Date holds milliseconds: fractions cut to three digits, trailing zeros dropped (both libraries). */
const toMilliseconds = (text: string) =>
  text.replace(/\.(\d{1,3})\d*/g, (_, digits: string) => {
    const kept = digits.replace(/0+$/, '')
    return kept ? `.${kept}` : ''
  })
/** A JS array has no lower bounds: `[0:1]={7,8}` is written back as `{7,8}` (both libraries). */
const withoutBounds = (text: string) => text.replace(/^(\[-?\d+:-?\d+\])+=/, '')
/** pg writes a number with `toString()`, which drops the sign of -0. */
const zeroWithoutSign = (text: string) => text.replace(/(^|[{,])-0(?=[,}]|$)/g, '$10')
/** pg reads ±infinity intervals as an empty PostgresInterval and writes it as 0. */
const infinityAsZero = (text: string) => text.replace(/(^|[{,])-?infinity(?=[,}]|$)/g, '$100:00:00')
/** pg reads numeric[] elements with parseFloat and writes the numbers back. */
const numericsAsFloats = (text: string) =>
  `{${text
    .slice(1, -1)
    .split(',')
    .map((e) => (e === 'NULL' ? e : String(Number.parseFloat(e))))
    .join(',')}}`

export const ROUND_TRIP_TYPES: readonly RoundTripType[] = [
  { oid: 16, sql: 'bool' },
  { oid: 21, sql: 'int2' },
  { oid: 23, sql: 'int4' },
  { oid: 20, sql: 'int8' },
  { oid: 700, sql: 'float4', pgStores: zeroWithoutSign },
  { oid: 701, sql: 'float8', pgStores: zeroWithoutSign },
  { oid: 1700, sql: 'numeric' },
  { oid: 25, sql: 'text' },
  { oid: 1043, sql: 'varchar' },
  { oid: 17, sql: 'bytea' },
  { oid: 114, sql: 'json', param: asJsonText, edgeStores: jsonRoundTrip },
  { oid: 3802, sql: 'jsonb', param: asJsonText, edgeStores: jsonbRoundTrip },
  { oid: 2950, sql: 'uuid' },
  { oid: 1082, sql: 'date' },
  { oid: 1114, sql: 'timestamp', edgeStores: toMilliseconds },
  { oid: 1184, sql: 'timestamptz', edgeStores: toMilliseconds },
  { oid: 1083, sql: 'time' },
  { oid: 1186, sql: 'interval', pgStores: infinityAsZero },
  { oid: 1007, sql: 'int4[]', edgeStores: withoutBounds },
  { oid: 1016, sql: 'int8[]' },
  { oid: 1009, sql: 'text[]' },
  { oid: 1231, sql: 'numeric[]', pgStores: numericsAsFloats },
  { oid: 1022, sql: 'float8[]', pgStores: zeroWithoutSign },
  { oid: 1000, sql: 'bool[]' },
  { oid: 1001, sql: 'bytea[]' },
  { oid: 1182, sql: 'date[]' },
  { oid: 1185, sql: 'timestamptz[]', edgeStores: toMilliseconds },
  { oid: 1187, sql: 'interval[]', pgStores: infinityAsZero },
  { oid: 2951, sql: 'uuid[]' },
  { oid: 869, sql: 'inet' },
  {
    oid: 600,
    sql: 'point',
    pgCannotWrite: {
      why: 'pg writes its { x, y } object as JSON',
      message: /invalid input syntax for type point/,
    },
  },
  { oid: 1003, sql: 'name[]' },
]

export function tableName(type: RoundTripType, via: string): string {
  return `rt_${type.sql.replace('[]', '_array')}_${via}`
}

/** Whether pg read `value` as (or with) an Invalid Date, which it cannot send back. */
function hasInvalidDate(value: unknown): boolean {
  return Array.isArray(value)
    ? value.some(hasInvalidDate)
    : value instanceof Date && Number.isNaN(value.getTime())
}

/**
 * What pg stores, differently from edgepg, when it writes back its own value of these expressions, by process
 * time zone: the text, or the error of its insert. pg writes a Date parameter as local time with
 * `getTimezoneOffset()`, whole minutes: in a zone's local-mean-time era (St. John's before 1935, −03:30:52)
 * the instant moves 52 s, and 4714-11-24 BC (the first timestamptz) becomes a local date before it.
 */
export const PG_WRITE_LOSSES: Record<(typeof TIME_ZONES)[number], Record<string, string | RegExp>> = {
  UTC: {},
  'America/St_Johns': {
    "'1900-01-01 00:00:00+00'::timestamptz": '1899-12-31 23:59:08+00',
    "'1847-12-01 00:00:00+00'::timestamptz": '1847-11-30 23:59:08+00',
    "'0044-03-15 12:00:00+00 BC'::timestamptz": '0044-03-15 11:59:08+00 BC',
    "'4714-11-24 00:00:00+00 BC'::timestamptz": /timestamp out of range: "4714-11-23T20:29:08.000-03:30 BC"/,
    "'0001-01-01 00:00:00+00'::timestamptz": '0001-12-31 23:59:08+00 BC',
    '\'{"2024-02-29 13:04:05.123456+00","1900-01-01 00:00:00+00","2024-03-10 10:00:00Z",-infinity}\'::timestamptz[]':
      '{"2024-02-29 13:04:05.123+00","1899-12-31 23:59:08+00","2024-03-10 10:00:00+00",-infinity}',
  },
}

interface Libraries {
  // biome-ignore lint/suspicious/noExplicitAny: tables made at run time
  edge: Kysely<any>
  // biome-ignore lint/suspicious/noExplicitAny: tables made at run time
  onPg: Kysely<any>
  schema: string
  oids: readonly number[]
  timeZone: (typeof TIME_ZONES)[number]
}

/** What the round trip found: its disagreements, one line each, and the values pg read as Invalid Dates. */
export interface RoundTrip {
  problems: string[]
  /** The expressions left out of pg's write because pg read them as an Invalid Date. */
  invalidOnPg: string[]
}

/**
 * Each library reads the corpus values of each type and writes them back into its own table with the
 * query builder; then both libraries read both tables (values compared after the mapping), and the stored
 * text is compared: edgepg's with the original's, pg's with edgepg's (each after the documented losses).
 */
export async function roundTrip({ edge, onPg, schema, oids, timeZone }: Libraries): Promise<RoundTrip> {
  const problems: string[] = []
  const invalidOnPg: string[] = []
  const losses = PG_WRITE_LOSSES[timeZone]
  for (const type of ROUND_TRIP_TYPES) {
    const exprs = corpus.filter((_, i) => oids[i] === type.oid)
    if (exprs.length === 0) {
      problems.push(`no corpus value of type ${type.sql}`)
      continue
    }
    const query = sql.raw(`select ${exprs.map((e, j) => `(${e}) as c${j}`).join(', ')}`)
    for (const [via, db] of [
      ['edgepg', edge],
      ['pg', onPg],
    ] as const) {
      const table = tableName(type, via)
      const read = (await query.execute(db)).rows[0] as Record<string, unknown>
      const rows = exprs.flatMap((expr, n) => {
        const value = read[`c${n}`]
        if (via === 'pg' && hasInvalidDate(value)) {
          invalidOnPg.push(expr)
          return []
        }
        return [{ n, v: type.param ? type.param(value) : value }]
      })
      const scoped = db.withSchema(schema)
      await scoped.deleteFrom(table).execute()
      // One insert per value, so a value a library cannot write fails its row alone.
      const failures: string[] = []
      for (const row of rows) {
        const failure = await scoped
          .insertInto(table)
          .values(row)
          .execute()
          .then(() => undefined)
          .catch((e: unknown) => e as Error)
        if (failure === undefined) continue
        const expected = via === 'pg' ? losses[exprs[row.n]!] : undefined
        if (expected instanceof RegExp && expected.test(failure.message)) continue
        failures.push(`${exprs[row.n]}: ${failure.message}`)
      }
      if (via === 'pg' && type.pgCannotWrite) {
        if (failures.length !== rows.length || !failures.every((f) => type.pgCannotWrite!.message.test(f)))
          problems.push(
            `pg wrote back its ${type.sql} values (${type.pgCannotWrite.why}): ${failures.join('; ')}`,
          )
      } else {
        for (const f of failures) problems.push(`${via} cannot write back its ${type.sql} value ${f}`)
      }
    }
    for (const via of ['edgepg', 'pg']) {
      const table = `${schema}.${tableName(type, via)}`
      const fromEdge = await edge
        .withSchema(schema)
        .selectFrom(tableName(type, via))
        .select(['n', 'v'])
        .orderBy('n')
        .execute()
      const fromPg = await onPg
        .withSchema(schema)
        .selectFrom(tableName(type, via))
        .select(['n', 'v'])
        .orderBy('n')
        .execute()
      if (fromEdge.length !== fromPg.length)
        problems.push(`${table}: ${fromEdge.length} rows on edgepg, ${fromPg.length} on pg`)
      fromEdge.forEach((row, i) => {
        const mapped = toPg(row.v, type.oid)
        if (!sameAsPg(mapped, fromPg[i]?.v))
          problems.push(
            `${table} row ${row.n} (${exprs[row.n]}): edgepg read ${show(row.v)}, maps to ${show(mapped)}, pg read ${show(fromPg[i]?.v)}`,
          )
      })
    }
    const texts = await admin<{
      n: number
      edgepg: string | null
      pg: string | null
      original: string | null
    }>(
      `select o.n, e.v::text as edgepg, p.v::text as pg, o.original
       from unnest(array[${exprs.map((e) => `(${e})::${type.sql}::text`).join(', ')}]) with ordinality as o(original, n)
       left join ${schema}.${tableName(type, 'edgepg')} e on e.n = o.n - 1
       left join ${schema}.${tableName(type, 'pg')} p on p.n = o.n - 1
       order by o.n`,
    )
    for (const text of texts) {
      const expr = exprs[text.n - 1]!
      const edgeExpected =
        text.original === null ? null : type.edgeStores ? type.edgeStores(text.original) : text.original
      if (text.edgepg !== edgeExpected)
        problems.push(`${type.sql} ${expr}: edgepg stored ${text.edgepg}, expected ${edgeExpected}`)
      if (type.pgCannotWrite || invalidOnPg.includes(expr)) continue
      const loss = losses[expr]
      const pgExpected =
        loss instanceof RegExp
          ? null
          : (loss ?? (text.edgepg === null ? null : type.pgStores ? type.pgStores(text.edgepg) : text.edgepg))
      if (text.pg !== pgExpected)
        problems.push(`${type.sql} ${expr}: pg stored ${text.pg}, expected ${pgExpected}`)
    }
  }
  return { problems, invalidOnPg }
}
