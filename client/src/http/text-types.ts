/**
 * The text half of the type registry: which decoder reads which type's text, chosen exactly as
 * `createTypeRegistry(options).textRange(oid)` chooses (registry.ts; text-types.test.ts checks every OID).
 * Over HTTP every value arrives as text, so the binary codecs, the numeric and binary date readers and the
 * session-setting checks are never needed; leaving them out keeps the `http` bundle small.
 */

import { parseTextArray } from '../types/array.ts'
import type { RangeDecoder } from '../types/bytes.ts'
import { textTimestamp } from '../types/datetime.ts'
import { textInterval } from '../types/interval-text.ts'
import { arrayElementOid } from '../types/oids.generated.ts'
import type { TypeOptions, TypeRegistry } from '../types/registry.ts'
import { textBool, textBytea, textFloat, textInt, textInt8, textJson, textString } from '../types/text.ts'
import { decodeUtf8 } from '../utf8.ts'

/** Text decoders by OID, as registry.ts's `builtins` and `dateCodecs` give them. */
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
 * A registry that decodes text results only (every binary lookup answers "none"), for a row decoder whose
 * columns are all in text format.
 */
export function textTypeRegistry(options: TypeOptions = {}): TypeRegistry {
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
