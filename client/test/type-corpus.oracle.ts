/**
 * The oracle of the type corpus: does a decoded value print as the server's own text of it? Written from
 * PostgreSQL's output functions (array_out, EncodeInterval, timestamp_out, byteaout, …), independently of the
 * decoders: it prints values, the decoders parse text and bytes.
 */
import { arrayElementOid } from '../src/types/oids.generated.ts'

/** The session's output settings the expected text depends on. */
export interface Styles {
  intervalStyle: 'postgres' | 'postgres_verbose' | 'sql_standard' | 'iso_8601'
}

/** Why `value` is not what `text` (the server's `::text` of the same expression) says, or undefined. */
export function mismatch(
  value: unknown,
  text: string | null,
  oid: number,
  styles: Styles,
): string | undefined {
  if (text === null) return value === null ? undefined : `expected null, found ${show(value)}`
  const element = arrayElementOid[oid]
  if (element !== undefined && oid !== 22 && oid !== 30) {
    // (int2vector and oidvector print as space-separated lists, not arrays)
    return arrayMismatch(value, parseArrayText(text, oid === 1020 ? ';' : ','), element, styles)
  }
  const expected = scalarMatches(value, text, oid, styles)
  return expected === true
    ? undefined
    : `expected ${JSON.stringify(text)}, found ${show(value)} (${expected})`
}

function arrayMismatch(
  value: unknown,
  items: ArrayText,
  element: number,
  styles: Styles,
): string | undefined {
  if (!Array.isArray(value)) return `expected an array, found ${show(value)}`
  if (value.length !== items.length) return `expected ${items.length} elements, found ${value.length}`
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!
    const found = Array.isArray(item)
      ? arrayMismatch(value[i], item, element, styles)
      : mismatch(value[i], item, element, styles)
    if (found !== undefined) return `[${i}]: ${found}`
  }
  return undefined
}

/** true, or what the value prints as instead. */
function scalarMatches(value: unknown, text: string, oid: number, styles: Styles): true | string {
  let printed: string
  switch (oid) {
    case 16: // bool
      printed = value === true ? 't' : value === false ? 'f' : 'not a boolean'
      break
    case 20: // int8
      return typeof value === 'bigint' && value === BigInt(text) ? true : 'not that bigint'
    case 21: // int2
    case 23: // int4
    case 26: // oid
      return typeof value === 'number' && value === Number(text) ? true : 'not that integer'
    case 700: // float4
    case 701: // float8
      // Number() of the shortest text PostgreSQL prints is the value exactly (correctly rounded).
      return typeof value === 'number' && Object.is(value, Number(text))
        ? true
        : `${String(value)} as a number`
    case 17: // bytea
      printed = value instanceof Uint8Array ? `\\x${Buffer.from(value).toString('hex')}` : 'not bytes'
      break
    case 114: // json
    case 3802: // jsonb
      return sameJson(value, JSON.parse(text)) ? true : 'different json'
    case 1114: // timestamp
      return timestampMatches(value, text, false)
    case 1184: // timestamptz
      return timestampMatches(value, text, true)
    case 1186: // interval
      printed = typeof value === 'number' ? infinityText(value) : printInterval(value as Interval, styles)
      break
    default:
      // text-like types, numeric, uuid, date, "char", and every type edgepg leaves as text
      printed = typeof value === 'string' ? value : `a ${typeof value}`
  }
  return printed === text ? true : printed
}

function infinityText(value: number): string {
  return value === Number.POSITIVE_INFINITY
    ? 'infinity'
    : value === Number.NEGATIVE_INFINITY
      ? '-infinity'
      : `${value}`
}

function sameJson(a: unknown, b: unknown): boolean {
  if (Array.isArray(a))
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]))
  if (a !== null && typeof a === 'object') {
    if (b === null || typeof b !== 'object' || Array.isArray(b)) return false
    const keys = Object.keys(a)
    return (
      keys.length === Object.keys(b).length && keys.every((k) => sameJson((a as never)[k], (b as never)[k]))
    )
  }
  return Object.is(a, b)
}

