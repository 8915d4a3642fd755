/**
 * Display helpers for the results grid and the error view: type names from OIDs, values as text, and where
 * in the SQL an error position points.
 */
import { Oid } from '@edgepg/client'

const typeNames = new Map<number, string>(
  Object.entries(Oid).map(([name, oid]) => [oid, name.startsWith('_') ? `${name.slice(1)}[]` : name]),
)

/** PostgreSQL's name of a built-in type (`int4`, `text[]`), or `oid 16384` for types the table lacks. */
export function typeName(oid: number): string {
  return typeNames.get(oid) ?? `oid ${oid}`
}

/** A decoded value as the grid shows it; `null` for SQL NULL. */
export function displayValue(value: unknown): string | null {
  if (value === null || value === undefined) return null
  if (typeof value === 'string') return value
  if (value instanceof Uint8Array) return `\\x${hex(value)}`
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? String(value) : value.toISOString()
  if (typeof value === 'object') return JSON.stringify(value, jsonSafe)
  return String(value)
}

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (value instanceof Uint8Array) return `\\x${hex(value)}`
  return value
}

function hex(bytes: Uint8Array): string {
  let out = ''
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0')
  return out
}

/**
 * Turns PostgreSQL's error position (1-based, counted in characters of the whole query string) into a range
 * of `sql` in UTF-16 code units, as the DOM counts. Undefined when the position is outside the text.
 */
export function positionRange(sql: string, position: number): { start: number; end: number } | undefined {
  if (!Number.isInteger(position) || position < 1) return undefined
  let index = 0
  let character = 1
  for (const symbol of sql) {
    if (character === position) return { start: index, end: index + symbol.length }
    index += symbol.length
    character++
  }
  // PostgreSQL may point just past the last character ("syntax error at end of input").
  return character === position ? { start: sql.length, end: sql.length } : undefined
}
