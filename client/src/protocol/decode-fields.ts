/** Decodes the field list shared by ErrorResponse and NoticeResponse. */
import type { DatabaseErrorFields } from '../errors.ts'
import { cstringEnd, expectEnd, readString, truncated } from './read.ts'

/** Field codes and the {@link DatabaseErrorFields} key each fills. */
const FIELDS: Record<number, keyof DatabaseErrorFields> = {
  83: 'severity', // S
  86: 'severityNonLocalized', // V
  67: 'code', // C
  77: 'message', // M
  68: 'detail', // D
  72: 'hint', // H
  80: 'position', // P
  112: 'internalPosition', // p
  113: 'internalQuery', // q
  87: 'where', // W
  115: 'schema', // s
  116: 'table', // t
  99: 'column', // c
  100: 'dataType', // d
  110: 'constraint', // n
  70: 'file', // F
  76: 'line', // L
  82: 'routine', // R
}

/** The fields sent as decimal text. */
const INTEGER_FIELDS = new Set<string>(['position', 'internalPosition', 'line'])

/**
 * Decodes `code value\0 … \0`. Codes are the documented ones (S V C M D H P p q W s t c d n F L R); unknown codes
 * are skipped, as the protocol asks. A missing severity, code or message becomes `''`.
 */
export function decodeFields(
  name: string,
  bytes: Uint8Array,
  start: number,
  end: number,
): DatabaseErrorFields {
  const fields: Record<string, string | number | undefined> = { severity: '', code: '', message: '' }
  let at = start
  for (;;) {
    if (at >= end) throw truncated(name, at, 1, end)
    const field = bytes[at++]!
    if (field === 0) break
    const nul = cstringEnd(name, bytes, at, end)
    const key = FIELDS[field]
    if (key !== undefined) {
      const value = readString(bytes, at, nul)
      fields[key] = INTEGER_FIELDS.has(key) ? toInteger(value) : value
    }
    at = nul + 1
  }
  expectEnd(name, at, end)
  return fields as unknown as DatabaseErrorFields
}

/** Positions and line numbers are sent as decimal text; anything else is dropped rather than made up. */
function toInteger(value: string): number | undefined {
  if (value === '') return undefined
  const n = Number(value)
  return Number.isSafeInteger(n) ? n : undefined
}
