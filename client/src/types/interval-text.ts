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
 */
import { badText } from './bytes.ts'
import type { Interval } from './interval.ts'

const US_PER_SECOND = 1_000_000
const US_PER_MINUTE = 60 * US_PER_SECOND
const US_PER_HOUR = 60 * US_PER_MINUTE
/** PostgreSQL prints at most 10 digits in any field (int32 days, int64 µs / 3.6e9 hours); a little slack. */
const MAX_DIGITS = 15

/** The fields read so far; the time is kept as whole hours plus the rest, so it can be added up exactly. */
interface Fields {
  months: number
  days: number
  hours: number
  microseconds: number
}

/** interval in text format → {@link Interval}, or ±Infinity. */
export function textInterval(bytes: Uint8Array, start: number, end: number): Interval | number {
  const first = bytes[start]
  if (first === 0x69 || (first === 0x2d && bytes[start + 1] === 0x69)) return infinity(bytes, start, end) // i, -i
  const fields: Fields = { months: 0, days: 0, hours: 0, microseconds: 0 }
  if (first === 0x50 && start < end) {
    readIso8601(bytes, start, end, fields)
  } else if (first === 0x40 || hasLetter(bytes, start, end)) {
    readWithUnits(bytes, start, end, fields)
  } else {
    readSqlStandard(bytes, start, end, fields)
  }
  return {
    months: fields.months + 0, // `+ 0` turns a -0 (from '-0 days' or a negation) into 0
    days: fields.days + 0,
    microseconds: time(fields) + 0,
  }
}

function infinity(bytes: Uint8Array, start: number, end: number): number {
  const isNegative = bytes[start] === 0x2d
  const word = isNegative ? start + 1 : start
  const expected = 'infinity'
  if (end - word !== expected.length) throw badText('interval', bytes, start, end)
  for (let i = 0; i < expected.length; i++) {
    if (bytes[word + i] !== expected.charCodeAt(i)) throw badText('interval', bytes, start, end)
  }
  return isNegative ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY
}

/** hours × 3.6e9 + µs, rounded once to the nearest double (as an int64 read from binary is). */
function time(fields: Fields): number {
  const total = fields.hours * US_PER_HOUR + fields.microseconds
  if (Math.abs(total) <= Number.MAX_SAFE_INTEGER) return total
  return Number(BigInt(fields.hours) * BigInt(US_PER_HOUR) + BigInt(fields.microseconds))
}

function hasLetter(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = bytes[i]! | 0x20
    if (c >= 0x61 && c <= 0x7a) return true
  }
  return false
}

/** A cursor over the text; `fail` builds the error for the whole value. */
class Reader {
  readonly bytes: Uint8Array
  readonly start: number
  readonly end: number
  at: number

  constructor(bytes: Uint8Array, start: number, end: number) {
    this.bytes = bytes
    this.start = start
    this.end = end
    this.at = start
  }

  fail(): Error {
    return badText('interval', this.bytes, this.start, this.end)
  }

  peek(): number | undefined {
    return this.at < this.end ? this.bytes[this.at] : undefined
  }

  /** Consumes `c` if it is next. */
  take(c: number): boolean {
    if (this.peek() !== c) return false
    this.at++
    return true
  }

  /** A sign: -1 for `-`, 1 for `+` or none. */
  sign(): number {
    if (this.take(0x2d)) return -1
    this.take(0x2b)
    return 1
  }

  /** One or more decimal digits (at most {@link MAX_DIGITS}). */
  digits(): number {
    const from = this.at
    let n = 0
    for (let c = this.peek(); c !== undefined && c >= 0x30 && c <= 0x39; c = this.peek()) {
      n = n * 10 + (c - 0x30)
      this.at++
    }
    if (this.at === from || this.at - from > MAX_DIGITS) throw this.fail()
    return n
  }

