/**
 * The deliberate differences between the values Kysely gives on edgepg and on node-postgres (`pg` 8 with
 * pg-types 2, Kysely's own `PostgresDialect`), as one table: for each type whose JS value differs by design,
 * the function that turns edgepg's value into the value pg gives. The differential test maps every edgepg
 * value through it and asserts equality with pg's, so a type missing here, or a value that differs in any
 * other way, fails. Types not in the table (bool, int2/int4/oid, float4/float8, numeric, text types, json,
 * jsonb, uuid, timestamptz, time, timetz, and the types both leave as text) must be equal as they are.
 *
 * | type                            | edgepg                                   | Kysely on pg                                   |
 * | ------------------------------- | ---------------------------------------- | ---------------------------------------------- |
 * | int8                            | `bigint`                                 | `string` (`String(v)`)                         |
 * | int8[]                          | `bigint[]`                               | `string[]`                                     |
 * | bytea (and bytea[] elements)    | `Uint8Array`                             | `Buffer` (same bytes)                          |
 * | date (and date[] elements)      | the server's text, `'2024-02-29'`, `'0044-03-15 BC'`, `'infinity'` | a `Date` at local midnight; `±Infinity`; an Invalid Date past year 275760 |
 * | timestamp (without time zone)   | a `Date` of that wall time in UTC        | a `Date` of that wall time in the process's local zone (equal when TZ is UTC) |
 * | interval (and interval[])       | `{ months, days, microseconds }`; `±Infinity` | postgres-interval `{ years?, months?, days?, hours?, minutes?, seconds?, milliseconds? }` (zero parts absent); `±infinity` reads as `{}` (same as zero) |
 * | numeric[]                       | `string[]` (exact)                       | `number[]` (`parseFloat`, rounded)              |
 * | point (and point[] elements)    | the server's text `'(1.5,2)'`            | `{ x, y }` (`parseFloat` of each)              |
 * | name[], "char"[], box[], range arrays, and every array type pg-types does not register | a JS array of the element values | the array's text as the server prints it (`'{a,b}'`) |
 */

/** The array types pg-types 2 parses (its `register` calls); pg gives every other array as its text. */
const PG_PARSED_ARRAYS = new Set([
  199, 651, 791, 1000, 1001, 1005, 1007, 1008, 1009, 1014, 1015, 1016, 1017, 1021, 1022, 1028, 1040, 1041,
  1115, 1182, 1183, 1185, 1187, 1231, 1270, 2951, 3807, 3907,
])

/** Array OID → element OID, for the arrays the corpus uses. */
export const ARRAY_ELEMENT: Readonly<Record<number, number>> = {
  199: 114,
  651: 650,
  791: 790,
  1000: 16,
  1001: 17,
  1002: 18,
  1003: 19,
  1005: 21,
  1007: 23,
  1009: 25,
  1014: 1042,
  1015: 1043,
  1016: 20,
  1017: 600,
  1020: 603,
  1021: 700,
  1022: 701,
  1028: 26,
  1041: 869,
  1115: 1114,
  1182: 1082,
  1185: 1184,
  1187: 1186,
  1231: 1700,
  2951: 2950,
  3807: 3802,
  3905: 3904,
}

/** The value Kysely on pg gives for `value`, the value Kysely on edgepg gave for a column of type `oid`. */
export function toPg(value: unknown, oid: number): unknown {
  if (value === null) return null
  const element = ARRAY_ELEMENT[oid]
  if (element !== undefined) {
    if (!Array.isArray(value)) return { unexpected: 'edgepg gave a non-array for an array type', value }
    if (!PG_PARSED_ARRAYS.has(oid)) return arrayText(value, oid === 1020 ? ';' : ',')
    if (oid === 1231)
      return mapArray(value, (v) =>
        typeof v === 'string' ? Number.parseFloat(v) : { unexpected: 'numeric not text', v },
      )
    return mapArray(value, (v) => toPg(v, element))
  }
  switch (oid) {
    case 20: // int8
      return typeof value === 'bigint' ? String(value) : { unexpected: 'int8 not a bigint', value }
    case 17: // bytea
      return value instanceof Uint8Array ? Buffer.from(value) : { unexpected: 'bytea not bytes', value }
    case 1082: // date
      return typeof value === 'string' ? localDate(value) : { unexpected: 'date not text', value }
    case 1114: // timestamp
      return value instanceof Date ? localWallTime(value) : value
    case 1186: // interval
      return typeof value === 'number' ? {} : postgresInterval(value as Interval)
    case 600: // point
      return typeof value === 'string' ? point(value) : { unexpected: 'point not text', value }
    default:
      return value
  }
}

