/**
 * Decoders for scalar values in text format (format code 0), reading the bytes PostgreSQL's output functions
 * print. Numbers and booleans are parsed from the bytes directly, without building a string first.
 */
import { encodeError } from '../errors.ts'
import { decodeUtf8 } from '../utf8.ts'
import { badText, hexValue } from './bytes.ts'

/** text, varchar, bpchar, name, "char", xml, numeric, uuid, date, and any type edgepg does not know. */
export function textString(bytes: Uint8Array, start: number, end: number): string {
  return decodeUtf8(bytes, start, end)
}

/** bool: PostgreSQL prints `t` or `f`. */
export function textBool(bytes: Uint8Array, start: number, end: number): boolean {
  const c = bytes[start]
  if (end - start === 1) {
    if (c === 0x74) return true // t
    if (c === 0x66) return false // f
  }
  throw badText('bool', bytes, start, end)
}

/** int2, int4 and oid: at most 10 digits, so the result is exact. */
export function textInt(bytes: Uint8Array, start: number, end: number): number {
  let i = start
  // `start < end`: the byte at `end` belongs to whatever follows the value (the next column of the row)
  const isNegative = bytes[i] === 0x2d && start < end // -
  if (isNegative) i++
  if (i === end || end - i > 10) throw badText('integer', bytes, start, end)
  let n = 0
  for (; i < end; i++) {
    const digit = bytes[i]! - 48
    if (digit < 0 || digit > 9) throw badText('integer', bytes, start, end)
    n = n * 10 + digit
  }
  return isNegative ? -n : n
}

/** int8 → bigint. Up to 15 digits are summed as a double (exact) and converted once; longer ones in two parts. */
export function textInt8(bytes: Uint8Array, start: number, end: number): bigint {
  let i = start
  const isNegative = bytes[i] === 0x2d && start < end // -
  if (isNegative) i++
  const digits = end - i
  if (digits === 0 || digits > 19) throw badText('bigint', bytes, start, end)
  let high = 0
  const split = end - 15
  for (; i < split; i++) {
    const digit = bytes[i]! - 48
    if (digit < 0 || digit > 9) throw badText('bigint', bytes, start, end)
    high = high * 10 + digit
  }
  let low = 0
  for (; i < end; i++) {
    const digit = bytes[i]! - 48
    if (digit < 0 || digit > 9) throw badText('bigint', bytes, start, end)
    low = low * 10 + digit
  }
  if (high === 0) return BigInt(isNegative ? -low : low)
  const value = BigInt(high) * TEN_TO_15 + BigInt(low)
  return isNegative ? -value : value
}

const TEN_TO_15 = 10n ** 15n

/** 10^0 … 10^22: the powers of ten a double holds exactly. */
const POWERS_OF_10 = Array.from({ length: 23 }, (_, i) => 10 ** i)
const MAX_EXACT_MANTISSA = 2 ** 53

/**
 * float4 and float8. PostgreSQL prints the shortest text that reads back to the same float (`1.1` for the
 * float4 nearest 1.1), and `NaN`, `Infinity`, `-Infinity`. Values with at most 15–16 significant digits and a
 * small exponent are read from the bytes (Clinger's fast path: an exact integer times or divided by an exact
 * power of ten is correctly rounded); the others go through `Number`.
 */
