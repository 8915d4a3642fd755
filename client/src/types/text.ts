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
  throw badText('a bool', bytes, start, end)
}

/**
 * `[-]digits` with at most `maxDigits` digits as a number (exact up to 2^53), or the `badText` error of `type`.
 * `start < end` in the sign test: the byte at `end` belongs to whatever follows the value (the next column).
 */
function readInteger(bytes: Uint8Array, start: number, end: number, type: string, maxDigits: number): number {
  let i = start
  const isNegative = bytes[i] === 0x2d && start < end // -
  if (isNegative) i++
  if (i === end || end - i > maxDigits) throw badText(type, bytes, start, end)
  let n = 0
  for (; i < end; i++) {
    const digit = bytes[i]! - 48
    if (digit < 0 || digit > 9) throw badText(type, bytes, start, end)
    n = n * 10 + digit
  }
  return isNegative ? -n : n
}

/** int2, int4 and oid: at most 10 digits, so the result is exact. */
export function textInt(bytes: Uint8Array, start: number, end: number): number {
  return readInteger(bytes, start, end, 'an integer', 10)
}

/**
 * int8 → bigint. The digits are summed as a double, which is exact while it stays a safe integer (every
 * partial sum is smaller); past 2^53 the checked text goes to `BigInt` as it is.
 */
export function textInt8(bytes: Uint8Array, start: number, end: number): bigint {
  const n = readInteger(bytes, start, end, 'a bigint', 19)
  return BigInt(Number.isSafeInteger(n) ? n : decodeUtf8(bytes, start, end))
}

/**
 * float4 and float8. PostgreSQL prints the shortest text that reads back to the same float (`1.1` for the
 * float4 nearest 1.1), and `NaN`, `Infinity`, `-Infinity`: `Number` reads each of them (and rounds correctly).
 */
export function textFloat(bytes: Uint8Array, start: number, end: number): number {
  const text = decodeUtf8(bytes, start, end)
  const n = Number(text)
  if (text.length === 0 || (Number.isNaN(n) && text !== 'NaN')) throw badText('a float', bytes, start, end)
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
  if ((end - start) % 2 !== 0) throw badText('a bytea', bytes, start - 2, end)
  const out = new Uint8Array((end - start) / 2)
  for (let i = start, o = 0; i < end; i += 2, o++) {
    const high = hexValue(bytes[i]!)
    const low = hexValue(bytes[i + 1]!)
    if (high < 0 || low < 0) throw badText('a bytea', bytes, start - 2, end)
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
      throw badText('a bytea', bytes, start, end)
    }
  }
  return out.slice(0, o)
}

function isOctal(c: number): boolean {
  return c >= 48 && c <= 55
}
