/**
 * How values must arrive for Drizzle's column mappers: the types Drizzle's node-postgres driver asks for as
 * PostgreSQL's text (date, timestamp, timestamptz, interval, their arrays, and numeric arrays), and int8 as
 * text as node-postgres reads it. Every Drizzle query passes {@link drizzleTypes} as its own `types`, so the
 * pool (or HTTP client) can be made with any types for the rest of the application.
 */
import type { TypeOptions } from '@edgepg/client'

const keepText = (text: string): string => text

/**
 * The OIDs read as text: date 1082, timestamp 1114, timestamptz 1184, interval 1186 and the arrays
 * 1182, 1115, 1185, 1187, numeric[] 1231 (what Drizzle's node-postgres driver passes through unparsed).
 */
export const TEXT_DATE_OIDS: readonly number[] = [1082, 1114, 1184, 1186, 1182, 1115, 1185, 1187, 1231]

/** int8 (20): node-postgres returns it as a string; so does Drizzle on edgepg (int8[] follows its element). */
const INT8 = 20

/**
 * The `types` every Drizzle query is decoded with: dates, timestamps, intervals and numeric arrays as
 * PostgreSQL's text, int8 as a string, bytea as a `Buffer` (as node-postgres gives them to Drizzle). Drizzle's column modes then map
 * them exactly as on node-postgres. Exported for `db.$client` queries that want the same values.
 */
export const drizzleTypes: TypeOptions = {
  parsers: {
    ...Object.fromEntries([...TEXT_DATE_OIDS, INT8].map((oid) => [oid, keepText])),
    ...byteaAsBuffer(),
  },
}

/**
 * bytea (17) as a Node `Buffer` where the runtime has one (Node, Bun, Deno, Workers with nodejs_compat), as
 * node-postgres gives it to Drizzle: a custom bytea type's `Buffer` methods (`toString('hex')`) then work.
 * Elsewhere edgepg's `Uint8Array` stays. bytea[] follows its element.
 */
function byteaAsBuffer(): Record<number, (text: string) => unknown> {
  const NodeBuffer = (globalThis as { Buffer?: { from(text: string, encoding: 'hex'): Uint8Array } }).Buffer
  if (NodeBuffer === undefined) return {}
  // bytea_output = hex (PostgreSQL's default since 9.0; edgepg refuses other settings' values elsewhere).
  return { 17: (text: string) => NodeBuffer.from(text.slice(2), 'hex') }
}
