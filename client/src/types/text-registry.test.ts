// The text decoders chosen per OID and option, which both the full registry and the HTTP entry use.
import { describe, expect, it } from 'vitest'
import { createTypeRegistry, type TypeOptions } from './index.ts'
import { textTypeRegistry } from './text-registry.ts'

const utf8 = new TextEncoder()
const read = (options: TypeOptions, oid: number, text: string) =>
  textTypeRegistry(options).text(oid)(utf8.encode(text))

describe('the text type registry', () => {
  it('decodes the built-in types, arrays of them (box arrays by ;) and anything else as a string', () => {
    expect(read({}, 16, 't')).toBe(true)
    expect(read({}, 20, '-9007199254740993')).toBe(-9007199254740993n)
    expect(read({}, 23, '42')).toBe(42)
    expect(read({}, 701, '-0.1')).toBe(-0.1)
    expect(read({}, 3802, '[1,"b"]')).toEqual([1, 'b'])
    expect(read({}, 17, '\\x00ff')).toEqual(new Uint8Array([0, 255]))
    expect(read({}, 1184, '2024-02-29 13:04:05.123+05:30')).toEqual(new Date('2024-02-29T07:34:05.123Z'))
    expect(read({}, 1186, '1 day 02:03:04')).toEqual({ months: 0, days: 1, microseconds: 7384000000 })
    expect(read({}, 1007, '{1,NULL,3}')).toEqual([1, null, 3])
    expect(read({}, 1020, '{(1,1),(0,0);(2,2),(1,1)}')).toEqual(['(1,1),(0,0)', '(2,2),(1,1)'])
    expect(read({}, 1700, '1.50')).toBe('1.50')
    expect(read({}, 99999, 'anything')).toBe('anything')
  })

  it("keeps dates as text with dates: 'string', everything with raw, and puts the user's parsers first", () => {
    expect(read({ dates: 'string' }, 1184, '2024-02-29 13:04:05+00')).toBe('2024-02-29 13:04:05+00')
    expect(read({ dates: 'string' }, 1186, '1 day')).toBe('1 day')
    expect(read({ dates: 'string' }, 23, '7')).toBe(7)
    expect(read({ raw: true }, 23, '7')).toBe('7')
    expect(read({ raw: true }, 1007, '{1,2}')).toBe('{1,2}')
    expect(read({ raw: true, parsers: { 16: (t) => t === 't' } }, 16, 't')).toBe(true)
    expect(read({ parsers: { 23: (t) => `n${t}` } }, 1007, '{1,2}')).toEqual(['n1', 'n2'])
  })

  it('is the choice the full registry makes for text columns', () => {
    const options: TypeOptions = { parsers: { 23: Number } }
    for (const [oid, text] of [
      [1184, '2024-02-29 13:04:05+00'],
      [1007, '{1,NULL}'],
      [3802, '{"a":1}'],
    ] as const)
      expect(createTypeRegistry(options).text(oid)(utf8.encode(text))).toEqual(read(options, oid, text))
  })

  it('has no binary decoders: every column it reads is text', () => {
    const text = textTypeRegistry()
    expect(text.binaryRange(23)).toBeUndefined()
    expect(text.binary(23)).toBeUndefined()
  })
})
