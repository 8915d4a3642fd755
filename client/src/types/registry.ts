/**
 * Which decoder reads which type: text decoders as ./text-registry.ts chooses them, a table of built-in binary
 * codecs, arrays derived from their element type, and the user's own text parsers on top. Decoders are built once per OID and memoized.
 */
import type { PgError } from '../errors.ts'
import { decodeBinaryArray } from './array.ts'
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
import { binaryDate, binaryTimestamp } from './datetime.ts'
import { binaryInterval } from './interval.ts'
import { textJsonFast } from './json.ts'
import { binaryNumeric } from './numeric.ts'
import { arrayElementOid } from './oids.generated.ts'
import { followSetting } from './session-settings.ts'
import { textJson } from './text.ts'
import { textDecoderChooser } from './text-registry.ts'

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

/**
 * Built-in binary decoders. Keys are type OIDs written as literals (the name from oids.generated.ts beside
 * each), so a bundle carries the whole `Oid` table only when the user imports it. Text decoders are chosen by
 * ./text-registry.ts, which the HTTP entry uses alone.
 */
const binaryCodecs: Record<number, RangeDecoder> = {
  16: binaryBool, // bool
  17: binaryBytea, // bytea
  18: binaryChar, // char
  19: binaryString, // name
  20: binaryInt8, // int8
  21: binaryInt2, // int2
  23: binaryInt4, // int4
  26: binaryOid, // oid
  25: binaryString, // text
  114: binaryJson, // json
  142: binaryString, // xml
  700: binaryFloat4, // float4
  701: binaryFloat8, // float8
  705: binaryString, // unknown
  1042: binaryString, // bpchar
  1043: binaryString, // varchar
  1082: binaryDate, // date
  1700: binaryNumeric, // numeric
  2950: binaryUuid, // uuid
  3802: binaryJsonb, // jsonb
}

/**
 * timestamp, timestamptz and interval: in `dates: 'string'` mode they have no binary decoder, as their text
 * depends on session settings (TimeZone, IntervalStyle) that a binary value does not carry, so the caller
 * asks for text instead.
 */
const binaryDates: Record<number, RangeDecoder> = {
  1114: binaryTimestamp, // timestamp
  1184: binaryTimestamp, // timestamptz
  1186: binaryInterval, // interval
}

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

const registries = new WeakMap<TypeOptions, TypeRegistry>()

/**
 * The registry of `options`, built once per options object: a query's own `types` (keep the object, as an
 * integration does with a constant, and its decoders are built once).
 */
export function typeRegistryOf(options: TypeOptions): TypeRegistry {
  let registry = registries.get(options)
  if (registry === undefined) {
    registry = createTypeRegistry(options)
    registries.set(options, registry)
  }
  return registry
}

function buildRegistry(options: TypeOptions): TypeRegistry {
  const parsers = options.parsers ?? {}
  const isRaw = options.raw === true
  const keepsDates = options.dates === 'string'
  const chooseText = textDecoderChooser(options)
  // json and jsonb read from their bytes where the text-only chooser (the HTTP entry's) gives textJson
  const textRange = (oid: number): RangeDecoder => {
    const range = chooseText(oid)
    return range === textJson ? textJsonFast : range
  }

  function binaryRange(oid: number): RangeDecoder | undefined {
    if (isRaw || Object.hasOwn(parsers, oid)) return undefined
    if (Object.hasOwn(binaryDates, oid)) return keepsDates ? undefined : binaryDates[oid]
    const codec = binaryCodecs[oid]
    if (codec !== undefined) return codec
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
