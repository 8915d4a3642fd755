import { describe, expect, it } from 'vitest'
import { isPgError } from '../errors.ts'
import { hex } from './bytes.fixture.ts'
import { Oid } from './oids.generated.ts'
import { createTypeRegistry } from './registry.ts'

// Binary values below were taken from PostgreSQL 18 (`select encode(<type>send(value), 'hex')`).
const types = createTypeRegistry()
const decode = (oid: number, value: string) => {
  const decoder = types.binary(oid)
  if (decoder === undefined) throw new Error(`no binary decoder for ${oid}`)
  return decoder(hex(value))
}

describe('binary format scalars', () => {
  it('reads bool from one byte', () => {
    expect(decode(Oid.bool, '01')).toBe(true)
    expect(decode(Oid.bool, '00')).toBe(false)
  })

  it('reads int2 and int4 at their bounds', () => {
    expect(decode(Oid.int2, '8000')).toBe(-32768)
    expect(decode(Oid.int2, '7fff')).toBe(32767)
    expect(decode(Oid.int2, 'ffff')).toBe(-1)
    expect(decode(Oid.int4, '80000000')).toBe(-2147483648)
    expect(decode(Oid.int4, '7fffffff')).toBe(2147483647)
    expect(decode(Oid.int4, 'fffffffe')).toBe(-2)
  })

  it('reads oid as unsigned', () => {
    expect(decode(Oid.oid, 'ffffffff')).toBe(4294967295)
    expect(decode(Oid.oid, '00000017')).toBe(23)
  })

  it('reads int8 as a bigint across its whole range', () => {
    expect(decode(Oid.int8, '8000000000000000')).toBe(-9223372036854775808n)
    expect(decode(Oid.int8, '7fffffffffffffff')).toBe(9223372036854775807n)
    expect(decode(Oid.int8, 'ffffffffffffffff')).toBe(-1n)
    expect(decode(Oid.int8, '0000000000000000')).toBe(0n)
    expect(decode(Oid.int8, '001fffffffffffff')).toBe(9007199254740991n)
    expect(decode(Oid.int8, '0020000000000001')).toBe(9007199254740993n)
    expect(decode(Oid.int8, 'ffe0000000000000')).toBe(-9007199254740992n)
    expect(decode(Oid.int8, 'ffdfffffffffffff')).toBe(-9007199254740993n)
  })

  it('rejects a fixed-size value of the wrong size', () => {
    expect(() => decode(Oid.int4, '000001')).toThrow('expected 4 bytes for binary int4, found 3')
    try {
      decode(Oid.int8, '00')
    } catch (error) {
      expect(isPgError(error, 'encode')).toBe(true)
    }
  })

  it('reads float8 including NaN, infinities and -0', () => {
    expect(decode(Oid.float8, '3ff8000000000000')).toBe(1.5)
    expect(decode(Oid.float8, '400921fb54442d18')).toBe(Math.PI)
    expect(decode(Oid.float8, '7ff8000000000000')).toBeNaN()
    expect(decode(Oid.float8, '7ff0000000000000')).toBe(Number.POSITIVE_INFINITY)
    expect(decode(Oid.float8, 'fff0000000000000')).toBe(Number.NEGATIVE_INFINITY)
    expect(Object.is(decode(Oid.float8, '8000000000000000'), -0)).toBe(true)
    expect(decode(Oid.float8, '0000000000000001')).toBe(5e-324)
  })

  it('reads float4 as the shortest decimal PostgreSQL prints', () => {
    expect(decode(Oid.float4, '3f8ccccd')).toBe(1.1)
    expect(decode(Oid.float4, '7f7fffff')).toBe(3.4028235e38)
    expect(decode(Oid.float4, '00000001')).toBe(1e-45)
    expect(decode(Oid.float4, '3f800000')).toBe(1)
    expect(decode(Oid.float4, 'c2f6e979')).toBe(-123.456)
    expect(decode(Oid.float4, '7fc00000')).toBeNaN()
    expect(decode(Oid.float4, 'ff800000')).toBe(Number.NEGATIVE_INFINITY)
  })

  it('reads text-like types as UTF-8', () => {
    for (const oid of [Oid.text, Oid.varchar, Oid.bpchar, Oid.name, Oid.unknown, Oid.xml]) {
      expect(decode(oid, '68c3a96c6c6f20f09f8e89')).toBe('héllo 🎉')
    }
    expect(decode(Oid.text, '')).toBe('')
  })

  it('copies bytea out of the message buffer', () => {
    const view = hex('00ff10')
    const value = types.binary(Oid.bytea)!(view) as Uint8Array
    expect(value).toEqual(new Uint8Array([0, 255, 16]))
    view[0] = 7
    expect(value[0]).toBe(0)
  })

  it('parses json, and jsonb after its version byte', () => {
    expect(decode(Oid.json, '7b2261223a317d')).toEqual({ a: 1 })
    expect(decode(Oid.jsonb, '017b2261223a20317d')).toEqual({ a: 1 })
  })

  it('rejects jsonb with an unknown version', () => {
    expect(() => decode(Oid.jsonb, '027b7d')).toThrow('expected jsonb version 1 in binary format, found 2')
  })

  it('reads uuid as lower-case hex with dashes', () => {
    expect(decode(Oid.uuid, 'A0EEBC999C0B4EF8BB6D6BB9BD380A11')).toBe('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')
  })
})