function mapArray(value: unknown, map: (v: unknown) => unknown): unknown {
  return Array.isArray(value) ? value.map((v) => mapArray(v, map)) : value === null ? null : map(value)
}

/** array_out's text of (string or nested) elements: quoted when empty, `NULL`, or holding `{}"\`, space or `delimiter`. */
function arrayText(values: readonly unknown[], delimiter: string): string {
  const item = (v: unknown): string => {
    if (v === null) return 'NULL'
    if (Array.isArray(v)) return arrayText(v, delimiter)
    const text = String(v)
    const needsQuotes =
      text === '' || /^null$/i.test(text) || /[{}"\\ \t\n\r\v\f]/.test(text) || text.includes(delimiter)
    return needsQuotes ? `"${text.replace(/["\\]/g, '\\$&')}"` : text
  }
  return `{${values.map(item).join(delimiter)}}`
}

/** A `Date` at local midnight of the date text (pg's postgres-date); ±Infinity for ±infinity. */
function localDate(text: string): Date | number {
  if (text === 'infinity') return Number.POSITIVE_INFINITY
  if (text === '-infinity') return Number.NEGATIVE_INFINITY
  const m = /^(\d+)-(\d\d)-(\d\d)( BC)?$/.exec(text)
  if (!m) return Number.NaN
  return localDateTime(signedYear(m[1]!, m[4] !== undefined), Number(m[2]) - 1, Number(m[3]), 0, 0, 0, 0)
}

/** The same wall time (edgepg reads it as UTC) read in the process's local time zone, as pg reads it. */
function localWallTime(date: Date): Date {
  return localDateTime(
    date.getUTCFullYear(),
    date.getUTCMonth(),
    date.getUTCDate(),
    date.getUTCHours(),
    date.getUTCMinutes(),
    date.getUTCSeconds(),
    date.getUTCMilliseconds(),
  )
}

function signedYear(digits: string, isBC: boolean): number {
  const year = Number(digits)
  return isBC ? 1 - year : year
}

/** A local Date of these fields; years 0–99 stay those years (the Date constructor would add 1900). */
function localDateTime(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): Date {
  const date = new Date(y, mo, d, h, mi, s, ms)
  if (y >= 0 && y <= 99) date.setFullYear(y)
  return date
}

interface Interval {
  months: number
  days: number
  microseconds: number
}

/** postgres-interval's fields of an interval: years, months, days, hours, minutes, seconds, milliseconds, zeros left out. */
function postgresInterval(value: Interval): Record<string, number> {
  let us = BigInt(value.microseconds)
  const hours = us / 3_600_000_000n
  us -= hours * 3_600_000_000n
  const minutes = us / 60_000_000n
  us -= minutes * 60_000_000n
  const seconds = us / 1_000_000n
  us -= seconds * 1_000_000n
  const parts: [string, number][] = [
    ['years', Math.trunc(value.months / 12)],
    ['months', value.months % 12],
    ['days', value.days],
    ['hours', Number(hours)],
    ['minutes', Number(minutes)],
    ['seconds', Number(seconds)],
    ['milliseconds', Number(us) / 1000],
  ]
  return Object.fromEntries(parts.filter(([, n]) => n !== 0))
}

function point(text: string): { x: number; y: number } {
  const [x, y] = text.slice(1, -1).split(',')
  return { x: Number.parseFloat(x!), y: Number.parseFloat(y!) }
}

/**
 * Equality of values as Kysely gives them: numbers by `Object.is` (-0 is not 0, NaN is NaN), Dates by instant
 * (two Invalid Dates are equal), Buffers (only to Buffers) by content, arrays and objects member by member.
 */
export function sameAsPg(expected: unknown, actual: unknown): boolean {
  if (expected instanceof Date)
    return actual instanceof Date && Object.is(expected.getTime(), actual.getTime())
  if (Buffer.isBuffer(expected)) return Buffer.isBuffer(actual) && expected.equals(actual)
  if (Array.isArray(expected))
    return (
      Array.isArray(actual) &&
      expected.length === actual.length &&
      expected.every((x, i) => sameAsPg(x, actual[i]))
    )
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual) || actual instanceof Date)
      return false
    const keys = Object.keys(expected)
    return (
      keys.length === Object.keys(actual).length &&
      keys.every((k) => Object.hasOwn(actual, k) && sameAsPg((expected as never)[k], (actual as never)[k]))
    )
  }
  return Object.is(expected, actual)
}