// ---- timestamps -------------------------------------------------------------------------------------------

const TIMESTAMP = /^(\d{4,})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d+))?([+-]\d\d(?::\d\d){0,2})?( BC)?$/

/**
 * A Date keeps milliseconds: the server's text with its fraction cut to three digits is what the Date must
 * print as, in the server's offset for that instant (the offset is the server's choice; the instant is ours).
 */
function timestampMatches(value: unknown, text: string, hasZone: boolean): true | string {
  if (text === 'infinity' || text === '-infinity')
    return infinityText(value as number) === text ? true : 'not ±Infinity'
  if (!(value instanceof Date)) return `a ${typeof value}`
  const m = TIMESTAMP.exec(text)
  if (!m) throw new Error(`the oracle cannot read the server's timestamp ${JSON.stringify(text)}`)
  const fraction = (m[7] ?? '').slice(0, 3).replace(/0+$/, '')
  const offset = m[8] ?? ''
  if (hasZone === (offset === '')) throw new Error(`unexpected offset in ${JSON.stringify(text)}`)
  const canonical = `${m[1]}-${m[2]}-${m[3]} ${m[4]}:${m[5]}:${m[6]}${fraction ? `.${fraction}` : ''}${offset}${m[9] ?? ''}`
  const printed = printTimestamp(value.getTime() + offsetSeconds(offset) * 1000, offset)
  return printed === canonical ? true : printed
}

function offsetSeconds(offset: string): number {
  if (offset === '') return 0
  const [h, m = '0', s = '0'] = offset.slice(1).split(':')
  const seconds = Number(h) * 3600 + Number(m) * 60 + Number(s)
  return offset[0] === '-' ? -seconds : seconds
}

/** PostgreSQL's ISO text of the wall time `ms` (already shifted by `offset`), with milliseconds trimmed. */
function printTimestamp(ms: number, offset: string): string {
  const days = Math.floor(ms / 86_400_000)
  const inDay = ms - days * 86_400_000
  const { year, month, day } = civilFromDays(days)
  const pad = (n: number, width = 2) => `${n}`.padStart(width, '0')
  const millis = inDay % 1000
  const fraction = millis === 0 ? '' : `.${pad(millis, 3).replace(/0+$/, '')}`
  const date = `${pad(year > 0 ? year : 1 - year, 4)}-${pad(month)}-${pad(day)}`
  const time = `${pad(Math.floor(inDay / 3_600_000))}:${pad(Math.floor(inDay / 60_000) % 60)}:${pad(Math.floor(inDay / 1000) % 60)}`
  return `${date} ${time}${fraction}${offset}${year > 0 ? '' : ' BC'}`
}

/** The proleptic Gregorian date `days` after 1970-01-01 (H. Hinnant's civil_from_days; year 0 is 1 BC). */
function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468
  const era = Math.floor(z / 146097)
  const dayOfEra = z - era * 146097
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) - Math.floor(dayOfEra / 146096)) /
      365,
  )
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100))
  const mp = Math.floor((5 * dayOfYear + 2) / 153)
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1
  const month = mp < 10 ? mp + 3 : mp - 9
  return { year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day }
}

// ---- intervals (EncodeInterval, datetime.c) ---------------------------------------------------------------

interface Interval {
  months: number
  days: number
  microseconds: number
}

