/**
 * json and jsonb text read from the bytes, without decoding the whole value to a string first and handing it to
 * `JSON.parse`: for the small objects most json columns hold, that decode and parse cost more than all the other
 * columns of a row. The reader takes a common subset: ASCII structure, numbers, `true`/`false`/`null`, nesting,
 * strings (those with escapes or non-ASCII characters through `JSON.parse` of the string
 * alone). Outside it, valid or not (a `__proto__` key, a control character in a string, a syntax error), it
 * throws and the caller parses the whole text with `JSON.parse` as before: values and errors are `JSON.parse`'s
 * in every case. The caller falls back on any error, which covers frozen intrinsics too (there an assignment to
 * a key named like a frozen `Object.prototype` property, `toString`, throws a `TypeError`).
 * One difference is left: an index accessor someone defined on `Array.prototype` is called by the reader's
 * `push`, where JSON.parse would define the element (a polluted `Array.prototype`, not worth a check per value).
 */
import { decodeUtf8 } from '../utf8.ts'
import { textJson } from './text.ts'

/**
 * The bytes being read (dropped after each value: no chunk kept alive), the position and the end. Bytes past
 * the end belong to whatever follows the value (the next column): the reader may look at them, and even step
 * over them, but a value counts only when the reading stopped exactly at the end, so none of them is in it.
 */
const NONE = new Uint8Array(0)
let b: Uint8Array = NONE
let at = 0
/** Where the value ends: a number or word stops here (the next column's bytes are never part of one). */
let stop = 0

/**
 * json and jsonb in text format for the full type registry: the value read here when the text is in the subset,
 * otherwise `textJson` (decode, then `JSON.parse`), whose value or error it is in every case. The text-only
 * registry of the HTTP entry keeps `textJson` alone.
 */
export function textJsonFast(bytes: Uint8Array, start: number, end: number): unknown {
  // Saved and restored, not reset: a JSON.parse or decoder called from within may read a value of its own.
  // Three locals, not an array: nothing allocated per value for the bookkeeping.
  const savedBytes = b
  const savedAt = at
  const savedStop = stop
  b = bytes
  at = start
  stop = end
  try {
    const v = value()
    space()
    if (at === end) return v
  } catch {
    // outside the subset, or invalid: textJson decides
  } finally {
    b = savedBytes
    at = savedAt
    stop = savedStop
  }
  return textJson(bytes, start, end)
}

/** Skips JSON whitespace (space, tab, line feed, carriage return); returns the byte after it (undefined past the bytes). */
function space(): number {
  let c = b[at]!
  while (c === 32 || c === 10 || c === 13 || c === 9) c = b[++at]!
  return c
}

function value(): unknown {
  const c = space()
  if (c === 0x22) return string()
  if (c === 0x7b || c === 0x5b) {
    // { or [; the closing byte is 2 more: } or ]
    const isObject = c === 0x7b
    const out: Record<string, unknown> & unknown[] = isObject ? ({} as never) : ([] as never)
    at++
    if (space() === c + 2) {
      at++
      return out
    }
    for (;;) {
      if (isObject) {
        if (space() !== 0x22) throw 0
        const key = string()
        // an assignment to `__proto__` would set the prototype: JSON.parse makes it an own property
        if (space() !== 0x3a || key === '__proto__') throw 0
        at++
        // an inherited property of that name (a setter on Object.prototype) would catch the assignment:
        // JSON.parse defines an own property, so those go to it. `out` inherits from Object.prototype alone
        // and every key it holds passed this test, so asking the prototype is the same as asking `out`.
        if (key in OBJECT_PROTOTYPE) throw 0
        out[key] = value()
      } else {
        out.push(value())
      }
      const next = space()
      at++
      if (next === c + 2) return out
      if (next !== 0x2c) throw 0
    }
  }
  if (c === 0x74 && word(TRUE)) return true
  if (c === 0x66 && word(FALSE)) return false
  if (c === 0x6e && word(NULL)) return null
  return number()
}

/** The prototype of the objects the reader makes (`{}`), taken once: a later `Object = …` does not change it. */
const OBJECT_PROTOTYPE: object = Object.prototype

/** The string whose opening quote is at `at`: ASCII without escapes (the others go to JSON.parse with the whole text). */
function string(): string {
  const start = at
  for (let d = b[++at]!; d !== 0x22; d = b[++at]!) if (!(d >= 0x20 && d <= 0x7f) || d === 0x5c) throw 0
  return ascii(start + 1, at++)
}

const TRUE = [0x74, 0x72, 0x75, 0x65]
const FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65]
const NULL = [0x6e, 0x75, 0x6c, 0x6c]

/** Steps over `bytes` when they come next and end before {@link stop}. */
function word(bytes: readonly number[]): boolean {
  if (at + bytes.length > stop) return false
  for (let i = 0; i < bytes.length; i++) if (b[at + i] !== bytes[i]) return false
  at += bytes.length
  return true
}

/**
 * A number by JSON's grammar, `-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`, read up to {@link stop}: a small
 * integer summed here, any other through `Number`, which gives what JSON.parse gives for every such text.
 * Anything else (a bare word, `+1`, `01`, `.5`) is outside the subset.
 */
function number(): number {
  const start = at
  const isNegative = b[at] === 0x2d
  if (isNegative) at++
  const first = at
  let n = 0
  while (at < stop && b[at]! >= 0x30 && b[at]! <= 0x39) n = n * 10 + b[at++]! - 0x30
  const digits = at - first
  if (digits === 0 || (b[first] === 0x30 && digits > 1)) throw 0
  let isInteger = true
  if (at < stop && b[at] === 0x2e) {
    isInteger = false
    if (!isDigits()) throw 0
  }
  if (at < stop && (b[at] === 0x65 || b[at] === 0x45)) {
    isInteger = false
    if (at + 1 < stop && (b[at + 1] === 0x2b || b[at + 1] === 0x2d)) at++
    if (!isDigits()) throw 0
  }
  if (isInteger && digits <= 15) return isNegative ? -n : n
  return Number(ascii(start, at))
}

/** Steps over the byte at `at` and the digits after it; false when there are none. */
function isDigits(): boolean {
  const first = ++at
  while (at < stop && b[at]! >= 0x30 && b[at]! <= 0x39) at++
  return at > first
}

/**
 * The strings seen last, by a hash of their length, first and last bytes: keys and short values
 * repeat from row to row, and a string seen before costs no allocation (as a key, no new lookup in V8's table
 * of names either).
 */
const recent: string[] = Array(256).fill('')
/** Longer strings are not kept in {@link recent} (at most 256 × 64 characters stay alive). */
const RECENT_MAX_LENGTH = 64

/** The ASCII text of `b[start, stop)`, from {@link recent} when it was seen last. */
function ascii(start: number, stop: number): string {
  const n = stop - start
  // Only short strings are kept: a long value seen once must not stay alive in the table.
  if (n > RECENT_MAX_LENGTH) return decodeUtf8(b, start, stop)
  const h = (n * 61 + b[start]! * 31 + b[stop - 1]!) & 0xff
  const seen = recent[h]!
  let i = seen.length === n ? 0 : -1
  while (i >= 0 && i < n && seen.charCodeAt(i) === b[start + i]) i++
  if (i === n) return seen
  const text = decodeUtf8(b, start, stop)
  recent[h] = text
  return text
}
