/**
 * interval, in both formats, and its text for parameters.
 *
 * PostgreSQL keeps an interval as three separate fields, because a month is not a fixed number of days and a
 * day is not always 24 hours (DST): so does {@link Interval}.
 */
import { encodeError } from '../errors.ts'
import { badText, expectLength, readInt32, readInt64AsNumber, twoDigits } from './bytes.ts'

/**
 * A PostgreSQL interval. `microseconds` holds the time part (hours, minutes, seconds); it is exact up to
 * ±2^53 µs (about 285 years), as PostgreSQL's int64 is wider than a double.
 */
export interface Interval {
  months: number
  days: number
  microseconds: number
}

/** interval in binary format: int64 microseconds, int32 days, int32 months. */
export function binaryInterval(bytes: Uint8Array, start: number, end: number): Interval {
  expectLength('interval', 16, start, end)
  return {
    months: readInt32(bytes, start + 12),
    days: readInt32(bytes, start + 8),
    microseconds: readInt64AsNumber(bytes, start),
  }
}

const US_PER_SECOND = 1_000_000
const US_PER_MINUTE = 60 * US_PER_SECOND
const US_PER_HOUR = 60 * US_PER_MINUTE

/**
 * interval in text format, as printed under IntervalStyle `postgres` (the default):
 * `1 year 2 mons -3 days +04:05:06.789`, `-00:00:01`, `00:00:00`. The `postgres_verbose` form
 * (`@ 1 year 2 mons 4 hours 5 mins 6.789 secs ago`) is read too.
 */
export function textInterval(bytes: Uint8Array, start: number, end: number): Interval {
  let months = 0
  let days = 0
  let microseconds = 0
  let isAgo = false
  let i = start
  while (i < end) {
    let c = bytes[i]!
    if (c === 0x20 || c === 0x40) {
      i++ // ' ' or the '@' of postgres_verbose
      continue
    }
    const isNegative = c === 0x2d // -
    if (isNegative || c === 0x2b) c = bytes[++i]! // + or -
    const numberStart = i
    let n = 0
    for (let digit = c - 48; digit >= 0 && digit <= 9 && i < end; digit = bytes[++i]! - 48) n = n * 10 + digit
    if (i === numberStart) {
      if (
        !isNegative &&
        end - i >= 3 &&
        bytes[i] === 0x61 &&
        bytes[i + 1] === 0x67 &&
        bytes[i + 2] === 0x6f
      ) {
        isAgo = true // 'ago'
        i += 3
        continue
      }
      throw badText('interval', bytes, start, end)
    }
    if (bytes[i] === 0x3a && i + 3 <= end) {
      // [-]HH:MM:SS[.ffffff]; hours may have more than two digits.
      const minutes = twoDigits(bytes, i + 1)
      let time = n * US_PER_HOUR + minutes * US_PER_MINUTE
      i += 3
      if (bytes[i] === 0x3a && i + 3 <= end) {
        time += twoDigits(bytes, i + 1) * US_PER_SECOND
        i += 3
        if (bytes[i] === 0x2e && i < end) {
          const fraction = readFraction(bytes, i + 1, end)
          time += fraction.microseconds
          i = fraction.end
        }
      }
      if (Number.isNaN(time)) throw badText('interval', bytes, start, end)
      microseconds += isNegative ? -time : time
      continue
    }
    let fraction = 0
    if (bytes[i] === 0x2e && i < end) {
      const read = readFraction(bytes, i + 1, end)
      fraction = read.microseconds
      i = read.end
    }
    while (bytes[i] === 0x20 && i < end) i++
    const unitStart = i
    while (i < end && bytes[i]! >= 0x61 && bytes[i]! <= 0x7a) i++ // a-z
    const unit = unitOf(bytes, unitStart, i)
    if (unit === undefined || (fraction !== 0 && unit !== US_PER_SECOND))
      throw badText('interval', bytes, start, end)
    const signed = isNegative ? -1 : 1
    if (unit === MONTHS) months += signed * n
    else if (unit === YEARS) months += signed * n * 12
    else if (unit === DAYS) days += signed * n
    else microseconds += signed * (n * unit + fraction)
  }
  if (isAgo) return { months: 0 - months, days: 0 - days, microseconds: 0 - microseconds }
  // `+ 0` turns a -0 (from '-0 days') into 0.
  return { months: months + 0, days: days + 0, microseconds: microseconds + 0 }
}

// Units other than µs multiples, distinguished by value (none is a plausible µs multiple).
const YEARS = -1
const MONTHS = -2
const DAYS = -3

/** year(s) / mon(s) / day(s), and the verbose hour(s) / min(s) / sec(s); the first letters decide. */
function unitOf(bytes: Uint8Array, start: number, end: number): number | undefined {
  if (end === start) return undefined
  switch (bytes[start]) {
    case 0x79: // y
      return YEARS
    case 0x64: // d
      return DAYS
    case 0x68: // h
      return US_PER_HOUR
    case 0x73: // s
      return US_PER_SECOND
    case 0x6d: // m
      if (bytes[start + 1] === 0x6f) return MONTHS // mon
      if (bytes[start + 1] === 0x69 && bytes[start + 2] === 0x6e) return US_PER_MINUTE // min
      return undefined
    default:
      return undefined
  }
}

/** Digits after a decimal point as microseconds (up to six digits; PostgreSQL prints no more). */
function readFraction(bytes: Uint8Array, start: number, end: number): { microseconds: number; end: number } {
  let microseconds = 0
  let scale = 100_000
  let i = start
  for (let digit = bytes[i]! - 48; digit >= 0 && digit <= 9 && i < end; digit = bytes[++i]! - 48) {
    microseconds += digit * scale
    scale = scale > 1 ? scale / 10 : 0
  }
  return { microseconds, end: i }
}

/** The parameter text of an interval: `1 mons -2 days 3000000 microseconds`, which any IntervalStyle reads. */
export function intervalToText(interval: Interval): string {
  const { months, days, microseconds } = interval
  if (!Number.isFinite(months) || !Number.isFinite(days) || !Number.isFinite(microseconds)) {
    throw encodeError(`expected finite interval fields, found ${JSON.stringify(interval)}`)
  }
  return `${months} mons ${days} days ${microseconds} microseconds`
}
