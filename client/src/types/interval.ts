/**
 * interval in binary format, the {@link Interval} type, and its text for parameters (text format: interval-text.ts).
 *
 * PostgreSQL keeps an interval as three separate fields, because a month is not a fixed number of days and a
 * day is not always 24 hours (DST): so does {@link Interval}.
 */
import { encodeError } from '../errors.ts'
import { expectLength, readInt32, readInt64AsNumber } from './bytes.ts'

/**
 * A PostgreSQL interval. `microseconds` holds the time part (hours, minutes, seconds); it is exact up to
 * ±2^53 µs (about 285 years), as PostgreSQL's int64 is wider than a double.
 */
export interface Interval {
  months: number
  days: number
  microseconds: number
}

/**
 * interval in binary format: int64 microseconds, int32 days, int32 months. PostgreSQL 17+ writes `infinity` as
 * all three at their maximum and `-infinity` at their minimum: those become the numbers ±Infinity, as in text.
 */
export function binaryInterval(bytes: Uint8Array, start: number, end: number): Interval | number {
  expectLength('interval', 16, start, end)
  const high = readInt32(bytes, start)
  const low = readInt32(bytes, start + 4)
  const days = readInt32(bytes, start + 8)
  const months = readInt32(bytes, start + 12)
  if (high === 0x7fffffff && low === -1 && days === 0x7fffffff && months === 0x7fffffff)
    return Number.POSITIVE_INFINITY
  if (high === -0x80000000 && low === 0 && days === -0x80000000 && months === -0x80000000)
    return Number.NEGATIVE_INFINITY
  return { months, days, microseconds: readInt64AsNumber(bytes, start) }
}

/** The parameter text of an interval: `1 mons -2 days 3000000 microseconds`, which any IntervalStyle reads. */
export function intervalToText(interval: Interval): string {
  const { months, days, microseconds } = interval
  if (!Number.isFinite(months) || !Number.isFinite(days) || !Number.isFinite(microseconds)) {
    throw encodeError(`expected finite interval fields, found ${JSON.stringify(interval)}`)
  }
  return `${months} mons ${days} days ${microseconds} microseconds`
}
