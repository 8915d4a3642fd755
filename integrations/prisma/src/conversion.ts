/**
 * Result columns as Prisma reads them: each column's {@link ColumnType} by its type OID, and each value from
 * PostgreSQL's text (the adapter's pool runs with `types: { raw: true }`) into the JS value Prisma's own pg
 * adapter (`@prisma/adapter-pg` on node-postgres) hands over for that type — so a query gives Prisma the same
 * input on edgepg as on `pg`. Types Prisma does not know below OID 16384 are refused as adapter-pg refuses
 * them; user-defined types (enums, extension types) are text.
 */
import { type ColumnType, ColumnTypeEnum } from '@prisma/driver-adapter-utils'
import { parseArrayLiteral } from './array-literal.ts'

/** OIDs from 16384 on are user-defined (enums, domains, extension types): read as text. */
export const FIRST_NORMAL_OBJECT_ID = 16384

/** A column type Prisma has no mapping for; the adapter reports it as `UnsupportedNativeDataType`. */
export class UnsupportedNativeDataType extends Error {
  readonly type: string
  constructor(oid: number) {
    const type = TYPE_NAMES[oid] ?? 'Unknown'
    super(`Unsupported column type ${type}`)
    this.type = type
  }
}

/** Names of the built-in types Prisma refuses, as adapter-pg names them in its error. */
const TYPE_NAMES: Record<number, string> = {
  18: 'char',
  22: 'int2vector',
  24: 'regproc',
  27: 'tid',
  28: 'xid',
  29: 'cid',
  30: 'oidvector',
  194: 'pg_node_tree',
  600: 'point',
  601: 'lseg',
  602: 'path',
  603: 'box',
  604: 'polygon',
  628: 'line',
  705: 'unknown',
  718: 'circle',
  774: 'macaddr8',
  829: 'macaddr',
  1033: 'aclitem',
  1186: 'interval',
  1790: 'refcursor',
  2202: 'regprocedure',
  2203: 'regoper',
  2204: 'regoperator',
  2205: 'regclass',
  2206: 'regtype',
  2249: 'record',
  2275: 'cstring',
  2278: 'void',
  2970: 'txid_snapshot',
  3220: 'pg_lsn',
  3614: 'tsvector',
  3615: 'tsquery',
  3734: 'regconfig',
  3769: 'regdictionary',
  3904: 'int4range',
  3906: 'numrange',
  3908: 'tsrange',
  3910: 'tstzrange',
  3912: 'daterange',
  3926: 'int8range',
  4072: 'jsonpath',
  4089: 'regnamespace',
  4096: 'regrole',
  4191: 'regcollation',
  4451: 'int4multirange',
  4532: 'nummultirange',
  4533: 'tsmultirange',
  4534: 'tstzmultirange',
  4535: 'datemultirange',
  4536: 'int8multirange',
  5038: 'pg_snapshot',
  5069: 'xid8',
}

const T = ColumnTypeEnum

/** Column type by OID, the table adapter-pg uses. */
const COLUMN_TYPES: Record<number, ColumnType> = {
  21: T.Int32, // int2
  23: T.Int32, // int4
  20: T.Int64, // int8
  26: T.Int64, // oid
  700: T.Float, // float4
  701: T.Double, // float8
  16: T.Boolean, // bool
  1082: T.Date, // date
  1083: T.Time, // time
  1266: T.Time, // timetz
  1114: T.DateTime, // timestamp
  1184: T.DateTime, // timestamptz
  1700: T.Numeric, // numeric
  790: T.Numeric, // money
  114: T.Json, // json
  3802: T.Json, // jsonb
  2950: T.Uuid, // uuid
  1042: T.Text, // bpchar
  25: T.Text, // text
  1043: T.Text, // varchar
  1560: T.Text, // bit
  1562: T.Text, // varbit
  869: T.Text, // inet
  650: T.Text, // cidr
  142: T.Text, // xml
  19: T.Text, // name
  17: T.Bytes, // bytea
  1005: T.Int32Array, // int2[]
  1007: T.Int32Array, // int4[]
  1021: T.FloatArray, // float4[]
  1022: T.DoubleArray, // float8[]
  1231: T.NumericArray, // numeric[]
  791: T.NumericArray, // money[]
  1000: T.BooleanArray, // bool[]
  1002: T.CharacterArray, // "char"[]
  1014: T.TextArray, // bpchar[]
  1009: T.TextArray, // text[]
  1015: T.TextArray, // varchar[]
  1563: T.TextArray, // varbit[]
  1561: T.TextArray, // bit[]
  1041: T.TextArray, // inet[]
  651: T.TextArray, // cidr[]
  143: T.TextArray, // xml[]
  1182: T.DateArray, // date[]
  1183: T.TimeArray, // time[]
  1115: T.DateTimeArray, // timestamp[]
  1185: T.DateTimeArray, // timestamptz[]
  199: T.JsonArray, // json[]
  3807: T.JsonArray, // jsonb[]
  1001: T.BytesArray, // bytea[]
  2951: T.UuidArray, // uuid[]
  1016: T.Int64Array, // int8[]
  1028: T.Int64Array, // oid[]
}

