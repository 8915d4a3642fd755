/**
 * Which decoder reads which type: one table of built-in codecs, arrays derived from their element type, and
 * the user's own text parsers on top. Decoders are built once per OID and memoized.
 */
import type { PgError } from '../errors.ts'
import { decodeUtf8 } from '../utf8.ts'
import { decodeBinaryArray, parseTextArray } from './array.ts'
import {
  binaryBool,
  binaryBytea,
  binaryChar,
  binaryFloat4,
  binaryFloat8,
  binaryInt2,
  binaryInt4,
  binaryInt8,
  binaryJson,
  binaryJsonb,
  binaryOid,
  binaryString,
  binaryUuid,
} from './binary.ts'
import type { RangeDecoder } from './bytes.ts'
import { binaryDate, binaryTimestamp, textTimestamp } from './datetime.ts'
import { binaryInterval } from './interval.ts'
import { textInterval } from './interval-text.ts'
import { binaryNumeric } from './numeric.ts'
import { arrayElementOid } from './oids.generated.ts'
import { followSetting } from './session-settings.ts'
import { textBool, textBytea, textFloat, textInt, textInt8, textJson, textString } from './text.ts'

/** Decodes one column value (never called for NULL). Call it with the value's bytes only. */
export type Decoder = (bytes: Uint8Array) => unknown

/** How values are turned into JS values. */
export interface TypeOptions {
  /** Per-OID text parsers that replace the built-in ones (input: the text value). */
  parsers?: Record<number, (text: string) => unknown>
  /**
   * `'date'` (default): timestamp and timestamptz become a `Date` (±Infinity for infinity), interval an
   * {@link Interval}. `'string'`: date, timestamp, timestamptz and interval keep PostgreSQL's text.
   */
  dates?: 'date' | 'string'
  /**
   * `true`: every value is PostgreSQL's text, a string, never parsed (bytea as `\x…`, arrays as `{…}`);
   * results are always asked in text format. Custom `parsers` still apply. Default false.
   */
  raw?: boolean
}

/** Decoders by type OID, for the two result formats. */
export interface TypeRegistry {
  /** Decoder for a column in text format (never undefined: unknown types → string). */
  text(oid: number): Decoder
  /** Decoder for a column in binary format, or undefined if edgepg has none for this OID (or a custom text parser overrides it). */
  binary(oid: number): Decoder | undefined
  /** `text(oid)` as a {@link RangeDecoder}: rows call it on each value's bytes without a wrapper call. */
  textRange(oid: number): RangeDecoder
  /** `binary(oid)` as a {@link RangeDecoder}. */
  binaryRange(oid: number): RangeDecoder | undefined
  /**
   * Call on every ParameterStatus (startup included). Returns undefined when values still decode correctly
   * under the reported setting (every IntervalStyle, any ISO DateStyle, UTF8); otherwise an error of kind
   * `config` that names the setting and its value and says what is supported: close the connection with it.
   */
  follow(name: string, value: string): PgError | undefined
}

interface Codec {
  text: RangeDecoder
  binary?: RangeDecoder
}

const stringCodec: Codec = { text: textString, binary: binaryString }
const intCodec = (binary: RangeDecoder): Codec => ({ text: textInt, binary })

/**
 * Built-in codecs; timestamp(tz) and interval depend on the `dates` option. Keys are type OIDs written as
 * literals (the name from oids.generated.ts beside each), so a bundle carries the whole `Oid` table only when
 * the user imports it.
 */
const builtins: Record<number, Codec> = {
  16: { text: textBool, binary: binaryBool }, // bool
  17: { text: textBytea, binary: binaryBytea }, // bytea
  18: { text: textString, binary: binaryChar }, // char
  19: stringCodec, // name
  20: { text: textInt8, binary: binaryInt8 }, // int8
  21: intCodec(binaryInt2), // int2
  23: intCodec(binaryInt4), // int4
  26: intCodec(binaryOid), // oid
  25: stringCodec, // text
  114: { text: textJson, binary: binaryJson }, // json
  142: stringCodec, // xml
  700: { text: textFloat, binary: binaryFloat4 }, // float4
  701: { text: textFloat, binary: binaryFloat8 }, // float8
  705: stringCodec, // unknown
  1042: stringCodec, // bpchar
  1043: stringCodec, // varchar
  1082: { text: textString, binary: binaryDate }, // date
  1700: { text: textString, binary: binaryNumeric }, // numeric
  2950: { text: textString, binary: binaryUuid }, // uuid
  3802: { text: textJson, binary: binaryJsonb }, // jsonb
}

