/**
 * Query parameters from a JSON body, as the text PostgreSQL parses: Neon's driver sends strings already
 * (bytea as `\x…` hex); other JSON values are taken as node-postgres would send them, numbers with the digits
 * the client wrote.
 */
import { keptNumber } from './json-numbers.ts'

/** PostgreSQL's limit on array dimensions (MAXDIM). */
const MAX_ARRAY_DEPTH = 6

/**
 * One parameter as text: `null` stays NULL, strings as they are, numbers and booleans as their text, objects
 * as JSON text, arrays as a PostgreSQL array literal (`{1,"a b",NULL}`, nested at most 6 deep).
 */
export function toParamText(
  value: unknown,
): { ok: true; value: string | null } | { ok: false; message: string } {
  if (value === null || value === undefined) return { ok: true, value: null }
  if (Array.isArray(value)) {
    const literal = arrayLiteral(value, 1)
    return typeof literal === 'string' ? { ok: true, value: literal } : literal
  }
  const text = scalarText(value)
  return typeof text === 'string' ? { ok: true, value: text } : text
}

function scalarText(value: unknown): string | { ok: false; message: string } {
  switch (typeof value) {
    case 'string':
      return value
    case 'number':
    case 'boolean':
      return String(value)
    case 'object': {
      const digits = keptNumber(value)
      if (digits !== undefined) return digits
      try {
        return JSON.stringify(value)
      } catch {
        return { ok: false, message: 'is an object too deeply nested to write as json' }
      }
    }
    default:
      return { ok: false, message: `must be a json value, found a ${typeof value}` }
  }
}

function arrayLiteral(items: unknown[], depth: number): string | { ok: false; message: string } {
  if (depth > MAX_ARRAY_DEPTH)
    return { ok: false, message: `is an array nested deeper than ${MAX_ARRAY_DEPTH} levels` }
  const parts: string[] = []
  for (const item of items) {
    if (item === null || item === undefined) {
      parts.push('NULL')
      continue
    }
    if (Array.isArray(item)) {
      const nested = arrayLiteral(item, depth + 1)
      if (typeof nested !== 'string') return nested
      parts.push(nested)
      continue
    }
    const text = scalarText(item)
    if (typeof text !== 'string') return text
    // Quoted always: an element may hold a delimiter, a brace, spaces or the word NULL.
    parts.push(`"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`)
  }
  return `{${parts.join(',')}}`
}