  /** Two digits. */
  twoDigits(): number {
    const from = this.at
    const n = this.digits()
    if (this.at - from !== 2) throw this.fail()
    return n
  }

  /** `.ffffff` if present, as microseconds (digits past the sixth are dropped; PostgreSQL prints six). */
  fraction(): number {
    if (!this.take(0x2e)) return 0
    const from = this.at
    let microseconds = 0
    let scale = 100_000
    for (let c = this.peek(); c !== undefined && c >= 0x30 && c <= 0x39; c = this.peek()) {
      microseconds += (c - 0x30) * scale
      scale = scale > 1 ? scale / 10 : 0
      this.at++
    }
    if (this.at === from) throw this.fail()
    return microseconds
  }

  /** `H+:MM[:SS[.ffffff]]` with the given sign, added to `fields`. */
  clock(sign: number, fields: Fields): void {
    const hours = this.digits()
    if (!this.take(0x3a)) throw this.fail()
    let microseconds = this.twoDigits() * US_PER_MINUTE
    if (this.take(0x3a)) microseconds += this.twoDigits() * US_PER_SECOND + this.fraction()
    fields.hours += sign * hours
    fields.microseconds += sign * microseconds
  }

  expectEnd(): void {
    if (this.at !== this.end) throw this.fail()
  }
}

/**
 * `postgres` and `postgres_verbose`: numbers followed by units (`year(s)`, `mon(s)`, `day(s)`, and in verbose
 * `hour(s)`, `min(s)`, `sec(s)`), a signed clock `[+-]HH:MM:SS[.ffffff]`, an `@` in front and `ago` at the end
 * (which negates everything) in verbose, and verbose's unitless zero `@ 0`.
 */
function readWithUnits(bytes: Uint8Array, start: number, end: number, fields: Fields): void {
  const r = new Reader(bytes, start, end)
  const isVerbose = r.take(0x40) // @
  let isAgo = false
  for (;;) {
    while (r.take(0x20)) {} // spaces between parts
    const c = r.peek()
    if (c === undefined) break
    if (isAgo) throw r.fail() // nothing may follow 'ago'
    if (isVerbose && c === 0x61) {
      if (!(r.take(0x61) && r.take(0x67) && r.take(0x6f))) throw r.fail() // ago
      isAgo = true
      continue
    }
    const sign = r.sign()
    const numberStart = r.at
    const n = r.digits()
    if (r.peek() === 0x3a) {
      r.at = numberStart
      r.clock(sign, fields)
      continue
    }
    const fraction = r.fraction()
    r.take(0x20)
    const unitStart = r.at
    while (r.peek() !== undefined && r.peek()! >= 0x61 && r.peek()! <= 0x7a) r.at++ // a-z
    const unit = unitOf(bytes, unitStart, r.at)
    if (unit === undefined) {
      if (isVerbose && n === 0 && fraction === 0 && r.at === unitStart) continue // '@ 0'
      throw r.fail()
    }
    if (fraction !== 0 && unit !== US_PER_SECOND) throw r.fail()
    if (unit === MONTHS) fields.months += sign * n
    else if (unit === YEARS) fields.months += sign * n * 12
    else if (unit === DAYS) fields.days += sign * n
    else if (unit === US_PER_HOUR) fields.hours += sign * n
    else fields.microseconds += sign * (n * unit + fraction)
  }
  if (isAgo) negate(fields)
}

function negate(fields: Fields): void {
  fields.months = -fields.months
  fields.days = -fields.days
  fields.hours = -fields.hours
  fields.microseconds = -fields.microseconds
}

// Units other than µs multiples, distinguished by value (none is a plausible µs multiple).
const YEARS = -1
const MONTHS = -2
const DAYS = -3

