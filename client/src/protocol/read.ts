/**
 * Big-endian reads and bounds checks shared by the message decoders. Every decoder works on `bytes[start, end)`
 * so a message can be decoded where it lies in the received chunk, without a copy.
 */
import { type PgError, protocolError } from '../errors.ts'
import { decodeUtf8 } from '../utf8.ts'

/** Reads a signed 32-bit integer. The caller has checked that 4 bytes are there. */
export function readInt32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!
}

/** Reads an unsigned 32-bit integer (OIDs). */
export function readUint32(bytes: Uint8Array, at: number): number {
  return readInt32(bytes, at) >>> 0
}

/** Reads an unsigned 16-bit integer (counts). */
export function readUint16(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 8) | bytes[at + 1]!
}

/** Reads a signed 16-bit integer. */
export function readInt16(bytes: Uint8Array, at: number): number {
  return (readUint16(bytes, at) << 16) >> 16
}

/** Throws unless `count` bytes remain before `end`. */
export function need(name: string, at: number, count: number, end: number): void {
  if (at + count > end) throw truncated(name, at, count, end)
}

/** The error for a message body that ends before its content does. */
export function truncated(name: string, at: number, count: number, end: number): PgError {
  const left = Math.max(0, end - at)
  return protocolError(`${name} message is truncated: expected ${count} more bytes, found ${left}`)
}

/** Throws unless the content ended exactly at the end of the message. */
export function expectEnd(name: string, at: number, end: number): void {
  if (at !== end) {
    throw protocolError(`${name} message has ${end - at} trailing bytes after its content: expected none`)
  }
}

/** Index of the NUL that ends the C string starting at `at`; throws when there is none before `end`. */
export function cstringEnd(name: string, bytes: Uint8Array, at: number, end: number): number {
  let i = at
  while (i < end && bytes[i] !== 0) i++
  if (i === end) throw protocolError(`${name} message has a string without its NUL terminator`)
  return i
}

/** Decodes the C string starting at `at` whose NUL is at `nul`. */
export function readString(bytes: Uint8Array, at: number, nul: number): string {
  return decodeUtf8(bytes, at, nul)
}
