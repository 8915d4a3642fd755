import pgTypes from 'pg-types'
import { describe, expect, it } from 'vitest'
import { hex, text } from './bytes.fixture.ts'
import { Oid } from './oids.generated.ts'
import { createTypeRegistry } from './registry.ts'

const types = createTypeRegistry()
const fromText = (oid: number, value: string) => types.text(oid)(text(value))
const fromBinary = (oid: number, value: string) => types.binary(oid)!(hex(value))

describe('arrays in text format', () => {
  it('reads an empty array', () => {
    expect(fromText(Oid._int4, '{}')).toEqual([])
    expect(fromText(Oid._text, '{}')).toEqual([])
  })

  it('reads NULL elements as null and a quoted "NULL" as the string', () => {
    expect(fromText(Oid._int4, '{1,2,NULL}')).toEqual([1, 2, null])
    expect(fromText(Oid._text, '{NULL,"NULL",null,"null"}')).toEqual([null, 'NULL', null, 'null'])
  })

  it('unescapes quoted elements', () => {
    expect(fromText(Oid._text, '{"a\\"b","","x\\\\y","a,b"," s ","{}",é🎉}')).toEqual([
      'a"b',
      '',
      'x\\y',
      'a,b',
      ' s ',
      '{}',
      'é🎉',
    ])
  })

  it('reads nested arrays with NULLs and quotes', () => {
    expect(fromText(Oid._int2, '{{1,2},{3,NULL}}')).toEqual([
      [1, 2],
      [3, null],
    ])
    expect(fromText(Oid._text, '{{"a\\"",NULL},{"{",","}}')).toEqual([
      ['a"', null],
      ['{', ','],
    ])
    expect(fromText(Oid._int4, '{{{1},{2}},{{3},{4}}}')).toEqual([
      [[1], [2]],
      [[3], [4]],
    ])
  })

  it('drops explicit bounds', () => {
    expect(fromText(Oid._int8, '[0:1]={7,8}')).toEqual([7n, 8n])
    expect(fromText(Oid._int4, '[0:1][-1:0]={{1,2},{3,4}}')).toEqual([
      [1, 2],
      [3, 4],
    ])
  })

  it('decodes elements with the element type', () => {
    expect(fromText(Oid._bool, '{t,f,NULL}')).toEqual([true, false, null])
    expect(fromText(Oid._float8, '{1.5,NaN,-Infinity}')).toEqual([1.5, Number.NaN, Number.NEGATIVE_INFINITY])
    expect(fromText(Oid._float4, '{1.1}')).toEqual([1.1])
    expect(fromText(Oid._numeric, '{1.50,NaN,NULL}')).toEqual(['1.50', 'NaN', null])
    expect(fromText(Oid._varchar, '{ab,"c d"}')).toEqual(['ab', 'c d'])
    expect(fromText(Oid._bpchar, '{"ab "}')).toEqual(['ab '])
    expect(fromText(Oid._bytea, '{"\\\\x01ff",NULL,"\\\\x"}')).toEqual([
      new Uint8Array([1, 255]),
      null,
      new Uint8Array(),
    ])
    expect(fromText(Oid._json, '{"{\\"a\\":1}",null,"[1,\\"x\\"]"}')).toEqual([{ a: 1 }, null, [1, 'x']])
    expect(fromText(Oid._jsonb, '{"{\\"a\\": 1}"}')).toEqual([{ a: 1 }])
    expect(fromText(Oid._uuid, '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}')).toEqual([
      'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    ])
    expect(fromText(Oid._date, '{2024-01-01,infinity,"0044-03-15 BC"}')).toEqual([
      '2024-01-01',
      'infinity',
      '0044-03-15 BC',
    ])
    expect(fromText(Oid._timestamptz, '{"2024-01-01 00:00:00+02",infinity}')).toEqual([
      new Date('2023-12-31T22:00:00Z'),
      Number.POSITIVE_INFINITY,
    ])
    expect(fromText(Oid._timestamp, '{"2024-01-01 00:00:00.25"}')).toEqual([
      new Date('2024-01-01T00:00:00.250Z'),
    ])
    expect(fromText(Oid._interval, '{"1 day",-00:00:01}')).toEqual([
      { months: 0, days: 1, microseconds: 0 },
      { months: 0, days: 0, microseconds: -1_000_000 },
    ])
    expect(fromText(Oid._int8, '{-9223372036854775808,9223372036854775807}')).toEqual([
      -9223372036854775808n,
      9223372036854775807n,
    ])
  })

  it('splits box arrays on semicolons', () => {
    expect(fromText(Oid._box, '{(1,1),(0,0);(2,2),(1,1)}')).toEqual(['(1,1),(0,0)', '(2,2),(1,1)'])
  })

  it('reads arrays of types it has no decoder for as strings', () => {
    expect(fromText(Oid._point, '{"(1,2)",NULL}')).toEqual(['(1,2)', null])
  })

  it('agrees with pg-types on text arrays', () => {
    const parse = pgTypes.getTypeParser(Oid._text as never, 'text') as (value: string) => unknown
    for (const value of [
      '{a,b,"c d",NULL,"e\\"f"}',
      '{{a,b},{c,NULL}}',
      '{"\\\\","{}","",NULL}',
      '{é🎉,"🎉 🎉"}',
      '[2:3]={x,y}',
    ]) {
      expect(fromText(Oid._text, value)).toEqual(parse(value))
    }
  })

  it('rejects text that is not an array', () => {
    expect(() => fromText(Oid._int4, '1,2')).toThrow(/expected an array in text format/)
    expect(() => fromText(Oid._int4, '{1,2')).toThrow(/expected an array/)
    expect(() => fromText(Oid._text, '{"abc}')).toThrow(/expected an array/)
    expect(() => fromText(Oid._int4, '{1}x')).toThrow(/expected an array/)
    expect(() => fromText(Oid._int4, '{1,x}')).toThrow(/expected an integer/)
  })
})

describe('arrays in binary format', () => {
  // Taken from PostgreSQL 18 (`select encode(array_send(value), 'hex')`).
  it('reads a one-dimensional array with a NULL', () => {
    expect(
      fromBinary(
        Oid._int4,
        '00000001 00000001 00000017 00000003 00000001 00000004 00000001 00000004 00000002 ffffffff',
      ),
    ).toEqual([1, 2, null])
  })

  it('reads an empty array', () => {
    expect(fromBinary(Oid._int4, '00000000 00000000 00000017')).toEqual([])
  })

  it('reads a two-dimensional array', () => {
    expect(
      fromBinary(
        Oid._int2,
        '00000002 00000001 00000015 00000002 00000001 00000002 00000001' +
          '00000002 0001 00000002 0002 00000002 0003 ffffffff',
      ),
    ).toEqual([
      [1, 2],
      [3, null],
    ])
  })

  it('drops lower bounds', () => {
    expect(
      fromBinary(
        Oid._int8,
        '00000001 00000000 00000014 00000002 00000000 00000008 0000000000000007 00000008 0000000000000008',
      ),
    ).toEqual([7n, 8n])
  })

  it('decodes text and jsonb elements', () => {
    expect(
      fromBinary(
        Oid._text,
        '00000001 00000001 00000019 00000004 00000001 00000003 612262 00000000 ffffffff 00000002 c3a9',
      ),
    ).toEqual(['a"b', '', null, 'é'])
    expect(
      fromBinary(Oid._jsonb, '00000001 00000000 00000eda 00000001 00000001 00000009 017b2261223a20317d'),
    ).toEqual([{ a: 1 }])
  })

  it('rejects elements of another type', () => {
    expect(() => fromBinary(Oid._int8, '00000001 00000000 00000017 00000000 00000001')).toThrow(
      'expected array elements of type 20, found type 23',
    )
  })

  it('rejects a truncated array', () => {
    expect(() =>
      fromBinary(Oid._int4, '00000001 00000000 00000017 00000002 00000001 00000004 00000001'),
    ).toThrow(/expected another binary array element/)
    expect(() => fromBinary(Oid._int4, '00000001 00000000 00000017 00000001 00000001 00000004 0001')).toThrow(
      'expected 4 bytes for an array element, found 2',
    )
  })
})

describe('binary arrays whose dimensions promise more elements than their bytes hold (found by npm run fuzz)', () => {
  it('rejects dimensions of 2147483647 × 0 at once, without building 2^31 empty arrays', () => {
    // ndim 2, no nulls, int4, dims (2147483647, lb 1) and (0, lb 1), no elements
    expect(() =>
      fromBinary(Oid._int4, '00000002 00000000 00000017 7fffffff 00000001 00000000 00000001'),
    ).toThrow('expected binary array dimensions of 1 to 0 elements, found 2147483647 × 0')
  })

  it('rejects more elements than the value has bytes for (4 bytes each at least)', () => {
    expect(() =>
      fromBinary(Oid._int4, '00000002 00000000 00000017 00010000 00000001 00010000 00000001'),
    ).toThrow('expected binary array dimensions of 1 to 0 elements, found 65536 × 65536')
  })

  it('rejects a negative dimension', () => {
    expect(() => fromBinary(Oid._int4, '00000001 00000000 00000017 ffffffff 00000001')).toThrow(
      'expected binary array dimensions of 1 to 0 elements, found -1',
    )
  })
})