/** year(s) / mon(s) / day(s) / hour(s) / min(s) / sec(s), exactly as PostgreSQL spells them. */
function unitOf(bytes: Uint8Array, start: number, end: number): number | undefined {
  const length = end - start
  if (length < 3 || length > 5) return undefined
  const plural = bytes[end - 1] === 0x73 && length > 3 // s
  let word = ''
  for (let i = start; i < (plural ? end - 1 : end); i++) word += String.fromCharCode(bytes[i]!)
  switch (word) {
    case 'year':
      return YEARS
    case 'mon':
      return MONTHS
    case 'day':
      return DAYS
    case 'hour':
      return US_PER_HOUR
    case 'min':
      return US_PER_MINUTE
    case 'sec':
      return US_PER_SECOND
    default:
      return undefined
  }
}

/**
 * `sql_standard`: `0`; one sign in front of `Y-M`, `D H:MM:SS` or `H:MM:SS` (it applies to every field); or,
 * when signs are mixed or both year-month and day-time parts are present, `±Y-M ±D ±H:MM:SS`.
 */
function readSqlStandard(bytes: Uint8Array, start: number, end: number, fields: Fields): void {
  const r = new Reader(bytes, start, end)
  let spaces = 0
  for (let i = start; i < end; i++) if (bytes[i] === 0x20) spaces++
  if (spaces === 2) {
    // ±Y-M ±D ±H:MM:SS, each part with its own sign
    const yearSign = explicitSign(r)
    const years = r.digits()
    if (!r.take(0x2d)) throw r.fail()
    fields.months = yearSign * (years * 12 + r.digits())
    if (!r.take(0x20)) throw r.fail()
    fields.days = explicitSign(r) * r.digits()
    if (!r.take(0x20)) throw r.fail()
    r.clock(explicitSign(r), fields)
    r.expectEnd()
    return
  }
  const sign = r.sign()
  const numberStart = r.at
  const n = r.digits()
  if (spaces === 1) {
    // D H:MM:SS
    if (!r.take(0x20)) throw r.fail()
    fields.days = sign * n
    r.clock(sign, fields)
  } else if (r.peek() === 0x3a) {
    r.at = numberStart
    r.clock(sign, fields)
  } else if (r.take(0x2d)) {
    fields.months = sign * (n * 12 + r.digits()) // Y-M
  } else if (n !== 0 || spaces !== 0) {
    throw r.fail() // only zero is printed as a bare number
  }
  r.expectEnd()
}

function explicitSign(r: Reader): number {
  if (r.take(0x2b)) return 1
  if (r.take(0x2d)) return -1
  throw r.fail()
}

/**
 * `iso_8601`: `P[nY][nM][nD][T[nH][nM][[-]s[.ffffff]S]]`, each number with its own sign;
 * `M` is months before the `T` and minutes after it.
 */
function readIso8601(bytes: Uint8Array, start: number, end: number, fields: Fields): void {
  const r = new Reader(bytes, start, end)
  r.take(0x50) // P
  let isTime = false
  let parts = 0
  /** Designators in the order PostgreSQL prints them; each may appear once. */
  let next = 0
  const order = 'YMDTHMS'
  while (r.peek() !== undefined) {
    if (!isTime && r.take(0x54)) {
      isTime = true // T
      next = 4
      continue
    }
    const sign = r.sign()
    const n = r.digits()
    const fraction = r.fraction()
    const designator = r.peek()
    r.at++
    let index = -1
    for (let i = isTime ? 4 : 0; i < (isTime ? 7 : 3); i++) {
      if (order.charCodeAt(i) === designator) index = i
    }
    if (index < next || (fraction !== 0 && index !== 6)) throw r.fail()
    next = index + 1
    parts++
    if (index === 0) fields.months += sign * n * 12
    else if (index === 1) fields.months += sign * n
    else if (index === 2) fields.days += sign * n
    else if (index === 4) fields.hours += sign * n
    else if (index === 5) fields.microseconds += sign * n * US_PER_MINUTE
    else fields.microseconds += sign * (n * US_PER_SECOND + fraction)
  }
  if (parts === 0) throw r.fail()
}
