/**
 * Reading the relay's answers (Neon's format): a result's fields and rows, decoded by the same row decoder and
 * type decoders as the wire path, and errors as the same `DatabaseError` / `PgError` values.
 *
 * Rows come as arrays of text (`Neon-Array-Mode` and `Neon-Raw-Text-Output`). Each row is written into one
 * buffer laid out as a DataRow message (int32 length, -1 for NULL, then the UTF-8 bytes of each column), so
 * {@link RowDecoder} builds it exactly as it builds a row read from a socket: same row prototype, same decoders.
 */
import {
  authError,
  configError,
  DatabaseError,
  type DatabaseErrorFields,
  encodeError,
  ioError,
  isPgError,
  limitError,
  type PgError,
  protocolError,
} from '../errors.ts'
import type { DataRow } from '../protocol/index.ts'
import { type FieldDescription, type QueryResult, RowDecoder } from '../result.ts'
import type { TypeRegistry } from '../types/registry.ts'
import { encodeUtf8Into, maxUtf8Length } from '../utf8.ts'

type Json = Record<string, unknown>

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

const kindOf = (value: unknown) =>
  value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value

/** The error for an answer that is not in the format it should be. */
const badAnswer = (expected: string, found: unknown) =>
  protocolError(`expected ${expected} in the relay's answer, found ${kindOf(found)}`)

/** A result as Neon's format sends it: `{ command, rowCount, rows, fields, rowAsArray }`. */
export function readResult(json: unknown, types: TypeRegistry, isArrayMode: boolean): QueryResult {
  if (!isObject(json)) throw badAnswer('a result object', json)
  // Our relay sends the whole verb as `commandTag` (`CREATE TABLE`); Neon only its first word as `command`.
  const { fields: rawFields, rows: rawRows } = json
  const command = json.commandTag ?? json.command
  if (!Array.isArray(rawFields)) throw badAnswer('fields as an array', rawFields)
  if (!Array.isArray(rawRows)) throw badAnswer('rows as an array', rawRows)
  if (typeof command !== 'string') throw badAnswer('command as a string', command)
  const rowCount: unknown = json.rowCount ?? null
  if (rowCount !== null && !Number.isSafeInteger(rowCount))
    throw badAnswer('rowCount as a whole number', rowCount)
  const fields = rawFields.map(readField)
  const decoder = new RowDecoder(fields, types)
  const rows = new Array(rawRows.length)
  let buffer = new Uint8Array(256)
  let view = new DataView(buffer.buffer)
  for (let r = 0; r < rawRows.length; r++) {
    const values: unknown = rawRows[r]
    if (!Array.isArray(values)) throw badAnswer('each row as an array (Neon-Array-Mode)', values)
    if (values.length !== fields.length)
      throw protocolError(
        `expected rows of ${fields.length} values (one per field) in the relay's answer, found ${values.length}`,
      )
    let size = 0
    for (const value of values) {
      if (value !== null && typeof value !== 'string')
        throw badAnswer('every value as text or null (Neon-Raw-Text-Output)', value)
      size += 4 + (value === null ? 0 : maxUtf8Length(value))
    }
    if (size > buffer.length) {
      buffer = new Uint8Array(size * 2)
      view = new DataView(buffer.buffer)
    }
    let at = 0
    for (const value of values as (string | null)[]) {
      const length = value === null ? -1 : encodeUtf8Into(value, buffer, at + 4)
      view.setInt32(at, length)
      at += 4 + Math.max(length, 0)
    }
    const message: DataRow = { type: 'DataRow', columnCount: values.length, bytes: buffer, start: 0, end: at }
    try {
      rows[r] = isArrayMode ? decoder.decodeArray(message) : decoder.decode(message)
    } catch (error) {
      // As the wire path reports a value it cannot decode (ResultCollector).
      if (isPgError(error)) throw error
      throw encodeError(`could not decode a column: ${String(error)}`, error)
    }
  }
  return { rows, fields, command, rowCount: rowCount as number | null }
}

/** A field in Neon's names → ours; every field is in text format. */
function readField(field: unknown): FieldDescription {
  if (!isObject(field) || typeof field.name !== 'string') throw badAnswer('a field with a name', field)
  const number = (key: string, isNullZero = false): number => {
    const value = isNullZero && field[key] === null ? 0 : field[key]
    if (!Number.isSafeInteger(value)) throw badAnswer(`${key} as a whole number`, value)
    return value as number
  }
  return {
    name: field.name,
    // A proxy built on tokio-postgres may send null for a column that is not a table's (the wire's 0).
    tableOid: number('tableID', true),
    columnId: number('columnID', true),
    typeOid: number('dataTypeID'),
    typeSize: number('dataTypeSize'),
    typeModifier: number('dataTypeModifier'),
    format: 0,
  }
}

/** ErrorResponse fields sent as text that the wire client gives as numbers. */
const INTEGER_FIELDS = ['position', 'internalPosition', 'line']
/** Every other field, by the name Neon's format and {@link DatabaseErrorFields} share. */
const TEXT_FIELDS = [
  'severityNonLocalized',
  'detail',
  'hint',
  'internalQuery',
  'where',
  'schema',
  'table',
  'column',
  'dataType',
  'constraint',
  'file',
  'routine',
]

/**
 * The error for an answer that is not 200. A 400 with a SQLSTATE `code` is the server's ErrorResponse; the
 * other answers say what the relay answered, in a kind that says what to do about it.
 */
export function answerError(status: number, body: string): PgError {
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch {}
  if (status === 400 && isObject(json) && typeof json.code === 'string' && json.code !== '')
    return new DatabaseError(databaseErrorFields(json))
  const said = isObject(json) && typeof json.message === 'string' ? json.message : body.trim()
  const message = `the relay answered ${status}: ${said.length > 300 ? `${said.slice(0, 300)}…` : said || '(no message)'}`
  if (status === 413 || status === 507) return limitError(message)
  if (status === 401 || status === 403) return authError(message)
  if (status === 400) return configError(message)
  return ioError(message)
}

function databaseErrorFields(json: Json): DatabaseErrorFields {
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined)
  const fields: Record<string, string | number | undefined> = {
    severity: text(json.severity) ?? '',
    code: json.code as string,
    message: text(json.message) ?? '',
  }
  for (const key of TEXT_FIELDS) fields[key] = text(json[key])
  for (const key of INTEGER_FIELDS) {
    // Sent as decimal text (numbers accepted too); anything else is dropped rather than made up, as on the wire.
    const value = json[key]
    const n =
      typeof value === 'number'
        ? value
        : typeof value === 'string' && value !== ''
          ? Number(value)
          : Number.NaN
    fields[key] = Number.isSafeInteger(n) ? n : undefined
  }
  return fields as unknown as DatabaseErrorFields
}
