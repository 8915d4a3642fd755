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
 * The cursor and the fields being summed are module variables (a decoder call never re-enters), which keeps
 * this parser small in a minified bundle.
 */
import { badText } from './bytes.ts'
import type { Interval } from './interval.ts'

const US_PER_SECOND = 1_000_000
const US_PER_MINUTE = 60 * US_PER_SECOND
const US_PER_HOUR = 60 * US_PER_MINUTE
/** PostgreSQL prints at most 10 digits in any field (int32 days, int64 µs / 3.6e9 hours); a little slack. */
const MAX_DIGITS = 15

// The value being read: bytes[from, end), the cursor `at`.
let bytes: Uint8Array = new Uint8Array(0)
let from = 0
let end = 0
let at = 0
// The fields summed so far; the time as whole hours plus the rest, so that it adds up exactly.
let months = 0
let days = 0
let hours = 0
let microseconds = 0

/** interval in text format → {@link Interval}, or ±Infinity. */
export function textInterval(value: Uint8Array, start: number, stop: number): Interval | number {
  bytes = value
  from = at = start
  end = stop
  months = days = hours = microseconds = 0
  const first = peek()
  if (first === 0x69 || (first === 0x2d && value[start + 1] === 0x69)) return infinity() // i, -i
  if (first === 0x50)
    readIso8601() // P
  else if (first === 0x40 || hasLetter())
    readWithUnits() // @
  else readSqlStandard()
  if (at !== end) throw fail()
  // `+ 0` turns a -0 (from '-0 days' or a negation) into 0
  return { months: months + 0, days: days + 0, microseconds: time() + 0 }
}

function infinity(): number {
  const sign = readSign()
  for (const c of 'infinity') if (!take(c.charCodeAt(0))) throw fail()
  if (at !== end) throw fail()
  return sign * Number.POSITIVE_INFINITY
}

/** hours × 3.6e9 + µs, rounded once to the nearest double (as an int64 read from binary is). */
function time(): number {
  const total = hours * US_PER_HOUR + microseconds
  if (Math.abs(total) <= Number.MAX_SAFE_INTEGER) return total
  return Number(BigInt(hours) * BigInt(US_PER_HOUR) + BigInt(microseconds))
}

function hasLetter(): boolean {
  for (let i = from; i < end; i++) {
    const c = bytes[i]! | 0x20
    if (c >= 0x61 && c <= 0x7a) return true
  }
  return false
}

function fail(): Error {
  return badText('interval', bytes, from, end)
}

function peek(): number | undefined {
  return at < end ? bytes[at] : undefined
}

/** Consumes `c` if it is next. */
function take(c: number): boolean {
  if (peek() !== c) return false
  at++
  return true
}

/** A sign: -1 for `-`, 1 for `+` or none. */
function readSign(): number {
  if (take(0x2d)) return -1
  take(0x2b)
  return 1
}

/** A sign that must be there. */
function explicitSign(): number {
  if (take(0x2b)) return 1
  if (take(0x2d)) return -1
  throw fail()
}

/** One or more decimal digits (at most {@link MAX_DIGITS}). */
function digits(): number {
  const start = at
  let n = 0
  for (let c = peek(); c !== undefined && c >= 0x30 && c <= 0x39; c = peek()) {
    n = n * 10 + (c - 0x30)
    at++
  }
  if (at === start || at - start > MAX_DIGITS) throw fail()
  return n
}

function twoDigits(): number {
  const start = at
  const n = digits()
  if (at - start !== 2) throw fail()
  return n
}

/** `.ffffff` if present, as microseconds (digits past the sixth are dropped; PostgreSQL prints six). */
function fraction(): number {
  if (!take(0x2e)) return 0
  const start = at
  let us = 0
  let scale = 100_000
  for (let c = peek(); c !== undefined && c >= 0x30 && c <= 0x39; c = peek()) {
    us += (c - 0x30) * scale
    scale = scale > 1 ? scale / 10 : 0
    at++
  }
  if (at === start) throw fail()
  return us
}

/** `H+:MM[:SS[.ffffff]]`, added with `sign`. */
function clock(sign: number): void {
  const h = digits()
  if (!take(0x3a)) throw fail()
  let us = twoDigits() * US_PER_MINUTE
  if (take(0x3a)) us += twoDigits() * US_PER_SECOND + fraction()
  hours += sign * h
  microseconds += sign * us
}

// Units that are not µs multiples, distinguished by value.
const YEARS = -1
const MONTHS = -2
const DAYS = -3
const UNITS: Record<string, number> = {
  year: YEARS,
  mon: MONTHS,
  day: DAYS,
  hour: US_PER_HOUR,
  min: US_PER_MINUTE,
  sec: US_PER_SECOND,
}

