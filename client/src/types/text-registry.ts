/**
 * The text half of the type registry: which decoder reads which type's text. `createTypeRegistry` (registry.ts)
 * uses it for text columns; the HTTP entry, whose values all arrive as text, uses it alone, so the binary
 * codecs, the numeric and binary date readers and the session-setting checks stay out of its bundle.
 */

import { decodeUtf8 } from '../utf8.ts'
import { parseTextArray } from './array.ts'
import type { RangeDecoder } from './bytes.ts'
import { textTimestamp } from './datetime.ts'
import { textInterval } from './interval-text.ts'
import { arrayElementOid } from './oids.generated.ts'
import type { TypeOptions, TypeRegistry } from './registry.ts'
import { textBool, textBytea, textFloat, textInt, textInt8, textJson, textString } from './text.ts'

/** Text decoders by OID; any other type without an element type is read as a string. */
const textCodecs: Record<number, RangeDecoder> = {
  16: textBool, // bool
  17: textBytea, // bytea
  20: textInt8, // int8
  21: textInt, // int2
  23: textInt, // int4
  26: textInt, // oid
  114: textJson, // json
  700: textFloat, // float4
  701: textFloat, // float8
  3802: textJson, // jsonb
  1114: textTimestamp, // timestamp
  1184: textTimestamp, // timestamptz
  1186: textInterval, // interval
}

/** The OIDs `dates: 'string'` keeps as text. */
const DATE_OIDS = [1114, 1184, 1186]

const BOX_ARRAY = 1020 // _box
const COMMA = 0x2c
const SEMICOLON = 0x3b

/**
 * The text decoder of each OID under `options`, made on demand: the user's parser, a string (`raw`, and the
 * date types with `dates: 'string'`), a built-in decoder, an array of its element type's decoder, or a string.
 */
export function textDecoderChooser(options: TypeOptions = {}): (oid: number) => RangeDecoder {
  const parsers = options.parsers ?? {}
  const isRaw = options.raw === true
  const keepsDates = options.dates === 'string'

  function textRange(oid: number): RangeDecoder {
    const parser = parsers[oid]
    if (parser !== undefined && Object.hasOwn(parsers, oid))
      return (bytes, start, end) => parser(decodeUtf8(bytes, start, end))
    if (isRaw || (keepsDates && DATE_OIDS.includes(oid))) return textString
    const codec = textCodecs[oid]
    if (codec !== undefined) return codec
    const elementOid = arrayElementOid[oid]
    if (elementOid !== undefined) {
      const element = textRange(elementOid)
      const delimiter = oid === BOX_ARRAY ? SEMICOLON : COMMA
      return (bytes, start, end) => parseTextArray(bytes, start, end, element, delimiter)
    }
    return textString
  }
  return textRange
}

/**
 * A registry that decodes text results only (every binary lookup answers "none"), for a row decoder whose
 * columns are all in text format.
 */
export function textTypeRegistry(options: TypeOptions = {}): TypeRegistry {
  const textRange = textDecoderChooser(options)
  return {
    textRange,
    text(oid) {
      const range = textRange(oid)
      return (bytes) => range(bytes, 0, bytes.length)
    },
    binaryRange: () => undefined,
    binary: () => undefined,
    follow: () => undefined,
  }
}
