/** Decodes the field list shared by ErrorResponse and NoticeResponse. */
import type { DatabaseErrorFields } from '../errors.ts'
import { cstringEnd, expectEnd, readString, truncated } from './read.ts'

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
  let severity = ''
  let code = ''
  let message = ''
  let severityNonLocalized: string | undefined
  let detail: string | undefined
  let hint: string | undefined
  let position: number | undefined
  let internalPosition: number | undefined
  let internalQuery: string | undefined
  let where: string | undefined
  let schema: string | undefined
  let table: string | undefined
  let column: string | undefined
  let dataType: string | undefined
  let constraint: string | undefined
  let file: string | undefined
  let line: number | undefined
  let routine: string | undefined
  let at = start
  for (;;) {
    if (at >= end) throw truncated(name, at, 1, end)
    const field = bytes[at++]!
    if (field === 0) break
    const nul = cstringEnd(name, bytes, at, end)
    const value = readString(bytes, at, nul)
    at = nul + 1
    switch (field) {
      case 0x53: // S
        severity = value
        break
      case 0x56: // V
        severityNonLocalized = value
        break
      case 0x43: // C
        code = value
        break
      case 0x4d: // M
        message = value
        break
      case 0x44: // D
        detail = value
        break
      case 0x48: // H
        hint = value
        break
      case 0x50: // P
        position = toInteger(value)
        break
      case 0x70: // p
        internalPosition = toInteger(value)
        break
      case 0x71: // q
        internalQuery = value
        break
      case 0x57: // W
        where = value
        break
      case 0x73: // s
        schema = value
        break
      case 0x74: // t
        table = value
        break
      case 0x63: // c
        column = value
        break
      case 0x64: // d
        dataType = value
        break
      case 0x6e: // n
        constraint = value
        break
      case 0x46: // F
        file = value
        break
      case 0x4c: // L
        line = toInteger(value)
        break
      case 0x52: // R
        routine = value
        break
    }
  }
  expectEnd(name, at, end)
  return {
    severity,
    severityNonLocalized,
    code,
    message,
    detail,
    hint,
    position,
    internalPosition,
    internalQuery,
    where,
    schema,
    table,
    column,
    dataType,
    constraint,
    file,
    line,
    routine,
  }
}

/** Positions and line numbers are sent as decimal text; anything else is dropped rather than made up. */
function toInteger(value: string): number | undefined {
  if (value === '') return undefined
  const n = Number(value)
  return Number.isSafeInteger(n) ? n : undefined
}
