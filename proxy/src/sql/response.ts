/**
 * The JSON of `/sql` answers, in Neon's format: a result (`command`, `rowCount`, `rows`, `fields`,
 * `rowAsArray`), and a PostgreSQL error with every ErrorResponse field under the names node-postgres and Neon
 * give them (`position`, `internalPosition` and `line` as strings). Runtime-neutral.
 */
import type { DatabaseError, FieldDescription, QueryResult } from '@edgepg/client'
import { converterFor } from './values.ts'

/** A column as Neon describes it. */
export interface NeonField {
  name: string
  dataTypeID: number
  tableID: number
  columnID: number
  dataTypeSize: number
  dataTypeModifier: number
  format: 'text'
}

/** One statement's result as Neon returns it. */
export interface NeonResult {
  /** The command tag's first word (`CREATE` for `CREATE TABLE`), as Neon and node-postgres give it. */
  command: string
  /** The whole verb (`CREATE TABLE`): an addition Neon's driver ignores, which `@edgepg/client/http` reads. */
  commandTag: string
  rowCount: number | null
  rows: unknown[][] | Record<string, unknown>[]
  fields: NeonField[]
  rowAsArray: boolean
}

/** How rows are written (`Neon-Raw-Text-Output`, `Neon-Array-Mode`). */
export interface FormatOptions {
  isRawText: boolean
  isArrayMode: boolean
}

/**
 * Formats a result whose rows are arrays of PostgreSQL text (`rowMode: 'array'`, raw types). In object mode
 * a later column of the same name wins, as in Neon's and node-postgres's rows.
 */
export function formatResult(result: QueryResult<unknown[]>, options: FormatOptions): NeonResult {
  const fields = result.fields.map(neonField)
  const converters = options.isRawText ? undefined : result.fields.map((field) => converterFor(field.typeOid))
  const values = (row: unknown[]): unknown[] =>
    converters ? row.map((value, i) => (typeof value === 'string' ? converters[i]!(value) : value)) : row
  let rows: NeonResult['rows']
  if (options.isArrayMode) {
    rows = result.rows.map(values)
  } else {
    const names = fields.map((field) => field.name)
    rows = result.rows.map((row) => {
      // No prototype: a column named __proto__ is a plain property, never the object's prototype.
      const object: Record<string, unknown> = Object.create(null)
      values(row).forEach((value, i) => {
        object[names[i]!] = value
      })
      return object
    })
  }
  return {
    command: result.command.split(' ', 1)[0]!,
    commandTag: result.command,
    rowCount: result.rowCount,
    rows,
    fields,
    rowAsArray: options.isArrayMode,
  }
}

function neonField(field: FieldDescription): NeonField {
  return {
    name: field.name,
    dataTypeID: field.typeOid,
    tableID: field.tableOid,
    columnID: field.columnId,
    dataTypeSize: field.typeSize,
    dataTypeModifier: field.typeModifier,
    format: 'text',
  }
}

/** The ErrorResponse fields of a 400, in Neon's order; absent ones are left out. */
const ERROR_FIELDS = [
  'severity',
  'severityNonLocalized',
  'code',
  'detail',
  'hint',
  'position',
  'internalPosition',
  'internalQuery',
  'where',
  'schema',
  'table',
  'column',
  'dataType',
  'constraint',
  'file',
  'line',
  'routine',
] as const

/** The fields a statement can fill with text of any length (`raise … using detail = …`). */
const LONG_FIELDS = ['message', 'detail', 'hint', 'where', 'internalQuery'] as const

/** What a field cut to fit the response limit ends with. */
export const TRUNCATED = '… [truncated by the relay]'

/**
 * The body of a 400 for a PostgreSQL error: `message` and every field the server sent, as strings. An error
 * whose JSON would exceed `maxBytes` has its long fields cut (ending in {@link TRUNCATED}) until it fits, so an
 * error cannot carry more than a result may.
 */
export function databaseErrorBody(error: DatabaseError, maxBytes = 10 * 1024 * 1024): Record<string, string> {
  const body: Record<string, string> = { message: error.message }
  for (const name of ERROR_FIELDS) {
    const value = error[name]
    if (value !== undefined && value !== null) body[name] = String(value)
  }
  let cap = Math.floor(maxBytes / (2 * LONG_FIELDS.length))
  while (byteLength(JSON.stringify(body)) > maxBytes && cap > 0) {
    for (const name of LONG_FIELDS) {
      const value = body[name]
      if (value !== undefined && value.length > cap) body[name] = value.slice(0, cap) + TRUNCATED
    }
    cap = Math.floor(cap / 2)
  }
  return body
}

const encoder = new TextEncoder()
const byteLength = (text: string) => encoder.encode(text).length

/** The body of the 400 for a statement cancelled at the relay's deadline (SQLSTATE 57014, query_canceled). */
export function deadlineBody(timeout: number): Record<string, string> {
  return {
    message: `query cancelled: it ran past the relay's deadline of ${timeout} ms`,
    code: '57014',
    severity: 'ERROR',
  }
}
