/**
 * Decoders for scalar values in binary format (format code 1): the layouts of PostgreSQL's `*send` functions,
 * all big-endian. numeric, date/time and interval live in their own files.
 */
import { encodeError } from '../errors.ts'
import { decodeUtf8 } from '../utf8.ts'
import {
  copyBytes,
  expectLength,
  HEX,
  readBigInt64,
  readFloat32,
  readFloat64,
  readInt16,
  readInt32,
  readUint32,
} from './bytes.ts'
import { textJsonFast } from './json.ts'

export function binaryBool(bytes: Uint8Array, start: number, end: number): boolean {
  expectLength('bool', 1, start, end)
  return bytes[start] !== 0
}

export function binaryInt2(bytes: Uint8Array, start: number, end: number): number {
  expectLength('int2', 2, start, end)
  return readInt16(bytes, start)
}

export function binaryInt4(bytes: Uint8Array, start: number, end: number): number {
  expectLength('int4', 4, start, end)
  return readInt32(bytes, start)
}

/** oid is unsigned: 0 … 4294967295. */
export function binaryOid(bytes: Uint8Array, start: number, end: number): number {
  expectLength('oid', 4, start, end)
  return readUint32(bytes, start)
}

export function binaryInt8(bytes: Uint8Array, start: number, end: number): bigint {
  expectLength('int8', 8, start, end)
  return readBigInt64(bytes, start)
}

export function binaryFloat8(bytes: Uint8Array, start: number, end: number): number {
  expectLength('float8', 8, start, end)
  return readFloat64(bytes, start)
}

/**
 * float4, as the shortest decimal that reads back to the same float4: the number PostgreSQL prints in text
 * (`1.1`, not the double 1.100000023841858), so both formats give the same value.
 */
export function binaryFloat4(bytes: Uint8Array, start: number, end: number): number {
  expectLength('float4', 4, start, end)
  const value = readFloat32(bytes, start)
  // Integers below 2^24 print as themselves; larger ones may not (3.4028235e+38 is not the exact float).
  if ((Number.isInteger(value) && Math.abs(value) < 16777216) || !Number.isFinite(value)) return value
  for (let precision = 1; precision < 9; precision++) {
    const candidate = Number(value.toPrecision(precision))
    if (Math.fround(candidate) === value) return candidate
  }
  return Number(value.toPrecision(9))
}

/** text, varchar, bpchar, name, xml, unknown: the text itself. */
export function binaryString(bytes: Uint8Array, start: number, end: number): string {
  return decodeUtf8(bytes, start, end)
}

/**
 * "char": one byte, printed as charout prints it in text, so both formats give the same string: an ASCII byte
 * as itself, 0 as the empty string, and a byte ≥ 0x80 (half of a UTF-8 character, never a character by
 * itself) as a backslash and three octal digits, `\303`.
 */
export function binaryChar(bytes: Uint8Array, start: number, end: number): string {
  if (end - start !== 1) throw encodeError(`expected 1 byte for binary "char", found ${end - start}`)
  const c = bytes[start]!
  if (c === 0) return ''
  if (c < 0x80) return String.fromCharCode(c)
  return `\\${c.toString(8)}`
}

/** bytea: the raw bytes, copied (the message buffer they arrive in is reused). */
export function binaryBytea(bytes: Uint8Array, start: number, end: number): Uint8Array {
  return copyBytes(bytes, start, end)
}

/** json: the text itself. */
export const binaryJson = textJsonFast

/** jsonb: a version byte (1), then the text. */
export function binaryJsonb(bytes: Uint8Array, start: number, end: number): unknown {
  if (end === start || bytes[start] !== 1) {
    throw encodeError(
      `expected jsonb version 1 in binary format, found ${end === start ? 'nothing' : bytes[start]}`,
    )
  }
  return textJsonFast(bytes, start + 1, end)
}

/** uuid: 16 bytes → `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, lower case. */
export function binaryUuid(bytes: Uint8Array, start: number, end: number): string {
  expectLength('uuid', 16, start, end)
  let out = ''
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) out += '-'
    out += HEX[bytes[start + i]!]
  }
  return out
}
