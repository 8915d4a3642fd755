import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isPgError } from '../errors.ts'
import { text } from './bytes.fixture.ts'
import { encodeParam } from './encode.ts'
import { Oid } from './oids.generated.ts'
import { createTypeRegistry } from './registry.ts'

const types = createTypeRegistry()
/** Reads an array literal back with edgepg's own text array parser. */
const parseArray = (oid: number, literal: string | Uint8Array | null) =>
  types.text(oid)(text(literal as string))

function encodeErrorOf(value: unknown): Error {
  try {
    encodeParam(value)
  } catch (error) {
    expect(isPgError(error, 'encode')).toBe(true)
    return error as Error
  }
  throw new Error('expected encodeParam to throw')
}

describe('encodeParam scalars', () => {
  it('sends null and undefined as NULL', () => {
    expect(encodeParam(null)).toBe(null)
    expect(encodeParam(undefined)).toBe(null)
  })

  it('sends strings as they are', () => {
    expect(encodeParam('héllo 🎉')).toBe('héllo 🎉')
    expect(encodeParam('')).toBe('')
  })

  it('prints numbers, including NaN and the infinities', () => {
    expect(encodeParam(42)).toBe('42')
    expect(encodeParam(-1.5)).toBe('-1.5')
    expect(encodeParam(1e300)).toBe('1e+300')
    expect(encodeParam(Number.NaN)).toBe('NaN')
    expect(encodeParam(Number.POSITIVE_INFINITY)).toBe('Infinity')
    expect(encodeParam(Number.NEGATIVE_INFINITY)).toBe('-Infinity')
  })

  it('keeps the sign of negative zero, alone and in arrays', () => {
    expect(encodeParam(-0)).toBe('-0')
    expect(encodeParam(0)).toBe('0')
    expect(encodeParam([-0, 0])).toBe('{-0,0}')
  })

  it('prints bigints exactly', () => {
    expect(encodeParam(-9223372036854775808n)).toBe('-9223372036854775808')
    expect(encodeParam(123456789012345678901234567890n)).toBe('123456789012345678901234567890')
  })

  it('sends booleans as t and f', () => {
    expect(encodeParam(true)).toBe('t')
    expect(encodeParam(false)).toBe('f')
  })

  it('sends a Date as ISO 8601 in UTC', () => {
    expect(encodeParam(new Date('2024-02-29T13:04:05.123Z'))).toBe('2024-02-29T13:04:05.123Z')
    expect(encodeParam(new Date('0005-01-01T00:00:00Z'))).toBe('0005-01-01T00:00:00.000Z')
  })

  it('writes years outside 1–9999 the way PostgreSQL reads them', () => {
    expect(encodeParam(new Date(Date.UTC(-43, 2, 15, 12)))).toBe('0044-03-15T12:00:00.000Z BC')
    expect(encodeParam(new Date('0000-06-01T00:00:00Z'))).toBe('0001-06-01T00:00:00.000Z BC')
    expect(encodeParam(new Date('+010000-01-01T00:00:00Z'))).toBe('10000-01-01T00:00:00.000Z')
  })

  it('rejects an invalid Date', () => {
    expect(encodeErrorOf(new Date('nope')).message).toMatch(/cannot encode an invalid Date/)
  })

  it('sends bytes as a Uint8Array for binary format', () => {
    const bytes = new Uint8Array([1, 2, 3])
    expect(encodeParam(bytes)).toBe(bytes)
    expect(encodeParam(new Uint8Array([9, 8]).buffer)).toEqual(new Uint8Array([9, 8]))
    const backing = new Uint8Array([0, 1, 2, 3, 4, 5])
    expect(encodeParam(new DataView(backing.buffer, 2, 3))).toEqual(new Uint8Array([2, 3, 4]))
    expect(encodeParam(new Uint16Array([0x0102]))).toEqual(new Uint8Array(new Uint16Array([0x0102]).buffer))
  })

  it('sends an interval as months, days and microseconds', () => {
    expect(encodeParam({ months: 14, days: -3, microseconds: 14_706_789_000 })).toBe(
      '14 mons -3 days 14706789000 microseconds',
    )
  })

  it('sends other objects as JSON', () => {
    expect(encodeParam({ a: [1, 'x', null] })).toBe('{"a":[1,"x",null]}')
    expect(encodeParam({ months: 1, days: 2 })).toBe('{"months":1,"days":2}')
    expect(encodeParam({ months: 1, days: 2, microseconds: 3, note: 'x' })).toBe(
      '{"months":1,"days":2,"microseconds":3,"note":"x"}',
    )
  })

  it('rejects functions and symbols naming their type', () => {
    expect(encodeErrorOf(() => 1).message).toMatch(/cannot encode a function as a query parameter/)
    expect(encodeErrorOf(Symbol('s')).message).toMatch(/cannot encode a symbol as a query parameter/)
  })

  it('rejects objects JSON cannot represent', () => {
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(encodeErrorOf(cyclic).message).toMatch(/cannot encode an object as json/)
    expect(encodeErrorOf({ n: 1n }).message).toMatch(/cannot encode an object as json/)
  })
})

