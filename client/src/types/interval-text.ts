/**
 * interval in text format, in all four `IntervalStyle`s PostgreSQL prints (EncodeInterval in datetime.c). The
 * style is recognised from the text itself, so a `SET IntervalStyle` never leaves a value read in the wrong
 * one, even for a row already on its way when the setting changed:
 *
 * - `postgres` (default): `1 year 2 mons -3 days +04:05:06.789`, `-00:00:01`, `00:00:00`
 * - `postgres_verbose`: `@ 1 year 2 mons -3 days 4 hours 5 mins 6.789 secs ago`, `@ 0`
 * - `sql_standard`: `1-2`, `-3 4:05:06`, `0:00:01`, `0`, and with mixed signs `+1-2 -3 +4:05:06.789`
 * - `iso_8601`: `P1Y2M-3DT4H5M6.789S`, `PT-0.5S`, `PT0S`
 *
 * `infinity` and `-infinity` (PostgreSQL 17+) become the numbers `Infinity` and `-Infinity`, as for
 * timestamps. Microseconds beyond ±2^53 are the nearest double, exactly as the binary decoder gives them.
 *
 * Every number has at most 15 digits (PostgreSQL prints at most 10: int32 days, int64 µs / 3.6e9 hours), so it
 * is exact; minutes and seconds of a clock have exactly two. The fields summed so far are a module variable (a
 * decoder call never re-enters), which keeps this parser small in a minified bundle.
 */
import { decodeUtf8 } from '../utf8.ts'
import { badText } from './bytes.ts'
import type { Interval } from './interval.ts'

const US_PER_SECOND = 1_000_000
const US_PER_MINUTE = 60 * US_PER_SECOND
const US_PER_HOUR = 60 * US_PER_MINUTE

/** The units, in the order every style prints them; `s` may follow each (`mons`, `secs`). */
const UNITS = ['year', 'mon', 'day', 'hour', 'min', 'sec']
/** What each unit adds to: months, days, hours or µs (the time as whole hours plus the rest adds up exactly). */
const FIELD = [0, 0, 1, 2, 3, 3]
/** And how much of it one unit is. */
const FACTOR = [12, 1, 1, 1, US_PER_MINUTE, US_PER_SECOND]
const SECONDS = 5

/** months, days, hours, µs of the value being read. */
let sum = [0, 0, 0, 0]

/** interval in text format → {@link Interval}, or ±Infinity. */
export function textInterval(bytes: Uint8Array, start: number, end: number): Interval | number {
  const text = decodeUtf8(bytes, start, end)
  sum = [0, 0, 0, 0]
  if (/^-?infinity$/.test(text)) return text[0] === '-' ? -Infinity : Infinity
  const isRead =
    text[0] === 'P'
      ? readIso8601(text)
      : text[0] === '@' || /[a-z]/i.test(text)
        ? readWithUnits(text)
        : readSqlStandard(text)
  if (!isRead) throw badText('an interval', bytes, start, end)
  const [months, days, hours, microseconds] = sum as [number, number, number, number]
  // hours × 3.6e9 + µs, rounded once to the nearest double (as an int64 read from binary is)
  let time = hours * US_PER_HOUR + microseconds
  if (Math.abs(time) > Number.MAX_SAFE_INTEGER)
    time = Number(BigInt(hours) * BigInt(US_PER_HOUR) + BigInt(microseconds))
  // `+ 0` turns a -0 (from '-0 days' or a negation) into 0
  return { months: months + 0, days: days + 0, microseconds: time + 0 }
}

/** Adds `n` of `UNITS[unit]` and `us` more µs, with `sign` (`'-'` or not). */
function add(unit: number, sign: string | undefined, n: string | number, us = 0): void {
  sum[FIELD[unit]!]! += (sign === '-' ? -1 : 1) * (+n * FACTOR[unit]! + us)
}

/** `.ffffff` (or nothing) as microseconds: digits past the sixth are dropped (PostgreSQL prints six). */
function fraction(digits: string | undefined): number {
  return digits ? +digits.slice(1, 7).padEnd(6, '0') : 0
}

/** `H+:MM[:SS[.ffffff]]` from its parts (`ss` and `fraction` may be missing), added with `sign`. */
function clock(sign: string | undefined, h: string, mm: string, ss?: string, digits?: string): true {
  add(3, sign, h)
  add(4, sign, mm, ss ? +ss * US_PER_SECOND + fraction(digits) : 0)
  return true
}