describe('binary numeric', () => {
  // [text PostgreSQL prints, numeric_send bytes]
  const cases: [string, string][] = [
    ['1.50', '0002 0000 0000 0002 0001 1388'],
    ['NaN', '0000 0000 c000 0000'],
    ['Infinity', '0000 0000 d000 0020'],
    ['-Infinity', '0000 0000 f000 0020'],
    ['0', '0000 0000 0000 0000'],
    ['0.000', '0000 0000 0000 0003'],
    ['-0.001', '0001 ffff 4000 0003 000a'],
    [
      '123456789012345678901234567890.123456789',
      '000b 0007 0000 0009 000c 0d80 1ed2 04d2 162e 2334 0d80 1ed2 04d2 162e 2328',
    ],
    ['10000', '0001 0001 0000 0000 0001'],
    ['0.00000000000000000001', '0001 fffb 0000 0014 0001'],
    ['-99999999.00000001', '0004 0001 4000 0008 270f 270f 0000 0001'],
    ['100000000000000000000', '0001 0005 0000 0000 0001'],
    ['12345.68', '0003 0001 0000 0002 0001 0929 1a90'],
  ]

  for (const [expected, bytes] of cases) {
    it(`prints ${expected} as PostgreSQL does`, () => {
      expect(decode(Oid.numeric, bytes)).toBe(expected)
    })
  }

  it('rejects a numeric whose digit count does not match its length', () => {
    expect(() => decode(Oid.numeric, '0002 0000 0000 0002 0001')).toThrow(/expected a binary numeric/)
    expect(() => decode(Oid.numeric, '0000')).toThrow('expected at least 8 bytes for binary numeric, found 2')
  })
})

describe('binary "char"', () => {
  it('prints a byte the way charout does in text: ASCII as itself, 0 as empty, the rest as \\ooo', () => {
    expect(decode(Oid.char, '61')).toBe('a')
    expect(decode(Oid.char, '00')).toBe('')
    expect(decode(Oid.char, 'c3')).toBe('\\303')
    expect(decode(Oid.char, '80')).toBe('\\200')
    expect(decode(Oid.char, 'ff')).toBe('\\377')
    expect(decode(Oid.char, '5c')).toBe('\\')
    expect(decode(Oid.char, '7f')).toBe('\x7f')
  })

  it('rejects a value that is not exactly one byte', () => {
    expect(() => decode(Oid.char, '')).toThrow('expected 1 byte for binary "char", found 0')
    expect(() => decode(Oid.char, '6162')).toThrow('expected 1 byte for binary "char", found 2')
  })

  it('decodes "char"[] elements the same way', () => {
    // array_send of '{a,"\\303"}'::"char"[] is not producible from text; build it: 1 dim, no nulls, oid 18
    const array = types.binary(1002)!
    const bytes = Uint8Array.from([
      0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 18, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1, 0x61, 0, 0, 0, 1, 0xc3,
    ])
    expect(array(bytes)).toEqual(['a', '\\303'])
  })
})
