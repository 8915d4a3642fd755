/**
 * date, timestamp and timestamptz, in both formats.
 *
 * - timestamp and timestamptz become a `Date`; a timestamp (without time zone) is read as UTC.
 *   `infinity` and `-infinity` become the numbers `Infinity` and `-Infinity` (as node-postgres does).
 *   PostgreSQL keeps microseconds, a `Date` keeps milliseconds: the extra digits are truncated (towards the
 *   earlier instant, as the text form does). An instant after 275760-09-13 00:00:00 UTC does not fit a `Date`
 *   (PostgreSQL goes to 294276 AD): it is an `encode` error, the same in both formats; `dates: 'string'` reads it.
 * - date stays a string in PostgreSQL's ISO form: `2024-02-29`, `0044-03-15 BC`, `infinity`, `-infinity`.
 *
 * The text forms read are the ones printed under `DateStyle` ISO (the default, and what edgepg sets):
 * `2024-02-29 13:04:05.123456+05:30`, offsets `+00`, `-03:00:15`, years of 5+ digits, a trailing ` BC`.
 */
import { encodeError } from '../errors.ts'
import { badText, expectLength, readInt32, readUint32, twoDigits } from './bytes.ts'

/** Milliseconds from 1970-01-01 (the JS epoch) to 2000-01-01 (PostgreSQL's). */
const PG_EPOCH_MS = 946684800000
/** Seconds and days from 1970-01-01 to 2000-01-01. */
const PG_EPOCH_SECONDS = 946684800
const DAYS_1970_TO_2000 = 10957
/** Days since 2000-01-01 of 4714-11-24 BC (julian day 0) and 5874897-12-31: PostgreSQL's date range. */
const MIN_DATE_DAYS = -2451545
const MAX_DATE_DAYS = 2145031948
/** The largest distance from 1970 a `Date` holds, in ms (±100,000,000 days). */
const MAX_DATE_MS = 8.64e15

/** Days from 1970-01-01 to a proleptic Gregorian date (any year; year 0 is 1 BC). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yearOfEra = y - era * 400
  const dayOfYear = Math.floor((153 * ((month + 9) % 12) + 2) / 5) + day - 1
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear
  return era * 146097 + dayOfEra - 719468
}

/** Seconds in 400 Gregorian years, after which the calendar repeats. */
const CYCLE_SECONDS = 146097 * 86400

/**
 * `YYYY-MM-DD HH:MM:SS` (`YYYY-MM-DD` with `isDate`) of whole seconds since 1970 (UTC) in any year, with ` BC`
 * after it for a year ≤ 0 (1 BC is year 0), as PostgreSQL prints it: a `Date` formats the instant moved by whole
 * 400-year cycles into 1970–2369, and the cycles are added back to the year.
 */
function formatUtc(seconds: number, isDate?: boolean): string {
  const cycles = Math.floor(seconds / CYCLE_SECONDS)
  const iso = new Date((seconds - cycles * CYCLE_SECONDS) * 1000).toISOString()
  const year = +iso.slice(0, 4) + cycles * 400
  const text = `${`${year > 0 ? year : 1 - year}`.padStart(4, '0')}${iso.slice(4, isDate ? 10 : 19).replace('T', ' ')}`
  return year > 0 ? text : `${text} BC`
}

/** The error for an instant past what a `Date` holds; `seconds` since 1970 (UTC), whole. */
function outOfDateRange(seconds: number): Error {
  return encodeError(
    `expected a timestamp a JavaScript Date can hold (up to 275760-09-13 00:00:00 UTC), found ${formatUtc(seconds)} UTC; read it as text with the option types: { dates: 'string' }`,
  )
}

function isInfinity(bytes: Uint8Array, start: number, end: number): number {
  // 'infinity' / '-infinity': the only text forms starting with a letter or a minus sign.
  if (bytes[start] === 0x69 && end - start === 8) return 1 // i
  if (bytes[start] === 0x2d && bytes[start + 1] === 0x69 && end - start === 9) return -1 // -i
  return 0
}