/** One part of the styles with units: `ago`, a signed clock, or a signed number and its unit. */
const PART =
  /(ago)|([+-]?)(\d{1,15})(?!\d)(?::(\d\d)(?!\d)(?::(\d\d)(?!\d)(\.\d+)?)?|(\.\d+)? ?([a-z]{0,6}))/y

/**
 * `postgres` and `postgres_verbose`: numbers followed by units (`year(s)`, `mon(s)`, `day(s)`, and in verbose
 * `hour(s)`, `min(s)`, `sec(s)`), a signed clock `[+-]HH:MM:SS[.ffffff]`, an `@` in front and `ago` at the end
 * (which negates everything) in verbose, and verbose's unitless zero `@ 0`.
 */
function readWithUnits(text: string): boolean {
  const isVerbose = text[0] === '@'
  let at = isVerbose ? 1 : 0
  let isAgo = false
  for (;;) {
    while (text[at] === ' ') at++ // spaces between parts
    if (at === text.length) break
    PART.lastIndex = at
    const part = PART.exec(text)
    // nothing may follow 'ago'
    if (!part || isAgo) return false
    at = PART.lastIndex
    const [, ago, sign, n, mm, ss, digits, us, word] = part as unknown as (string | undefined)[]
    if (ago) {
      if (!isVerbose) return false
      isAgo = true
    } else if (mm) {
      clock(sign, n!, mm, ss, digits)
    } else {
      const unit = UNITS.indexOf(word!.replace(/s$/, '')) // plural
      const micro = fraction(us)
      if (unit < 0) {
        if (isVerbose && +n! === 0 && micro === 0 && word === '') continue // '@ 0'
        return false
      }
      if (micro !== 0 && unit !== SECONDS) return false
      add(unit, sign, n!, micro)
    }
  }
  if (isAgo) sum = sum.map((field) => -field)
  return true
}

/**
 * `sql_standard`: `0`; one sign in front of `Y-M`, `D H:MM:SS` or `H:MM:SS` (it applies to every field); or,
 * when signs are mixed or both year-month and day-time parts are present, `±Y-M ±D ±H:MM:SS`.
 */
function readSqlStandard(text: string): boolean {
  if (/^[+-]?0{1,15}$/.test(text)) return true // only zero is printed as a bare number
  let m = /^([+-]?)(\d{1,15})-(\d{1,15})$/.exec(text)
  if (m) {
    add(0, m[1], m[2]!, +m[3]!) // Y-M
    return true
  }
  m = /^([+-]?)(?:(\d{1,15}) )?(\d{1,15}):(\d\d)(?::(\d\d)(\.\d+)?)?$/.exec(text)
  if (m) {
    if (m[2]) add(2, m[1], m[2]) // D H:MM:SS
    return clock(m[1], m[3]!, m[4]!, m[5], m[6])
  }
  // ±Y-M ±D ±H:MM:SS, each part with its own sign
  m = /^([+-])(\d{1,15})-(\d{1,15}) ([+-])(\d{1,15}) ([+-])(\d{1,15}):(\d\d)(?::(\d\d)(\.\d+)?)?$/.exec(text)
  if (!m) return false
  add(0, m[1], m[2]!, +m[3]!)
  add(2, m[4], m[5]!)
  return clock(m[6], m[7]!, m[8]!, m[9], m[10])
}

/** One part of `iso_8601`: the `T`, or a signed number (a fraction only for seconds) and its designator. */
const ISO_PART = /(T)|([+-]?)(\d{1,15})(?!\d)(\.\d+)?([YMDHS])/y

/**
 * `iso_8601`: `P[nY][nM][nD][T[nH][nM][[-]s[.ffffff]S]]`, each number with its own sign; `M` is months before
 * the `T` and minutes after it. The designators come in that order, each at most once.
 */
function readIso8601(text: string): boolean {
  let at = 1 // after the P
  let next = 0 // the first designator still allowed: 0-2 YMD, 4-6 HMS after the T (3)
  let hasParts = false
  while (at < text.length) {
    ISO_PART.lastIndex = at
    const part = ISO_PART.exec(text)
    if (!part) return false
    at = ISO_PART.lastIndex
    const [, t, sign, n, us, designator] = part as unknown as string[]
    if (t) {
      if (next > 3) return false
      next = 4
      continue
    }
    const index = next < 4 ? 'YMD'.indexOf(designator!) : 4 + 'HMS'.indexOf(designator!)
    const micro = fraction(us)
    if (index < next || (micro !== 0 && index !== 6)) return false
    next = index + 1
    hasParts = true
    add(index > 3 ? index - 1 : index, sign, n!, micro)
  }
  return hasParts
}