describe('encodeParam arrays', () => {
  it('writes numbers, booleans and NULLs bare', () => {
    expect(encodeParam([1, 2.5, null, undefined, -3])).toBe('{1,2.5,NULL,NULL,-3}')
    expect(encodeParam([true, false])).toBe('{t,f}')
    expect(encodeParam([1n, Number.NaN, Number.NEGATIVE_INFINITY])).toBe('{1,NaN,-Infinity}')
    expect(encodeParam([])).toBe('{}')
  })

  it('quotes strings only when needed and escapes quotes and backslashes', () => {
    expect(
      encodeParam(['a', 'b c', '', 'NULL', 'null', 'x,y', 'q"q', 'b\\s', '{', '}', 'tab\t', 'é🎉']),
    ).toBe('{a,"b c","","NULL","null","x,y","q\\"q","b\\\\s","{","}","tab\t",é🎉}')
  })

  it('writes nested arrays as dimensions', () => {
    expect(
      encodeParam([
        [1, 2],
        [3, null],
      ]),
    ).toBe('{{1,2},{3,NULL}}')
  })

  it('writes bytes as escaped hex, dates as ISO and objects as quoted JSON', () => {
    expect(encodeParam([new Uint8Array([0, 255]), new Uint8Array(0)])).toBe('{"\\\\x00ff","\\\\x"}')
    expect(encodeParam([new Date('2024-01-01T00:00:00Z')])).toBe('{2024-01-01T00:00:00.000Z}')
    expect(encodeParam([new Date(Date.UTC(-43, 2, 15))])).toBe('{"0044-03-15T00:00:00.000Z BC"}')
    expect(encodeParam([{ a: 'x,"y"' }])).toBe('{"{\\"a\\":\\"x,\\\\\\"y\\\\\\"\\"}"}')
    expect(encodeParam([{ months: 1, days: 2, microseconds: 3 }])).toBe('{"1 mons 2 days 3 microseconds"}')
  })

  it('reads back through the text array parser', () => {
    const strings = ['a', 'b c', '', 'NULL', 'x,y', 'q"q', 'b\\s', '{}', ' lead', 'trail ', 'é🎉', null]
    expect(parseArray(Oid._text, encodeParam(strings))).toEqual(strings)
    const nested = [
      ['a"', null],
      ['\\', ','],
    ]
    expect(parseArray(Oid._text, encodeParam(nested))).toEqual(nested)
    const bytes = [new Uint8Array([0, 1, 254, 255]), null]
    expect(parseArray(Oid._bytea, encodeParam(bytes))).toEqual(bytes)
    // strings are sent as they are, so a JSON string element is written as JSON text by the caller
    expect(parseArray(Oid._jsonb, encodeParam([{ a: 'x,"y"\\' }, null, '"str"']))).toEqual([
      { a: 'x,"y"\\' },
      null,
      'str',
    ])
    const numbers = [1, -2147483648, null]
    expect(parseArray(Oid._int4, encodeParam(numbers))).toEqual(numbers)
  })

  it('round-trips any array of strings through the text array parser', () => {
    fc.assert(
      fc.property(fc.array(fc.option(fc.string({ unit: 'grapheme' }), { nil: null })), (values) => {
        expect(parseArray(Oid._text, encodeParam(values))).toEqual(values)
      }),
    )
  })

  it('rejects functions inside arrays and arrays that contain themselves', () => {
    expect(encodeErrorOf([1, () => 2]).message).toMatch(/cannot encode a function in an array parameter/)
    const cyclic: unknown[] = [1]
    cyclic.push(cyclic)
    expect(encodeErrorOf(cyclic).message).toMatch(/cannot encode an array that contains itself/)
  })
})