/**
 * `postgres` and `postgres_verbose`: numbers followed by units (`year(s)`, `mon(s)`, `day(s)`, and in verbose
 * `hour(s)`, `min(s)`, `sec(s)`), a signed clock `[+-]HH:MM:SS[.ffffff]`, an `@` in front and `ago` at the end
 * (which negates everything) in verbose, and verbose's unitless zero `@ 0`.
 */
function readWithUnits(): void {
  const isVerbose = take(0x40) // @
  let isAgo = false
  for (;;) {
    while (take(0x20)) {} // spaces between parts
    const c = peek()
    if (c === undefined || isAgo) break // nothing may follow 'ago'
    if (isVerbose && c === 0x61) {
      if (!(take(0x61) && take(0x67) && take(0x6f))) throw fail() // ago
      isAgo = true
      continue
    }
    const sign = readSign()
    const numberStart = at
    const n = digits()
    if (peek() === 0x3a) {
      at = numberStart
      clock(sign)
      continue
    }
    const us = fraction()
    take(0x20)
    let word = ''
    for (let d = peek(); d !== undefined && d >= 0x61 && d <= 0x7a && word.length < 6; d = peek()) {
      word += String.fromCharCode(d) // a-z
      at++
    }
    const key = !Object.hasOwn(UNITS, word) && word.endsWith('s') ? word.slice(0, -1) : word // plural
    const unit = Object.hasOwn(UNITS, key) ? UNITS[key] : undefined
    if (unit === undefined) {
      if (isVerbose && n === 0 && us === 0 && word === '') continue // '@ 0'
      throw fail()
    }
    if (us !== 0 && unit !== US_PER_SECOND) throw fail()
    if (unit === MONTHS) months += sign * n
    else if (unit === YEARS) months += sign * n * 12
    else if (unit === DAYS) days += sign * n
    else if (unit === US_PER_HOUR) hours += sign * n
    else microseconds += sign * (n * unit + us)
  }
  if (isAgo) {
    months = -months
    days = -days
    hours = -hours
    microseconds = -microseconds
  }
}

/**
 * `sql_standard`: `0`; one sign in front of `Y-M`, `D H:MM:SS` or `H:MM:SS` (it applies to every field); or,
 * when signs are mixed or both year-month and day-time parts are present, `±Y-M ±D ±H:MM:SS`.
 */
function readSqlStandard(): void {
  let spaces = 0
  for (let i = from; i < end; i++) if (bytes[i] === 0x20) spaces++
  if (spaces === 2) {
    // ±Y-M ±D ±H:MM:SS, each part with its own sign
    const sign = explicitSign()
    const years = digits()
    if (!take(0x2d)) throw fail()
    months = sign * (years * 12 + digits())
    if (!take(0x20)) throw fail()
    days = explicitSign() * digits()
    if (!take(0x20)) throw fail()
    clock(explicitSign())
    return
  }
  const sign = readSign()
  const numberStart = at
  const n = digits()
  if (spaces === 1) {
    // D H:MM:SS
    if (!take(0x20)) throw fail()
    days = sign * n
    clock(sign)
  } else if (peek() === 0x3a) {
    at = numberStart
    clock(sign)
  } else if (take(0x2d)) {
    months = sign * (n * 12 + digits()) // Y-M
  } else if (n !== 0 || spaces !== 0) {
    throw fail() // only zero is printed as a bare number
  }
}

/**
 * `iso_8601`: `P[nY][nM][nD][T[nH][nM][[-]s[.ffffff]S]]`, each number with its own sign; `M` is months before
 * the `T` and minutes after it. The designators come in that order, each at most once.
 */
function readIso8601(): void {
  take(0x50) // P
  const order = 'YMDTHMS'
  let next = 0
  let parts = 0
  while (peek() !== undefined) {
    if (next <= 3 && take(0x54)) {
      next = 4 // T
      continue
    }
    const sign = readSign()
    const n = digits()
    const us = fraction()
    const designator = peek()
    at++
    let index = next < 4 ? 0 : 4
    while (index < (next < 4 ? 3 : 7) && order.charCodeAt(index) !== designator) index++
    if (index === 3 || index === 7 || index < next || (us !== 0 && index !== 6)) throw fail()
    next = index + 1
    parts++
    if (index === 0) months += sign * n * 12
    else if (index === 1) months += sign * n
    else if (index === 2) days += sign * n
    else if (index === 4) hours += sign * n
    else if (index === 5) microseconds += sign * n * US_PER_MINUTE
    else microseconds += sign * (n * US_PER_SECOND + us)
  }
  if (parts === 0) throw fail()
}