/** The interval as PostgreSQL prints it in `style`; exact for microseconds within ±2^53. */
export function printInterval(value: Interval, styles: Styles): string {
  if (typeof value !== 'object' || value === null) return `a ${typeof value}`
  const year = Math.trunc(value.months / 12)
  const mon = value.months % 12 || 0
  const mday = value.days
  let time = BigInt(value.microseconds)
  const hour = time / 3_600_000_000n
  time -= hour * 3_600_000_000n
  const min = Number(time / 60_000_000n)
  time -= BigInt(min) * 60_000_000n
  const sec = Number(time / 1_000_000n)
  const fsec = Number(time - BigInt(sec) * 1_000_000n)
  const isTimeZero = hour === 0n && min === 0 && sec === 0 && fsec === 0
  const abs = (n: bigint) => (n < 0n ? -n : n)
  switch (styles.intervalStyle) {
    case 'postgres': {
      let out = ''
      let isZero = true
      let isBefore = false
      for (const [n, unit] of [
        [year, 'year'],
        [mon, 'mon'],
        [mday, 'day'],
      ] as const) {
        if (n === 0) continue
        out += `${isZero ? '' : ' '}${isBefore && n > 0 ? '+' : ''}${n} ${unit}${n !== 1 ? 's' : ''}`
        isBefore = n < 0
        isZero = false
      }
      if (isZero || !isTimeZero) {
        const minus = hour < 0n || min < 0 || sec < 0 || fsec < 0
        out += `${isZero ? '' : ' '}${minus ? '-' : isBefore ? '+' : ''}${`${abs(hour)}`.padStart(2, '0')}:${pad2(Math.abs(min))}:${seconds(sec, fsec, true)}`
      }
      return out
    }
    case 'postgres_verbose': {
      let out = '@'
      let isZero = true
      let isBefore = false
      for (const [raw, unit] of [
        [BigInt(year), 'year'],
        [BigInt(mon), 'mon'],
        [BigInt(mday), 'day'],
        [hour, 'hour'],
        [BigInt(min), 'min'],
      ] as const) {
        let n = raw
        if (n === 0n) continue
        if (isZero) {
          isBefore = n < 0n
          n = abs(n)
        } else if (isBefore) n = -n
        out += ` ${n} ${unit}${n === 1n ? '' : 's'}`
        isZero = false
      }
      if (sec !== 0 || fsec !== 0) {
        out += ' '
        if (sec < 0 || (sec === 0 && fsec < 0)) {
          if (isZero) isBefore = true
          else if (!isBefore) out += '-'
        } else if (isBefore) out += '-'
        out += `${seconds(sec, fsec, false)} sec${Math.abs(sec) !== 1 || fsec !== 0 ? 's' : ''}`
        isZero = false
      }
      if (isZero) out += ' 0'
      if (isBefore) out += ' ago'
      return out
    }
    case 'sql_standard': {
      const hasNegative = year < 0 || mon < 0 || mday < 0 || hour < 0n || min < 0 || sec < 0 || fsec < 0
      const hasPositive = year > 0 || mon > 0 || mday > 0 || hour > 0n || min > 0 || sec > 0 || fsec > 0
      const hasYearMonth = year !== 0 || mon !== 0
      const hasDayTime = mday !== 0 || !isTimeZero
      const isStandard = !(hasNegative && hasPositive) && !(hasYearMonth && hasDayTime)
      let [y, mo, d, h, mi, s, f] = [year, mon, mday, hour, min, sec, fsec]
      let out = ''
      if (hasNegative && isStandard) {
        out = '-'
        ;[y, mo, d, h, mi, s, f] = [-y, -mo, -d, -h, -mi, -s, -f]
      }
      const clock = (hh: bigint) => `${hh}:${pad2(Math.abs(mi))}:${seconds(s, f, true)}`
      if (!hasNegative && !hasPositive) return '0'
      if (!isStandard) {
        const yearSign = y < 0 || mo < 0 ? '-' : '+'
        const daySign = d < 0 ? '-' : '+'
        const secSign = h < 0n || mi < 0 || s < 0 || f < 0 ? '-' : '+'
        return `${yearSign}${Math.abs(y)}-${Math.abs(mo)} ${daySign}${Math.abs(d)} ${secSign}${clock(abs(h))}`
      }
      if (hasYearMonth) return `${out}${y}-${mo}`
      if (d !== 0) return `${out}${d} ${clock(h)}`
      return `${out}${clock(h)}`
    }
    case 'iso_8601': {
      if (year === 0 && mon === 0 && mday === 0 && isTimeZero) return 'PT0S'
      let out = 'P'
      const part = (n: number | bigint, unit: string) => (n === 0 || n === 0n ? '' : `${n}${unit}`)
      out += part(year, 'Y') + part(mon, 'M') + part(mday, 'D')
      if (!isTimeZero) out += 'T'
      out += part(hour, 'H') + part(min, 'M')
      if (sec !== 0 || fsec !== 0) out += `${sec < 0 || fsec < 0 ? '-' : ''}${seconds(sec, fsec, false)}S`
      return out
    }
  }
}

