/**
 * Values of a `/sql` result when `Neon-Raw-Text-Output` is not `true`: the JSON types Neon's proxy gives —
 * bool → boolean, int2/int4 → number, float4/float8 → number when finite, json/jsonb → parsed, arrays of
 * built-in types → JSON arrays of their elements so converted; everything else the text PostgreSQL wrote.
 */

import { Oid } from '@edgepg/client'
import { parseKeepingNumbers } from './json-numbers.ts'

/** Converts one column's text values to JSON values. */
export type ValueConverter = (text: string) => unknown

const asIs: ValueConverter = (text) => text

const SCALARS = new Map<number, ValueConverter>([
  [Oid.bool, (text) => (text === 't' ? true : text === 'f' ? false : text)],
  [Oid.int2, Number],
  [Oid.int4, Number],
  [Oid.float4, finite],
  [Oid.float8, finite],
  [Oid.json, json],
  [Oid.jsonb, json],
])

/** Element OID and delimiter of each built-in array type (`_int4` → int4; box arrays use `;`). */
const ARRAYS = new Map<number, { element: number; delimiter: string }>()
for (const [name, oid] of Object.entries(Oid) as [string, number][]) {
  if (!name.startsWith('_')) continue
  const element = (Oid as Record<string, number>)[name.slice(1)]
  if (element !== undefined) ARRAYS.set(oid, { element, delimiter: name === '_box' ? ';' : ',' })
}

/** The converter for a column of type `oid`. */
export function converterFor(oid: number): ValueConverter {
  const scalar = SCALARS.get(oid)
  if (scalar) return scalar
  const array = ARRAYS.get(oid)
  if (!array) return asIs
  const element = SCALARS.get(array.element) ?? asIs
  return (text) => parseArrayLiteral(text, array.delimiter, element) ?? text
}

function finite(text: string): number | string {
  const n = Number(text)
  return Number.isFinite(n) ? n : text
}

function json(text: string): unknown {
  try {
    // Kept digit for digit: jsonb's 9007199254740993 or 1.0 reach the client as PostgreSQL wrote them.
    return parseKeepingNumbers(text)
  } catch {
    return text
  }
}

/** PostgreSQL's limit on array dimensions (MAXDIM). */
const MAX_DEPTH = 6

/**
 * Parses an array in PostgreSQL's text output (`{1,NULL,"a \"b\""}`, nested, optionally after dimension
 * decorations such as `[0:1]=`); elements go through `element`, unquoted `NULL` is null. Undefined when the
 * text is not such a literal (the caller keeps the text).
 */
export function parseArrayLiteral(
  text: string,
  delimiter: string,
  element: ValueConverter,
): unknown[] | undefined {
  let i = 0
  if (text[0] === '[') {
    const equals = text.indexOf('=')
    if (equals < 0) return undefined
    i = equals + 1
  }
  const stack: unknown[][] = []
  let result: unknown[] | undefined
  let afterValue = false
  while (i < text.length) {
    const c = text[i]!
    if (c === '{') {
      if (afterValue || stack.length >= MAX_DEPTH) return undefined
      const nested: unknown[] = []
      stack.at(-1)?.push(nested)
      stack.push(nested)
      i++
    } else if (c === '}') {
      const done = stack.pop()
      if (!done) return undefined
      afterValue = true
      i++
      if (stack.length === 0) {
        result = done
        break
      }
    } else if (c === delimiter) {
      if (!afterValue) return undefined
      afterValue = false
      i++
    } else if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++
    } else {
      const current = stack.at(-1)
      if (!current || afterValue) return undefined
      const read = c === '"' ? readQuoted(text, i) : readUnquoted(text, i, delimiter)
      if (!read) return undefined
      current.push(read.isNull ? null : element(read.value))
      afterValue = true
      i = read.end
    }
  }
  if (!result || text.slice(i).trim() !== '') return undefined
  return result
}

function readQuoted(text: string, start: number): { value: string; isNull: false; end: number } | undefined {
  let value = ''
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i]!
    if (c === '\\') {
      i++
      if (i >= text.length) return undefined
      value += text[i]
    } else if (c === '"') {
      return { value, isNull: false, end: i + 1 }
    } else {
      value += c
    }
  }
  return undefined
}

function readUnquoted(
  text: string,
  start: number,
  delimiter: string,
): { value: string; isNull: boolean; end: number } | undefined {
  let value = ''
  let hasEscape = false
  let i = start
  for (; i < text.length; i++) {
    const c = text[i]!
    if (c === delimiter || c === '}' || c === '{' || c === '"') break
    if (c === '\\') {
      i++
      if (i >= text.length) return undefined
      value += text[i]
      hasEscape = true
    } else {
      value += c
    }
  }
  const trimmed = value.trimEnd()
  return { value: trimmed, isNull: !hasEscape && trimmed.toUpperCase() === 'NULL', end: i }
}
