/**
 * A result as a file: CSV (RFC 4180) or JSON, and the download that hands it to the user. Rows are arrays in
 * column order (`rowMode: 'array'`), so columns with the same name all keep their values.
 *
 * CSV: a header line of column names, then one line per row; fields are the text the grid shows
 * ({@link displayValue}). A field is quoted when it holds a comma, a double quote, CR or LF (quotes doubled
 * inside). SQL NULL is an empty unquoted field and the empty string is `""`, as PostgreSQL's
 * `COPY … TO STDOUT WITH (FORMAT csv)` writes them, so the file loads back with `COPY … FROM … (FORMAT csv)`
 * keeping NULL apart from ''. For that reason a one-column line that would read `\.` (COPY's end-of-data mark)
 * is quoted too, as COPY quotes it. Lines end with CRLF (RFC 4180), or LF when asked.
 *
 * JSON: an array of objects, one per row, keys in column order. A repeated column name gets a suffix (`a`,
 * `a_2`, `a_3`, skipping any name another column already has). int8 and numeric are strings with their exact
 * digits (a JSON number would be rounded by JavaScript's JSON.parse); other numbers are JSON numbers, except
 * NaN and ±Infinity, which JSON lacks: strings. bytea is `\x…` hex text, arrays are arrays, json and jsonb
 * are their JSON values (the server's text as it is when the column is json or jsonb and the value a string,
 * so every digit stays), everything else is its text.
 */
import type { FieldDescription } from '@edgepg/client'
import { displayValue } from './format.ts'

/** What an export reads: the columns and the rows as arrays in column order. */
export interface ExportData {
  /** `typeOid` marks json and jsonb columns, whose text (the page keeps PostgreSQL's) is embedded as JSON. */
  fields: readonly (Pick<FieldDescription, 'name'> & { typeOid?: number })[]
  rows: readonly (readonly unknown[])[]
}

/** Options of {@link toCsv}. */
export interface CsvOptions {
  /** Record separator. Default `'\r\n'` (RFC 4180); `'\n'` is what PostgreSQL's COPY writes. */
  lineEnd?: '\r\n' | '\n'
}

const NEEDS_QUOTES = /[",\r\n]/

function csvField(text: string | null, isOnlyColumn: boolean): string {
  if (text === null) return ''
  if (text === '' || NEEDS_QUOTES.test(text) || (isOnlyColumn && text === '\\.')) {
    return `"${text.replaceAll('"', '""')}"`
  }
  return text
}

/** The result as CSV text: a header line, then every row (see the module comment for the rules). */
export function toCsv(data: ExportData, options: CsvOptions = {}): string {
  const lineEnd = options.lineEnd ?? '\r\n'
  if (lineEnd !== '\r\n' && lineEnd !== '\n') {
    throw new TypeError(`lineEnd must be '\\r\\n' or '\\n', found ${JSON.stringify(lineEnd)}`)
  }
  const isOnlyColumn = data.fields.length === 1
  const lines = [data.fields.map((field) => csvField(field.name, isOnlyColumn)).join(',')]
  for (const row of data.rows) {
    lines.push(row.map((value) => csvField(displayValue(value), isOnlyColumn)).join(','))
  }
  return lines.join(lineEnd) + lineEnd
}

/**
 * One distinct key per column: the first column of a name keeps it, later ones get `_2`, `_3`, … (the lowest
 * suffix no column has as its name and no earlier column got).
 */
export function uniqueKeys(names: readonly string[]): string[] {
  const taken = new Set(names)
  const seen = new Set<string>()
  return names.map((name) => {
    if (!seen.has(name)) {
      seen.add(name)
      return name
    }
    let suffix = 2
    while (taken.has(`${name}_${suffix}`)) suffix++
    const key = `${name}_${suffix}`
    taken.add(key)
    return key
  })
}

/** A decoded value as JSON text (see the module comment for the choices). */
export function jsonValue(value: unknown): string {
  if (value === null || value === undefined) return 'null'
  if (typeof value === 'bigint') return `"${value}"`
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value) : `"${value}"`
  if (typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value)
  if (value instanceof Uint8Array || value instanceof Date) return JSON.stringify(displayValue(value))
  if (Array.isArray(value)) return `[${value.map(jsonValue).join(',')}]`
  // json and jsonb values, intervals and other decoded objects; bigints inside become exact strings.
  return JSON.stringify(value, (_key, inner: unknown) =>
    typeof inner === 'bigint' ? inner.toString() : inner instanceof Uint8Array ? displayValue(inner) : inner,
  )
}

const JSON_OID = 114
const JSONB_OID = 3802

/** The result as a JSON array of objects, one row per line. */
export function toJson(data: ExportData): string {
  const keys = uniqueKeys(data.fields.map((field) => field.name)).map((key) => JSON.stringify(key))
  if (data.rows.length === 0) return '[]\n'
  const isJson = data.fields.map((field) => field.typeOid === JSON_OID || field.typeOid === JSONB_OID)
  const value = (row: readonly unknown[], column: number) => {
    const cell = row[column]
    return isJson[column] && typeof cell === 'string' ? cell : jsonValue(cell)
  }
  const lines = data.rows.map(
    (row) => `  {${keys.map((key, column) => `${key}:${value(row, column)}`).join(',')}}`,
  )
  return `[\n${lines.join(',\n')}\n]\n`
}

/**
 * Hands `text` to the browser as a download named `filename`: a Blob behind an object URL, clicked through a
 * link with `download` (no navigation, nothing the page's CSP forbids). The URL is revoked shortly after.
 */
export function downloadText(text: string, filename: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }))
  const link = document.createElement('a')
  link.href = url
  link.download = filename
  link.hidden = true
  document.body.append(link)
  link.click()
  link.remove()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}