function pad2(n: number): string {
  return `${n}`.padStart(2, '0')
}

/** AppendSeconds: |sec| (two digits when `fill`), then `.ffffff` without trailing zeros. */
function seconds(sec: number, fsec: number, fill: boolean): string {
  const whole = fill ? pad2(Math.abs(sec)) : `${Math.abs(sec)}`
  if (fsec === 0) return whole
  return `${whole}.${`${Math.abs(fsec)}`.padStart(6, '0').replace(/0+$/, '')}`
}

// ---- arrays (array_out) -----------------------------------------------------------------------------------

type ArrayText = (string | null | ArrayText)[]

/** Splits array_out's text into nested element texts (NULL → null); lower bounds (`[0:1]=`) are dropped. */
export function parseArrayText(text: string, delimiter: string): ArrayText {
  let i = 0
  if (text[0] === '[') i = text.indexOf('=') + 1
  const read = (): ArrayText => {
    if (text[i] !== '{') throw new Error(`the oracle expected { at ${i} of ${JSON.stringify(text)}`)
    i++
    const out: ArrayText = []
    if (text[i] === '}') {
      i++
      return out
    }
    for (;;) {
      if (text[i] === '{') out.push(read())
      else if (text[i] === '"') {
        let item = ''
        for (i++; text[i] !== '"'; i++) item += text[i] === '\\' ? text[++i] : text[i]
        i++
        out.push(item)
      } else {
        let item = ''
        while (text[i] !== delimiter && text[i] !== '}') item += text[i++]
        out.push(item === 'NULL' ? null : item)
      }
      if (text[i] === '}') {
        i++
        return out
      }
      if (text[i] !== delimiter)
        throw new Error(`the oracle expected ${delimiter} at ${i} of ${JSON.stringify(text)}`)
      i++
    }
  }
  const result = read()
  if (i !== text.length) throw new Error(`the oracle found text after the array: ${JSON.stringify(text)}`)
  return result
}

// ---- comparing paths --------------------------------------------------------------------------------------

/** Strict equality of decoded values: -0 is not 0, NaN is NaN, Dates by instant, bytes by content. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Date) return b instanceof Date && Object.is(a.getTime(), b.getTime())
  if (a instanceof Uint8Array) return b instanceof Uint8Array && Buffer.from(a).equals(Buffer.from(b))
  if (Array.isArray(a))
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameValue(x, b[i]))
  if (a !== null && typeof a === 'object') {
    if (b === null || typeof b !== 'object') return false
    const keys = Object.keys(a)
    return (
      keys.length === Object.keys(b).length && keys.every((k) => sameValue((a as never)[k], (b as never)[k]))
    )
  }
  return Object.is(a, b)
}

/** A short description of a decoded value for failure messages. */
export function show(value: unknown): string {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString()
  if (value instanceof Uint8Array) return `bytes ${Buffer.from(value).toString('hex').slice(0, 40)}`
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value)
  const json = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))
  return json === undefined ? String(value) : json.length > 120 ? `${json.slice(0, 120)}…` : json
}