/** The column type Prisma reads a column of type `oid` as; throws {@link UnsupportedNativeDataType}. */
export function columnTypeOf(oid: number): ColumnType {
  const type = COLUMN_TYPES[oid]
  if (type !== undefined) return type
  if (oid >= FIRST_NORMAL_OBJECT_ID) return T.Text
  throw new UnsupportedNativeDataType(oid)
}

/** Turns one non-NULL value's text into what Prisma expects for its type. */
export type TextParser = (text: string) => unknown

const int = (text: string) => Number.parseInt(text, 10)
const bool = (text: string) =>
  text === 'TRUE' ||
  text === 't' ||
  text === 'true' ||
  text === 'y' ||
  text === 'yes' ||
  text === 'on' ||
  text === '1'
/** A timestamp's text in ISO form, read as UTC. */
const timestamp = (text: string) => `${text.replace(' ', 'T')}+00:00`
/** A timetz's text without its offset, as adapter-pg reads it (Prisma's Time has no zone). */
const timetz = (text: string) => text.replace(/[+-]\d{2}(:\d{2})?(:\d{2})?$/, '')
/** Money's text without its currency sign, as adapter-pg reads it (`$1,000.00` → `1,000.00`). */
const money = (text: string) => text.slice(1)
const list =
  (element: TextParser): TextParser =>
  (text) =>
    parseArrayLiteral(text, element)

/**
 * Parsers by OID. Types without an entry stay text (text, varchar, bpchar, uuid, inet, cidr, bit, varbit,
 * xml, name, numeric, json, jsonb, date, time, int8, enums, …) — as on `pg`, where int8 and numeric are text.
 */
const PARSERS: Record<number, TextParser> = {
  16: bool,
  17: bytea,
  21: int,
  23: int,
  26: int,
  700: Number.parseFloat,
  701: Number.parseFloat,
  790: money,
  1114: timestamp,
  1184: timestamptz,
  1266: timetz,
  1000: list(bool),
  1001: list(bytea),
  1005: list(int),
  1007: list(int),
  1028: list(int),
  1021: list(Number.parseFloat),
  1022: list(Number.parseFloat),
  791: list(money),
  1115: list(timestamp),
  1185: list(timestamptz),
}

/** Which types are arrays whose elements stay text (parsed from the array literal into strings). */
const TEXT_ARRAYS = new Set([
  1231, 1014, 1009, 1015, 1563, 1561, 1041, 651, 143, 1182, 1183, 199, 3807, 2951, 1016,
])

const identity = (text: string) => text

/** The parser for a column of type `oid` (identity for types that stay text). */
export function parserOf(oid: number): TextParser | undefined {
  const parser = PARSERS[oid]
  if (parser) return parser
  if (TEXT_ARRAYS.has(oid)) return list(identity)
  return undefined
}

/**
 * bytea's text (`\x…` hex, or the old escape format) as bytes. A `Uint8Array` (adapter-pg gives a Node
 * `Buffer`, a subclass): Prisma returns both as the same bytes.
 */
export function bytea(text: string): Uint8Array {
  if (text.startsWith('\\x')) {
    const hex = text.slice(2)
    const out = new Uint8Array(hex.length >> 1)
    for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16)
    return out
  }
  const bytes: number[] = []
  for (let i = 0; i < text.length; ) {
    if (text[i] !== '\\') {
      bytes.push(text.charCodeAt(i) & 0xff)
      i++
    } else if (/^[0-7]{3}$/.test(text.slice(i + 1, i + 4))) {
      bytes.push(Number.parseInt(text.slice(i + 1, i + 4), 8))
      i += 4
    } else {
      bytes.push(0x5c)
      i += 2
    }
  }
  return Uint8Array.from(bytes)
}

/**
 * A timestamptz's text as ISO 8601 in UTC with `+00:00`. The session's TimeZone decides the offset
 * PostgreSQL writes; the instant is converted to UTC here so any TimeZone reads right (adapter-pg swaps the
 * offset for `+00:00`, which equals this only under TimeZone UTC). `infinity` and BC values keep adapter-pg's form.
 */
export function timestamptz(text: string): string {
  const match =
    /^(\d{4,})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(\.\d+)?([+-])(\d\d)(?::(\d\d))?(?::(\d\d))?$/.exec(text)
  if (!match) return text.replace(' ', 'T').replace(/[+-]\d{2}(:\d{2})?$/, '+00:00')
  const [, y, mo, d, h, mi, s, fraction = '', sign, oh, om = '00', os = '00'] = match
  const offset = (sign === '-' ? -1 : 1) * (Number(oh) * 3600 + Number(om) * 60 + Number(os))
  if (offset === 0) return `${y}-${mo}-${d}T${h}:${mi}:${s}${fraction}+00:00`
  const utc = new Date(0)
  utc.setUTCFullYear(Number(y), Number(mo) - 1, Number(d))
  utc.setUTCHours(Number(h), Number(mi), Number(s) - offset)
  const pad = (n: number, width = 2) => String(n).padStart(width, '0')
  return (
    `${pad(utc.getUTCFullYear(), 4)}-${pad(utc.getUTCMonth() + 1)}-${pad(utc.getUTCDate())}` +
    `T${pad(utc.getUTCHours())}:${pad(utc.getUTCMinutes())}:${pad(utc.getUTCSeconds())}${fraction}+00:00`
  )
}