/** Reads `YYYY-MM-DD HH:MM:SS[.ffffff][±HH[:MM[:SS]]][ BC]` as milliseconds since 1970 (UTC), or ±Infinity. */
export function parseTimestampMs(bytes: Uint8Array, start: number, end: number): number {
  const infinity = isInfinity(bytes, start, end)
  if (infinity !== 0) return infinity * Number.POSITIVE_INFINITY
  let i = start
  let year = 0
  for (let digit = bytes[i]! - 48; digit >= 0 && digit <= 9 && i < end; digit = bytes[++i]! - 48) {
    year = year * 10 + digit
  }
  // i is on the '-' after the year (4 to 7 digits); the fixed part "-MM-DD HH:MM:SS" is 15 bytes.
  if (
    i - start < 4 ||
    i - start > 7 ||
    end - i < 15 ||
    bytes[i] !== 0x2d ||
    bytes[i + 3] !== 0x2d ||
    bytes[i + 6] !== 0x20 ||
    bytes[i + 9] !== 0x3a ||
    bytes[i + 12] !== 0x3a
  ) {
    throw badText('a timestamp', bytes, start, end)
  }
  const month = twoDigits(bytes, i + 1)
  const day = twoDigits(bytes, i + 4)
  const hour = twoDigits(bytes, i + 7)
  const minute = twoDigits(bytes, i + 10)
  const second = twoDigits(bytes, i + 13)
  i += 15
  let ms = 0
  if (bytes[i] === 0x2e && i < end) {
    // .ffffff: a Date keeps milliseconds, so the digits past the third are dropped (truncation).
    let scale = 100
    for (let digit = bytes[++i]! - 48; digit >= 0 && digit <= 9 && i < end; digit = bytes[++i]! - 48) {
      ms += digit * scale
      scale = scale > 1 ? scale / 10 : 0
    }
  }
  let offset = 0
  const sign = bytes[i]
  if ((sign === 0x2b || sign === 0x2d) && i < end) {
    // +HH, +HH:MM or +HH:MM:SS
    offset = twoDigits(bytes, i + 1) * 3600
    i += 3
    if (bytes[i] === 0x3a && i < end) {
      offset += twoDigits(bytes, i + 1) * 60
      i += 3
      if (bytes[i] === 0x3a && i < end) {
        offset += twoDigits(bytes, i + 1)
        i += 3
      }
    }
    if (sign === 0x2d) offset = -offset
  } else if (sign === 0x5a && i < end) {
    i++ // Z
  }
  if (end - i === 3 && bytes[i] === 0x20 && bytes[i + 1] === 0x42 && bytes[i + 2] === 0x43) {
    year = 1 - year // ' BC': 1 BC is year 0
    i += 3
  }
  // The NaN of a non-digit fails every comparison, so it is caught here too.
  if (
    i !== end ||
    !(month >= 1 && month <= 12 && day >= 1 && day <= 31) ||
    !(hour < 24 && minute < 60 && second < 60 && offset > -86400 && offset < 86400)
  ) {
    throw badText('a timestamp', bytes, start, end)
  }
  // The instant, not the local time, decides whether a Date holds it (whole seconds stay exact).
  const seconds = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset
  const time = seconds * 1000 + ms
  if (time > MAX_DATE_MS || time < -MAX_DATE_MS) throw outOfDateRange(seconds)
  return time
}

/** timestamp and timestamptz in text format → Date, or ±Infinity. */
export function textTimestamp(bytes: Uint8Array, start: number, end: number): Date | number {
  const ms = parseTimestampMs(bytes, start, end)
  return Number.isFinite(ms) ? new Date(ms) : ms
}

/** timestamp and timestamptz in binary format: int64 microseconds since 2000-01-01, ±int64 max for infinity. */
export function binaryTimestamp(bytes: Uint8Array, start: number, end: number): Date | number {
  expectLength('timestamp', 8, start, end)
  const high = readInt32(bytes, start)
  const low = readUint32(bytes, start + 4)
  if (high === 0x7fffffff && low === 0xffffffff) return Number.POSITIVE_INFINITY
  if (high === -0x80000000 && low === 0) return Number.NEGATIVE_INFINITY
  // µs = high·2^32 + low does not fit a double exactly; split 2^32 = 4294967·1000 + 296 and floor to ms.
  const ms = PG_EPOCH_MS + high * 4294967 + Math.floor((high * 296 + low) / 1000)
  if (ms > MAX_DATE_MS || ms < -MAX_DATE_MS) {
    // the same split for whole seconds: 2^32 = 4294·10^6 + 967296
    throw outOfDateRange(PG_EPOCH_SECONDS + high * 4294 + Math.floor((high * 967296 + low) / 1e6))
  }
  return new Date(ms)
}

/** date in binary format: int32 days since 2000-01-01 → PostgreSQL's ISO text. */
export function binaryDate(bytes: Uint8Array, start: number, end: number): string {
  expectLength('date', 4, start, end)
  const days = readInt32(bytes, start)
  if (days === 0x7fffffff) return 'infinity'
  if (days === -0x80000000) return '-infinity'
  if (days < MIN_DATE_DAYS || days > MAX_DATE_DAYS) {
    throw encodeError(
      `expected a date from 4714-11-24 BC to 5874897-12-31 in binary format, found day ${days}`,
    )
  }
  return formatUtc((days + DAYS_1970_TO_2000) * 86400, true)
}
