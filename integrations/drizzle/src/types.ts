/**
 * How values must arrive for Drizzle's column mappers: the types Drizzle's node-postgres driver asks for as
 * PostgreSQL's text (date, timestamp, timestamptz, interval, their arrays, and numeric arrays), and int8 as
 * text as node-postgres reads it. edgepg chooses decoders per connection, not per query, so the pool (or the
 * HTTP client) Drizzle runs on is created with {@link drizzleTypes}; a result that shows other decoders is
 * refused with {@link WRONG_TYPES_MESSAGE} rather than mapped to wrong values.
 */
import type { FieldDescription, QueryResult, TypeOptions } from '@edgepg/client'

const keepText = (text: string): string => text

/**
 * The OIDs read as text: date 1082, timestamp 1114, timestamptz 1184, interval 1186 and the arrays
 * 1182, 1115, 1185, 1187, numeric[] 1231 (what Drizzle's node-postgres driver passes through unparsed).
 */
export const TEXT_DATE_OIDS: readonly number[] = [1082, 1114, 1184, 1186, 1182, 1115, 1185, 1187, 1231]

/** int8 (20): node-postgres returns it as a string; so does Drizzle on edgepg (int8[] follows its element). */
const INT8 = 20

/**
 * The `types` option for an edgepg pool or HTTP client that Drizzle runs on: dates, timestamps, intervals
 * and numeric arrays as PostgreSQL's text, int8 as a string (as node-postgres gives them to Drizzle).
 * Drizzle's column modes then map them exactly as on node-postgres.
 *
 * @example
 * ```ts
 * const pool = createPool(url, { transport: nodeSocket(), types: drizzleTypes })
 * const db = drizzle(pool, { schema })
 * ```
 */
export const drizzleTypes: TypeOptions = {
  parsers: Object.fromEntries([...TEXT_DATE_OIDS, INT8].map((oid) => [oid, keepText])),
}

/** Why a result from a pool made without {@link drizzleTypes} is refused. */
export const WRONG_TYPES_MESSAGE =
  'drizzle on edgepg expects date, timestamp and interval values as postgresql text: ' +
  'create the pool (or http client) with { types: drizzleTypes } from @edgepg/drizzle'

/**
 * Throws when a date, timestamp, interval or numeric-array column of `result` holds something other than a
 * string (a `Date`, an interval object, a parsed array): the pool was made without {@link drizzleTypes}.
 * Looks at the first non-null value of each such column only.
 */
export function checkTextDates(result: Pick<QueryResult<unknown>, 'fields' | 'rows'>): void {
  const { fields, rows } = result
  if (rows.length === 0) return
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i] as FieldDescription
    if (!TEXT_DATE_OIDS.includes(field.typeOid)) continue
    for (const row of rows) {
      const value = Array.isArray(row) ? row[i] : (row as Record<string, unknown>)[field.name]
      if (value === null || value === undefined) continue
      if (typeof value !== 'string') {
        throw new TypeError(
          `${WRONG_TYPES_MESSAGE}; found ${describe(value)} in column "${field.name}" (type oid ${field.typeOid})`,
        )
      }
      break
    }
  }
}

function describe(value: unknown): string {
  if (value instanceof Date) return 'a Date'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}
