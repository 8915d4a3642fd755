// The HTTP entry's text-only registry must choose, for every OID, the decoder the full registry chooses for a
// text column: the same function for scalars, the same values for arrays (whose decoders are built per OID).
import { describe, expect, it } from 'vitest'
import { createTypeRegistry, Oid, type TypeOptions } from '../types/index.ts'
import { arrayElementOid } from '../types/oids.generated.ts'
import { textTypeRegistry } from './text-types.ts'

const OPTIONS: TypeOptions[] = [
  {},
  { dates: 'string' },
  { dates: 'date' },
  { raw: true },
  { parsers: { 23: Number, 1007: (text) => `custom ${text}`, 1186: (text) => text.length } },
  { raw: true, parsers: { 16: (text) => text === 't' } },
]

/** Every OID edgepg names, and some it does not. */
const OIDS = [...new Set([...Object.values(Oid), ...Object.keys(arrayElementOid).map(Number), 0, 99999])]

/** A text value each scalar decoder reads, by element OID of an array (`'a'` for the string decoders). */
const SAMPLE: Record<number, string> = {
  16: 't',
  17: 'ab',
  20: '-9007199254740993',
  21: '-7',
  23: '42',
  26: '4294967295',
  114: '{"a":1}',
  700: '1.5',
  701: '-0.1',
  1114: '2024-02-29 13:04:05.123',
  1184: '2024-02-29 13:04:05.123+05:30',
  1186: '1 day 02:03:04',
  3802: '[1,"b"]',
}

const utf8 = new TextEncoder()

describe('the text type registry', () => {
  for (const options of OPTIONS) {
    it(`chooses the full registry's text decoder for every OID (${JSON.stringify(options)})`, () => {
      const full = createTypeRegistry(options)
      const text = textTypeRegistry(options)
      const hasParser = (oid: number) => Object.hasOwn(options.parsers ?? {}, oid)
      for (const oid of OIDS) {
        const element = arrayElementOid[oid]
        if (element === undefined && !hasParser(oid)) {
          expect(text.textRange(oid), `oid ${oid}`).toBe(full.textRange(oid))
          continue
        }
        const value = element === undefined ? 'x' : `{${SAMPLE[element] ?? 'a'},NULL}`
        const bytes = utf8.encode(value)
        const decode = (registry: typeof full) => {
          try {
            return registry.text(oid)(bytes)
          } catch (error) {
            return (error as Error).message
          }
        }
        expect(decode(text), `oid ${oid} ${value}`).toEqual(decode(full))
      }
    })
  }

  it('has no binary decoders: every column it reads is text', () => {
    const text = textTypeRegistry()
    expect(text.binaryRange(23)).toBeUndefined()
    expect(text.binary(23)).toBeUndefined()
  })
})
