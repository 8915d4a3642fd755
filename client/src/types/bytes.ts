/**
 * Byte-level helpers shared by the decoders. Values arrive as views into a larger message buffer, so every
 * reader takes an absolute index into `bytes` and nothing assumes `byteOffset` 0.
 */
import { encodeError } from '../errors.ts'
import { readInt32, readUint32 } from '../protocol/read.ts'
import { decodeUtf8 } from '../utf8.ts'

/**
 * A decoder for the value in `bytes[start, end)`. Arrays call element decoders with ranges so no subarray is
 * allocated per element; columns call them with the whole view.
 */
export type RangeDecoder = (bytes: Uint8Array, start: number, end: number) => unknown

// The big-endian readers are the protocol decoders' own.
export { readInt16, readInt32, readUint16, readUint32 } from '../protocol/read.ts'

/** 2^32, to combine the two halves of an int64. */
export const TWO_32 = 4294967296

/** An int64 as a number: exact within ±2^53, the nearest double beyond. */
export function readInt64AsNumber(bytes: Uint8Array, at: number): number {
  return readInt32(bytes, at) * TWO_32 + readUint32(bytes, at + 4)
}

// Floats and bigints go through one scratch buffer: copying 4 or 8 bytes is cheaper than a DataView per value.
const scratchBuffer = /* @__PURE__ */ new ArrayBuffer(8)
const scratch = /* @__PURE__ */ new Uint8Array(scratchBuffer)
const scratchView = /* @__PURE__ */ new DataView(scratchBuffer)

function fill(bytes: Uint8Array, at: number, length: number): void {
  for (let i = 0; i < length; i++) scratch[i] = bytes[at + i]!
}

export function readFloat32(bytes: Uint8Array, at: number): number {
  fill(bytes, at, 4)
  return scratchView.getFloat32(0)
}

export function readFloat64(bytes: Uint8Array, at: number): number {
  fill(bytes, at, 8)
  return scratchView.getFloat64(0)
}

export function readBigInt64(bytes: Uint8Array, at: number): bigint {
  const high = readInt32(bytes, at)
  // Most int8 values fit a double exactly; BigInt(number) is much cheaper than reading a BigInt64.
  if (high >= -0x200000 && high < 0x200000) return BigInt(high * TWO_32 + readUint32(bytes, at + 4))
  fill(bytes, at, 8)
  return scratchView.getBigInt64(0)
}

/**
 * A copy of `bytes[start, end)` as a plain `Uint8Array`. Not `bytes.slice`: the bytes may be a Node `Buffer` (a
 * chunk as the socket gave it), whose `slice` returns a view that shares the chunk's memory.
 */
export function copyBytes(bytes: Uint8Array, start: number, end: number): Uint8Array {
  const length = end - start
  const out = new Uint8Array(length)
  // a loop beats a view plus `set` for short values
  if (length <= 64) for (let i = 0; i < length; i++) out[i] = bytes[start + i]!
  else out.set(new Uint8Array(bytes.buffer, bytes.byteOffset + start, length))
  return out
}

/** Checks that a fixed-size binary value has the size its type demands. */
export function expectLength(type: string, expected: number, start: number, end: number): void {
  if (end - start !== expected) {
    throw encodeError(`expected ${expected} bytes for binary ${type}, found ${end - start}`)
  }
}

/** The error for a text value that is not in the form PostgreSQL prints; `type` with its article (`a bool`). */
export function badText(type: string, bytes: Uint8Array, start: number, end: number): Error {
  const text = decodeUtf8(bytes, start, Math.min(end, start + 100))
  return encodeError(`expected ${type} in text format, found ${JSON.stringify(text)}`)
}

/** '00'…'ff', for hex output of bytea and uuid. */
export const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/** Lower-case hex digits of `bytes`. */
export function hex(bytes: Uint8Array): string {
  let out = ''
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]!]
  return out
}

/** Two ASCII digits at `at` as a number, or NaN. */
export function twoDigits(bytes: Uint8Array, at: number): number {
  const high = bytes[at]! - 48
  const low = bytes[at + 1]! - 48
  return high >= 0 && high <= 9 && low >= 0 && low <= 9 ? high * 10 + low : Number.NaN
}

/** Value of an ASCII hex digit, or -1. */
export function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48 // 0-9
  const lower = c | 0x20
  if (lower >= 97 && lower <= 102) return lower - 87 // a-f
  return -1
}
