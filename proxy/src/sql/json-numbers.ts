/**
 * JSON with numbers kept exactly as written. `JSON.parse` turns `9007199254740993` into 9007199254740992 and
 * `1.0` into 1; a client that is not JavaScript (curl, another language) means the digits it sent.
 *
 * Cheap by construction (a reviver, called for every value, made parsing ~56× slower — seconds of event loop
 * for one 1 MiB body): one scan finds the number tokens outside strings whose digits `Number` would change.
 * None (the usual case): plain `JSON.parse`. Some: each is wrapped in a string marked with a per-process
 * random prefix, the text parsed once, and the marked strings turned into `JSON.rawJSON` values (written back
 * unchanged by `JSON.stringify`) by an iterative walk. Without `JSON.rawJSON` (older runtimes) numbers parse as
 * usual.
 */

interface RawJsonApi {
  rawJSON?: (text: string) => object
  isRawJSON?: (value: unknown) => boolean
}

const api = JSON as unknown as RawJsonApi

/** Marks a number kept as text; no client can guess it, so no string of theirs is mistaken for one. */
const SECRET = `${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}:`
const MARK = `\u0000${SECRET}`
/** The mark as JSON text inside a string literal (a raw NUL is not allowed there). */
const MARK_JSON = `\\u0000${SECRET}`

/** The most numbers one text may have kept (each costs about a microsecond more than a plain one). */
export const MAX_KEPT_NUMBERS = 10_000

/** Thrown when a text has more than {@link MAX_KEPT_NUMBERS} numbers whose digits `Number` would change. */
export class TooManyKeptNumbersError extends Error {
  override readonly name = 'TooManyKeptNumbersError'
}

/**
 * Parses `text`; numbers whose digits `Number` would change come back as raw JSON values. Throws as
 * `JSON.parse`, or {@link TooManyKeptNumbersError} past {@link MAX_KEPT_NUMBERS} of them.
 */
export function parseKeepingNumbers(text: string): unknown {
  const raw = api.rawJSON
  if (raw === undefined) return JSON.parse(text)
  const spans = lossyNumbers(text)
  if (spans.length === 0) return JSON.parse(text)
  if (spans.length / 2 > MAX_KEPT_NUMBERS)
    throw new TooManyKeptNumbersError(
      `more than ${MAX_KEPT_NUMBERS} numbers that would lose digits as JavaScript numbers (like 1.0 or 9007199254740993): send them as strings`,
    )
  const parts: string[] = []
  let at = 0
  for (let i = 0; i < spans.length; i += 2) {
    const start = spans[i]!
    const end = spans[i + 1]!
    parts.push(text.slice(at, start), '"', MARK_JSON, text.slice(start, end), '"')
    at = end
  }
  parts.push(text.slice(at))
  return restore(JSON.parse(parts.join('')), raw)
}

/** The digits of a number {@link parseKeepingNumbers} kept, or undefined for any other value. */
export function keptNumber(value: unknown): string | undefined {
  return api.isRawJSON?.(value) ? (value as { rawJSON: string }).rawJSON : undefined
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const MINUS = 0x2d

/** Start and end of each number token outside strings that `String(Number(token))` does not give back. */
function lossyNumbers(text: string): number[] {
  const spans: number[] = []
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === BACKSLASH) i++
      else if (c === QUOTE) inString = false
      continue
    }
    if (c === QUOTE) {
      inString = true
      continue
    }
    if (c !== MINUS && (c < 0x30 || c > 0x39)) continue
    let end = i + 1
    while (end < text.length && isNumberChar(text.charCodeAt(end))) end++
    const token = text.slice(i, end)
    if (String(Number(token)) !== token) spans.push(i, end)
    i = end - 1
  }
  return spans
}

/** Digits, `.`, `e`/`E`, `+`, `-`. */
function isNumberChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === MINUS
}

/** Replaces marked strings by raw JSON numbers, walking without recursion (any depth JSON.parse allows). */
function restore(root: unknown, raw: (text: string) => object): unknown {
  const unmark = (value: unknown) =>
    typeof value === 'string' && value.startsWith(MARK) ? raw(value.slice(MARK.length)) : value
  const top = unmark(root)
  const stack: unknown[] = [top]
  while (stack.length > 0) {
    const node = stack.pop()
    if (node === null || typeof node !== 'object' || keptNumber(node) !== undefined) continue
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const value: unknown = node[i]
        const restored = unmark(value)
        if (restored !== value) node[i] = restored
        else if (value !== null && typeof value === 'object') stack.push(value)
      }
      continue
    }
    const record = node as Record<string, unknown>
    for (const key of Object.keys(record)) {
      const value = record[key]
      const restored = unmark(value)
      if (restored === value) {
        if (value !== null && typeof value === 'object') stack.push(value)
      } else if (key === '__proto__') {
        // A key named __proto__ stays a plain property, as JSON.parse made it (assignment would set the prototype).
        Object.defineProperty(record, key, {
          value: restored,
          enumerable: true,
          writable: true,
          configurable: true,
        })
      } else {
        record[key] = restored
      }
    }
  }
  return top
}