export function textFloat(bytes: Uint8Array, start: number, end: number): number {
  let i = start
  const isNegative = bytes[i] === 0x2d && start < end // -
  if (isNegative) i++
  let mantissa = 0
  let digits = 0
  let exponent = 0
  for (let digit = bytes[i]! - 48; digit >= 0 && digit <= 9 && i < end; digit = bytes[++i]! - 48) {
    mantissa = mantissa * 10 + digit
    digits++
  }
  if (bytes[i] === 0x2e && i < end) {
    for (let digit = bytes[++i]! - 48; digit >= 0 && digit <= 9 && i < end; digit = bytes[++i]! - 48) {
      mantissa = mantissa * 10 + digit
      digits++
      exponent--
    }
  }
  if ((bytes[i]! | 0x20) === 0x65 && i < end) {
    // e±NN
    const sign = bytes[++i]
    if (sign === 0x2d || sign === 0x2b) i++
    let power = 0
    const powerStart = i
    for (let digit = bytes[i]! - 48; digit >= 0 && digit <= 9 && i < end; digit = bytes[++i]! - 48) {
      power = power * 10 + digit
    }
    if (i === powerStart) digits = 0
    exponent += sign === 0x2d ? -power : power
  }
  // `<`, not `<=`: digits worth more than 2^53 may have rounded down to exactly 2^53 while being summed
  // (9007199254740993 does), and then the fast path would scale an inexact mantissa.
  if (digits > 0 && i === end && mantissa < MAX_EXACT_MANTISSA && exponent >= -22 && exponent <= 22) {
    const value = exponent < 0 ? mantissa / POWERS_OF_10[-exponent]! : mantissa * POWERS_OF_10[exponent]!
    return isNegative ? -value : value
  }
  return slowFloat(bytes, start, end)
}

/** NaN, ±Infinity, and numbers with too many digits or a large exponent. */
function slowFloat(bytes: Uint8Array, start: number, end: number): number {
  const text = decodeUtf8(bytes, start, end)
  const n = Number(text)
  if (text.length === 0 || (Number.isNaN(n) && text !== 'NaN')) throw badText('float', bytes, start, end)
  return n
}

/** json and jsonb. */
export function textJson(bytes: Uint8Array, start: number, end: number): unknown {
  const text = decodeUtf8(bytes, start, end)
  try {
    return JSON.parse(text)
  } catch (cause) {
    throw encodeError(`expected json, found ${JSON.stringify(text.slice(0, 100))}`, cause)
  }
}

/** bytea in the hex format (`\x0a0b`, the default since 9.0) or the legacy escape format (`a\\b\001`). */
export function textBytea(bytes: Uint8Array, start: number, end: number): Uint8Array {
  if (end - start >= 2 && bytes[start] === 0x5c && bytes[start + 1] === 0x78)
    return hexBytea(bytes, start + 2, end)
  return escapeBytea(bytes, start, end)
}

function hexBytea(bytes: Uint8Array, start: number, end: number): Uint8Array {
  if ((end - start) % 2 !== 0) throw badText('bytea', bytes, start - 2, end)
  const out = new Uint8Array((end - start) / 2)
  for (let i = start, o = 0; i < end; i += 2, o++) {
    const high = hexValue(bytes[i]!)
    const low = hexValue(bytes[i + 1]!)
    if (high < 0 || low < 0) throw badText('bytea', bytes, start - 2, end)
    out[o] = (high << 4) | low
  }
  return out
}

function escapeBytea(bytes: Uint8Array, start: number, end: number): Uint8Array {
  // The output is never longer than the input: `\\` → one byte, `\ooo` → one byte, others as they are.
  const out = new Uint8Array(end - start)
  let o = 0
  for (let i = start; i < end; i++) {
    const c = bytes[i]!
    if (c !== 0x5c) {
      out[o++] = c
    } else if (bytes[i + 1] === 0x5c && i + 1 < end) {
      out[o++] = 0x5c
      i++
    } else if (i + 3 < end && isOctal(bytes[i + 1]!) && isOctal(bytes[i + 2]!) && isOctal(bytes[i + 3]!)) {
      out[o++] = ((bytes[i + 1]! - 48) << 6) | ((bytes[i + 2]! - 48) << 3) | (bytes[i + 3]! - 48)
      i += 3
    } else {
      throw badText('bytea', bytes, start, end)
    }
  }
  return out.slice(0, o)
}

function isOctal(c: number): boolean {
  return c >= 48 && c <= 55
}
