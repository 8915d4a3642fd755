/**
 * Arrays in both formats, decoded to nested JS arrays (lower bounds are dropped, NULL elements become null).
 *
 * Text (array_out): `{1,2,NULL,"a\"b",""}`, `{{1,2},{3,4}}`, with a `[0:1]={…}` prefix when a lower bound is
 * not 1. An element is quoted when it is empty, is `NULL` in any case, or holds the delimiter, a quote, a
 * backslash, a brace or white space; inside quotes `\` escapes the next byte. The delimiter is `,` for every
 * built-in type but box (`;`).
 *
 * Binary (array_send): int32 ndim, int32 has-nulls flag, uint32 element OID, ndim × (int32 length,
 * int32 lower bound), then each element as an int32 length (−1 for NULL) and that many bytes.
 */
import { encodeError } from '../errors.ts'
import { badText, type RangeDecoder, readInt32, readUint32 } from './bytes.ts'

const OPEN = 0x7b // {
const CLOSE = 0x7d // }
const QUOTE = 0x22 // "
const BACKSLASH = 0x5c // \

/** Parses a text-format array; `element` decodes each non-NULL element's bytes. */
export function parseTextArray(
  bytes: Uint8Array,
  start: number,
  end: number,
  element: RangeDecoder,
  delimiter: number,
): unknown[] {
  let i = start
  if (bytes[i] === 0x5b) {
    // [lo:hi][lo:hi]= : the bounds are dropped, as JS arrays start at 0.
    while (i < end && bytes[i] !== 0x3d) i++
    i++
  }
  if (bytes[i] !== OPEN || i >= end) throw badText('an array', bytes, start, end)
  i++
  const outer: unknown[][] = []
  let current: unknown[] = []
  while (i < end) {
    const c = bytes[i]!
    if (c === delimiter) {
      i++
    } else if (c === QUOTE) {
      let j = i + 1
      let hasEscape = false
      while (j < end) {
        const d = bytes[j]!
        if (d === QUOTE) break
        if (d === BACKSLASH) {
          hasEscape = true
          j++
        }
        j++
      }
      if (j >= end) throw badText('an array', bytes, start, end)
      current.push(hasEscape ? decodeEscaped(bytes, i + 1, j, element) : element(bytes, i + 1, j))
      i = j + 1
    } else if (c === OPEN) {
      const inner: unknown[] = []
      current.push(inner)
      outer.push(current)
      current = inner
      i++
    } else if (c === CLOSE) {
      i++
      const parent = outer.pop()
      if (parent === undefined) {
        if (i !== end) throw badText('an array', bytes, start, end)
        return current
      }
      current = parent
    } else if (c === 0x20) {
      i++ // white space around elements is allowed in input (never printed by the server)
    } else {
      let j = i + 1
      while (j < end) {
        const d = bytes[j]!
        if (d === delimiter || d === CLOSE) break
        j++
      }
      current.push(isNull(bytes, i, j) ? null : element(bytes, i, j))
      i = j
    }
  }
  throw badText('an array', bytes, start, end)
}

/** An unquoted NULL (array_in accepts any case; array_out prints upper case). */
function isNull(bytes: Uint8Array, start: number, end: number): boolean {
  return (
    end - start === 4 &&
    (bytes[start]! | 0x20) === 0x6e && // n
    (bytes[start + 1]! | 0x20) === 0x75 && // u
    (bytes[start + 2]! | 0x20) === 0x6c && // l
    (bytes[start + 3]! | 0x20) === 0x6c // l
  )
}

function decodeEscaped(bytes: Uint8Array, start: number, end: number, element: RangeDecoder): unknown {
  const unescaped = new Uint8Array(end - start)
  let length = 0
  for (let i = start; i < end; i++) {
    let c = bytes[i]!
    if (c === BACKSLASH) c = bytes[++i]!
    unescaped[length++] = c
  }
  return element(unescaped, 0, length)
}

/** Decodes a binary-format array whose elements are of type `elementOid`. */
export function decodeBinaryArray(
  bytes: Uint8Array,
  start: number,
  end: number,
  elementOid: number,
  element: RangeDecoder,
): unknown[] {
  if (end - start < 12)
    throw encodeError(`expected at least 12 bytes for a binary array, found ${end - start}`)
  const ndim = readInt32(bytes, start)
  if (ndim === 0) return []
  const found = readUint32(bytes, start + 8)
  if (found !== elementOid)
    throw encodeError(`expected array elements of type ${elementOid}, found type ${found}`)
  if (ndim < 0 || ndim > 6 || end - start < 12 + ndim * 8) {
    throw encodeError(`expected a binary array of 1 to 6 dimensions, found ${ndim}`)
  }
  const lengths: number[] = []
  let count = 1
  for (let d = 0; d < ndim; d++) {
    const length = readInt32(bytes, start + 12 + d * 8)
    lengths.push(length)
    count *= length
  }
  const cursor = { at: start + 12 + ndim * 8 }
  // Checked before building anything: dimensions alone could otherwise ask for 2^31 nested arrays. Each
  // element takes at least its int32 length; PostgreSQL sends an empty array as 0 dimensions.
  const room = (end - cursor.at) >> 2
  if (!(count > 0 && count <= room)) {
    throw encodeError(
      `expected binary array dimensions of 1 to ${room} elements, found ${lengths.join(' × ')}`,
    )
  }
  const result = readDimension(bytes, end, lengths, 0, element, cursor)
  if (cursor.at !== end)
    throw encodeError(
      `expected a binary array to end at its last element, found ${end - cursor.at} more bytes`,
    )
  return result
}

function readDimension(
  bytes: Uint8Array,
  end: number,
  lengths: number[],
  dimension: number,
  element: RangeDecoder,
  cursor: { at: number },
): unknown[] {
  const length = lengths[dimension]!
  const out: unknown[] = []
  if (dimension < lengths.length - 1) {
    for (let k = 0; k < length; k++)
      out.push(readDimension(bytes, end, lengths, dimension + 1, element, cursor))
    return out
  }
  let at = cursor.at
  for (let k = 0; k < length; k++) {
    if (end - at < 4) throw encodeError('expected another binary array element, found the end of the value')
    const size = readInt32(bytes, at)
    at += 4
    if (size === -1) {
      out.push(null)
    } else {
      if (size < 0 || end - at < size)
        throw encodeError(`expected ${size} bytes for an array element, found ${end - at}`)
      out.push(element(bytes, at, at + size))
      at += size
    }
  }
  cursor.at = at
  return out
}
