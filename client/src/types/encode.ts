/**
 * Query parameters: every JS value becomes PostgreSQL input text (sent in text format, so the server's input
 * function for the parameter's type parses it), except bytes, which are sent in binary format as they are.
 */
import { encodeError } from '../errors.ts'
import { hex } from './bytes.ts'
import { type Interval, intervalToText } from './interval.ts'

/**
 * Encodes one query parameter.
 *
 * - `null`, `undefined` → NULL (returned as `null`)
 * - string → as is; number → its text (`NaN`, `Infinity`, `-Infinity`); bigint → its text; boolean → `t`/`f`
 * - Date → ISO 8601 with `Z` (years outside 1–9999 as PostgreSQL writes them: `0044-03-15T…Z BC`)
 * - Uint8Array, ArrayBuffer or any ArrayBuffer view → its bytes as a `Uint8Array` (binary format: raw bytea)
 * - array (nested for more dimensions) → an array literal `{1,NULL,"a \"b\""}`
 * - {@link Interval} (`{ months, days, microseconds }`, nothing else) → `1 mons 2 days 3 microseconds`
 * - any other object → `JSON.stringify(value)` (for json/jsonb)
 *
 * Throws an `encode` PgError for functions, symbols, invalid Dates and objects JSON cannot represent.
 */
export function encodeParam(value: unknown): string | Uint8Array | null {
  if (value == null) return null
  return (
    bytesOf(value) ??
    (Array.isArray(value) ? arrayLiteral(value, []) : valueText(value, 'as a query parameter'))
  )
}

const EXPECTED = 'a string, number, bigint, boolean, Date, Uint8Array, array, object, null or undefined'

/** Uint8Array (as it is), ArrayBuffer or any ArrayBuffer view as a `Uint8Array` over its bytes; else undefined. */
function bytesOf(value: unknown): Uint8Array | undefined {
  if (value instanceof Uint8Array) return value
  if (value instanceof ArrayBuffer) return new Uint8Array(value)
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
}

/** The text of a value that is neither NULL, bytes nor an array; `where` ends the error for other kinds. */
function valueText(value: unknown, where: string): string {
  switch (typeof value) {
    case 'string':
      return value
    case 'number':
      // `String(-0)` is `'0'`; PostgreSQL keeps the sign of a float zero, so keep it too.
      return Object.is(value, -0) ? '-0' : String(value)
    case 'bigint':
      return String(value)
    case 'boolean':
      return value ? 't' : 'f'
    case 'object':
      return objectText(value!)
  }
  throw encodeError(`cannot encode a ${typeof value} ${where}; expected ${EXPECTED}`)
}

/** Date, Interval or JSON text of an object that is not an array or bytes. */
function objectText(value: object): string {
  if (value instanceof Date) return dateText(value)
  if (isInterval(value)) return intervalToText(value)
  let json: string | undefined
  try {
    json = JSON.stringify(value)
  } catch (cause) {
    throw encodeError(`cannot encode an object as json: ${(cause as Error).message}`, cause)
  }
  if (json === undefined)
    throw encodeError(`cannot encode an object as json; JSON.stringify returned undefined`)
  return json
}

function isInterval(value: object): value is Interval {
  const v = value as Partial<Interval>
  return (
    typeof v.months === 'number' &&
    typeof v.days === 'number' &&
    typeof v.microseconds === 'number' &&
    Object.keys(value).length === 3
  )
}

/** ISO 8601 in UTC; PostgreSQL reads neither `+010000-…` nor `-000044-…`, so those years are written its way. */
function dateText(date: Date): string {
  if (Number.isNaN(date.getTime()))
    throw encodeError('cannot encode an invalid Date; expected a Date with a time value')
  const year = date.getUTCFullYear()
  const iso = date.toISOString()
  if (year >= 1 && year <= 9999) return iso
  // Keep `-MM-DDTHH:MM:SS.sssZ` (20 characters) after the year, whichever form toISOString used for it.
  const rest = iso.slice(-20)
  return year > 0 ? `${year}${rest}` : `${`${1 - year}`.padStart(4, '0')}${rest} BC`
}

/** The array literal of `values`; `seen` guards against an array that contains itself. */
function arrayLiteral(values: readonly unknown[], seen: unknown[]): string {
  if (seen.includes(values)) throw encodeError('cannot encode an array that contains itself')
  seen.push(values)
  let out = ''
  for (let i = 0; i < values.length; i++) out += `${i > 0 ? ',' : ''}${arrayElement(values[i], seen)}`
  seen.pop()
  return `{${out}}`
}

function arrayElement(value: unknown, seen: unknown[]): string {
  if (value == null) return 'NULL'
  if (Array.isArray(value)) return arrayLiteral(value, seen)
  const bytes = bytesOf(value)
  if (bytes) return `"\\\\x${hex(bytes)}"`
  const text = valueText(value, 'in an array parameter')
  return typeof value === 'string' || typeof value === 'object' ? quote(text) : text
}

/**
 * An array element as array_in reads it: bare when it can be, otherwise in double quotes with `"` and `\`
 * escaped. Quoting is needed for the empty string, `NULL` (any case), and text holding `{ } , " \` or
 * white space (array_in trims unquoted white space).
 */
function quote(text: string): string {
  return /^(null)?$|[{},"\\\t-\r ]/i.test(text) ? `"${text.replace(/["\\]/g, '\\$&')}"` : text
}
