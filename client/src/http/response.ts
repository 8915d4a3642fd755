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
import { type FieldDescription, type QueryResult, type Row, RowDecoder } from '../result.ts'
import type { TypeRegistry } from '../types/registry.ts'
import { encodeUtf8Into } from '../utf8.ts'

type Json = Record<string, unknown>

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** Throws the error for an answer that is not in the format it should be, unless `isRight`. */
function expectAnswer(isRight: boolean, expected: string, found: unknown): void {
  if (!isRight)
    throw protocolError(
      `expected ${expected} in the relay's answer, found ${found === null ? 'null' : Array.isArray(found) ? 'an array' : typeof found}`,
    )
}

/** A result as Neon's format sends it: `{ command, rowCount, rows, fields, rowAsArray }`. */
export function readResult(json: unknown, types: TypeRegistry, isArrayMode: boolean): QueryResult {
  expectAnswer(isObject(json), 'a result object', json)
  // Our relay sends the whole verb as `commandTag` (`CREATE TABLE`); Neon only its first word as `command`.
  const { fields: rawFields, rows: rawRows, commandTag, command: verb, rowCount = null } = json as Json
  const command = commandTag ?? verb
  expectAnswer(Array.isArray(rawFields), 'fields as an array', rawFields)
  expectAnswer(Array.isArray(rawRows), 'rows as an array', rawRows)
  expectAnswer(typeof command === 'string', 'command as a string', command)
  expectAnswer(rowCount === null || Number.isSafeInteger(rowCount), 'rowCount as a whole number', rowCount)
  const fields = (rawFields as unknown[]).map(readField)
  const decoder = new RowDecoder(fields, types)
  const rows = (rawRows as (string | null)[][]).map((values) => {
    expectAnswer(Array.isArray(values), 'each row as an array (Neon-Array-Mode)', values)
    if (values.length !== fields.length)
      throw protocolError(
        `expected rows of ${fields.length} values (one per field) in the relay's answer, found ${values.length}`,
      )
    let size = 0
    for (const value of values) {
      expectAnswer(
        value === null || typeof value === 'string',
        'every value as text or null (Neon-Raw-Text-Output)',
        value,
      )
      // an int32 length, then at most 3 UTF-8 bytes per UTF-16 unit
      size += 4 + (value === null ? 0 : value.length * 3)
    }
    const bytes = new Uint8Array(size)
    const view = new DataView(bytes.buffer)
    let at = 0
    for (const value of values) {
      const length = value === null ? -1 : encodeUtf8Into(value, bytes, at + 4)
      view.setInt32(at, length)
      at += 4 + Math.max(length, 0)
    }
    const message: DataRow = { type: 'DataRow', columnCount: fields.length, bytes, start: 0, end: at }
    try {
      return isArrayMode ? (decoder.decodeArray(message) as unknown as Row) : decoder.decode(message)
    } catch (error) {
      // As the wire path reports a value it cannot decode (ResultCollector).
      throw isPgError(error) ? error : encodeError(`could not decode a column: ${String(error)}`, error)
    }
  })
  return { rows, fields, command: command as string, rowCount: rowCount as number | null }
}

/** A field in Neon's names → ours; every field is in text format. */
function readField(field: unknown): FieldDescription {
  expectAnswer(isObject(field) && typeof field.name === 'string', 'a field with a name', field)
  // A proxy built on tokio-postgres may send null for a column that is not a table's (the wire's 0).
  const number = (key: string, isNullZero?: boolean): number => {
    const value = isNullZero && (field as Json)[key] === null ? 0 : (field as Json)[key]
    expectAnswer(Number.isSafeInteger(value), `${key} as a whole number`, value)
    return value as number
  }
  return {
    name: (field as Json).name as string,
    tableOid: number('tableID', true),
    columnId: number('columnID', true),
    typeOid: number('dataTypeID'),
    typeSize: number('dataTypeSize'),
    typeModifier: number('dataTypeModifier'),
    format: 0,
  }
}

/**
 * The ErrorResponse fields besides severity, code and message, by the name Neon's format and
 * {@link DatabaseErrorFields} share; positions and the line are numbers (the others text).
 */
const ERROR_FIELDS =
  'severityNonLocalized detail hint position internalPosition internalQuery where schema table column dataType constraint file line routine'.split(
    ' ',
  )

/**
 * The error for an answer that is not 200. A 400 with a SQLSTATE `code` is the server's ErrorResponse; the
 * other answers say what the relay answered, in a kind that says what to do about it.
 */
export function answerError(status: number, body: string): PgError {
  let json: Json = {}
  try {
    json = JSON.parse(body)
  } catch {}
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined)
  if (!isObject(json)) json = {}
  if (status === 400 && text(json.code)) {
    const fields: Json = {
      severity: text(json.severity) ?? '',
      code: json.code,
      message: text(json.message) ?? '',
    }
    for (const key of ERROR_FIELDS) {
      const value = json[key]
      // Sent as decimal text (numbers accepted too); anything else is dropped rather than made up, as on the wire.
      const n =
        value === '' || (typeof value !== 'number' && typeof value !== 'string') ? Number.NaN : Number(value)
      fields[key] = /osition|line/.test(key) ? (Number.isSafeInteger(n) ? n : undefined) : text(value)
    }
    return new DatabaseError(fields as unknown as DatabaseErrorFields)
  }
  const said = text(json.message) ?? body.trim()
  const message = `the relay answered ${status}: ${said.length > 300 ? `${said.slice(0, 300)}…` : said || '(no message)'}`
  return (
    status === 413 || status === 507
      ? limitError
      : status === 401 || status === 403
        ? authError
        : status === 400
          ? configError
          : ioError
  )(message)
}