const dateCodecs: Record<number, Codec> = {
  1114: { text: textTimestamp, binary: binaryTimestamp }, // timestamp
  1184: { text: textTimestamp, binary: binaryTimestamp }, // timestamptz
  1186: { text: textInterval, binary: binaryInterval }, // interval
}

// In 'string' mode these have no binary decoder: their text depends on session settings (TimeZone,
// IntervalStyle) that a binary value does not carry, so the caller asks for text instead.
const stringDateCodecs: Record<number, Codec> = {
  1114: { text: textString }, // timestamp
  1184: { text: textString }, // timestamptz
  1186: { text: textString }, // interval
}

const BOX_ARRAY = 1020 // _box
const COMMA = 0x2c
const SEMICOLON = 0x3b

/**
 * Creates a registry. Without options it returns one shared default registry.
 *
 * @example
 * const types = createTypeRegistry({ parsers: { [Oid.numeric]: Number }, dates: 'string' })
 * types.text(Oid.numeric)(new TextEncoder().encode('1.5')) // 1.5
 */
export function createTypeRegistry(options?: TypeOptions): TypeRegistry {
  if (
    options === undefined ||
    (options.parsers === undefined && options.dates === undefined && options.raw !== true)
  ) {
    defaultRegistry ??= buildRegistry({})
    return defaultRegistry
  }
  return buildRegistry(options)
}

let defaultRegistry: TypeRegistry | undefined

function buildRegistry(options: TypeOptions): TypeRegistry {
  const parsers = options.parsers ?? {}
  const dates = options.dates === 'string' ? stringDateCodecs : dateCodecs
  const codecOf = (oid: number): Codec | undefined => dates[oid] ?? builtins[oid]
  const hasParser = (oid: number) => Object.hasOwn(parsers, oid)
  const isRaw = options.raw === true

  function textRange(oid: number): RangeDecoder {
    const parser = parsers[oid]
    if (parser !== undefined && hasParser(oid))
      return (bytes, start, end) => parser(decodeUtf8(bytes, start, end))
    if (isRaw) return textString
    const codec = codecOf(oid)
    if (codec !== undefined) return codec.text
    const elementOid = arrayElementOid[oid]
    if (elementOid !== undefined) {
      const element = textRange(elementOid)
      const delimiter = oid === BOX_ARRAY ? SEMICOLON : COMMA
      return (bytes, start, end) => parseTextArray(bytes, start, end, element, delimiter)
    }
    return textString
  }

  function binaryRange(oid: number): RangeDecoder | undefined {
    if (isRaw || hasParser(oid)) return undefined
    const codec = codecOf(oid)
    if (codec !== undefined) return codec.binary
    const elementOid = arrayElementOid[oid]
    if (elementOid === undefined) return undefined
    const element = binaryRange(elementOid)
    if (element === undefined) return undefined
    return (bytes, start, end) => decodeBinaryArray(bytes, start, end, elementOid, element)
  }

  const textRanges = new Map<number, RangeDecoder>()
  const binaryRanges = new Map<number, RangeDecoder | undefined>()
  const textDecoders = new Map<number, Decoder>()
  const binaryDecoders = new Map<number, Decoder | undefined>()
  const registry: TypeRegistry = {
    follow: followSetting,
    textRange(oid) {
      let range = textRanges.get(oid)
      if (range === undefined) {
        range = textRange(oid)
        textRanges.set(oid, range)
      }
      return range
    },
    binaryRange(oid) {
      if (binaryRanges.has(oid)) return binaryRanges.get(oid)
      const range = binaryRange(oid)
      binaryRanges.set(oid, range)
      return range
    },
    text(oid) {
      let decoder = textDecoders.get(oid)
      if (decoder === undefined) {
        const range = registry.textRange(oid)
        decoder = (bytes) => range(bytes, 0, bytes.length)
        textDecoders.set(oid, decoder)
      }
      return decoder
    },
    binary(oid) {
      if (binaryDecoders.has(oid)) return binaryDecoders.get(oid)
      const range = registry.binaryRange(oid)
      const decoder: Decoder | undefined = range && ((bytes) => range(bytes, 0, bytes.length))
      binaryDecoders.set(oid, decoder)
      return decoder
    },
  }
  return registry
}
