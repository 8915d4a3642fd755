import { describe, expect, it } from 'vitest'
import { isPgError } from '../errors.ts'
import { text } from './bytes.fixture.ts'
import { Oid } from './oids.generated.ts'
import { createTypeRegistry } from './registry.ts'

const types = createTypeRegistry()
const decode = (oid: number, value: string) => types.text(oid)(text(value))

describe('text format scalars', () => {
  it('reads bool as t and f', () => {
    expect(decode(Oid.bool, 't')).toBe(true)
    expect(decode(Oid.bool, 'f')).toBe(false)
  })

  it('rejects a bool that is neither t nor f with an encode error', () => {
    expect(() => decode(Oid.bool, 'x')).toThrow(/expected a bool in text format, found "x"/)
    try {
      decode(Oid.bool, 'true')
    } catch (error) {
      expect(isPgError(error, 'encode')).toBe(true)
    }
  })

  it('reads int2 and int4 at their bounds', () => {
    expect(decode(Oid.int2, '-32768')).toBe(-32768)
    expect(decode(Oid.int2, '32767')).toBe(32767)
    expect(decode(Oid.int4, '-2147483648')).toBe(-2147483648)
    expect(decode(Oid.int4, '2147483647')).toBe(2147483647)
    expect(decode(Oid.int4, '0')).toBe(0)
    expect(Object.is(decode(Oid.int4, '-0'), -0)).toBe(true)
  })

  it('reads oid as an unsigned number', () => {
    expect(decode(Oid.oid, '4294967295')).toBe(4294967295)
  })

  it('rejects integers with stray characters', () => {
    expect(() => decode(Oid.int4, '12a')).toThrow(/expected an integer in text format, found "12a"/)
    expect(() => decode(Oid.int4, '-')).toThrow(/integer/)
    expect(() => decode(Oid.int4, '')).toThrow(/integer/)
  })

  it('reads int8 as a bigint across its whole range', () => {
    expect(decode(Oid.int8, '-9223372036854775808')).toBe(-9223372036854775808n)
    expect(decode(Oid.int8, '9223372036854775807')).toBe(9223372036854775807n)
    expect(decode(Oid.int8, '0')).toBe(0n)
    expect(decode(Oid.int8, '-1')).toBe(-1n)
    expect(decode(Oid.int8, '999999999999999')).toBe(999999999999999n)
    expect(decode(Oid.int8, '1000000000000000')).toBe(1000000000000000n)
    expect(decode(Oid.int8, '9007199254740993')).toBe(9007199254740993n)
  })

  it('rejects int8 text that is not a number', () => {
    expect(() => decode(Oid.int8, '12345678901234567x')).toThrow(/bigint/)
    expect(() => decode(Oid.int8, '12345678901234567890')).toThrow(/bigint/)
  })

  it('reads floats as printed, including NaN and infinities', () => {
    expect(decode(Oid.float8, '1.5')).toBe(1.5)
    expect(decode(Oid.float8, '-0.1')).toBe(-0.1)
    expect(decode(Oid.float8, '3.141592653589793')).toBe(Math.PI)
    expect(decode(Oid.float8, '1e+300')).toBe(1e300)
    expect(decode(Oid.float8, '5e-324')).toBe(5e-324)
    expect(decode(Oid.float8, '1.7976931348623157e+308')).toBe(Number.MAX_VALUE)
    expect(decode(Oid.float8, '0.30000000000000004')).toBe(0.1 + 0.2)
    expect(decode(Oid.float8, '123456789012345680000')).toBe(123456789012345680000)
    expect(decode(Oid.float8, '1.2e-07')).toBe(1.2e-7)
    expect(decode(Oid.float8, 'NaN')).toBeNaN()
    expect(decode(Oid.float8, 'Infinity')).toBe(Number.POSITIVE_INFINITY)
    expect(decode(Oid.float8, '-Infinity')).toBe(Number.NEGATIVE_INFINITY)
    expect(Object.is(decode(Oid.float8, '-0'), -0)).toBe(true)
  })

  it('reads float4 as the number PostgreSQL prints, not the widened float', () => {
    expect(decode(Oid.float4, '1.1')).toBe(1.1)
    expect(decode(Oid.float4, '3.4028235e+38')).toBe(3.4028235e38)
  })

  it('agrees with Number on many generated float8 texts', () => {
    for (let i = 0; i < 2000; i++) {
      const value = (Math.random() - 0.5) * 10 ** Math.floor(Math.random() * 40 - 20)
      const printed = String(value)
      expect(decode(Oid.float8, printed)).toBe(Number(printed))
    }
  })

  it('rejects a float that is not a number', () => {
    expect(() => decode(Oid.float8, 'abc')).toThrow(/expected a float/)
    expect(() => decode(Oid.float8, '1e')).toThrow(/expected a float/)
  })

  it('keeps numeric as the exact string', () => {
    expect(decode(Oid.numeric, '123456789012345678901234567890.123456789')).toBe(
      '123456789012345678901234567890.123456789',
    )
    expect(decode(Oid.numeric, '1.50')).toBe('1.50')
    expect(decode(Oid.numeric, 'NaN')).toBe('NaN')
    expect(decode(Oid.numeric, '-Infinity')).toBe('-Infinity')
  })

  it('reads text-like types as strings, emoji included', () => {
    for (const oid of [Oid.text, Oid.varchar, Oid.bpchar, Oid.name, Oid.char, Oid.unknown, Oid.xml]) {
      expect(decode(oid, 'héllo 🎉 wörld, a longer value past the short path')).toBe(
        'héllo 🎉 wörld, a longer value past the short path',
      )
    }
    expect(decode(Oid.text, '')).toBe('')
    expect(decode(Oid.text, '🎉')).toBe('🎉')
  })

  it('reads uuid and date as strings', () => {
    expect(decode(Oid.uuid, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')).toBe(
      'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    )
    expect(decode(Oid.date, '0044-03-15 BC')).toBe('0044-03-15 BC')
    expect(decode(Oid.date, 'infinity')).toBe('infinity')
  })

  it('parses json and jsonb', () => {
    expect(decode(Oid.json, '{"a":[1,2,{"b":null}]}')).toEqual({ a: [1, 2, { b: null }] })
    expect(decode(Oid.jsonb, '"s"')).toBe('s')
    expect(decode(Oid.jsonb, 'null')).toBe(null)
  })

  it('rejects invalid json with an encode error that keeps the cause', () => {
    try {
      decode(Oid.json, '{bad')
      expect.unreachable()
    } catch (error) {
      expect(isPgError(error, 'encode')).toBe(true)
      expect((error as Error).cause).toBeInstanceOf(SyntaxError)
    }
  })

  it('reads bytea in hex format', () => {
    expect(decode(Oid.bytea, '\\x00ff10Ab')).toEqual(new Uint8Array([0, 255, 16, 0xab]))
    expect(decode(Oid.bytea, '\\x')).toEqual(new Uint8Array(0))
  })

  it('reads bytea in the legacy escape format', () => {
    expect(decode(Oid.bytea, 'a\\\\b\\000\\377z')).toEqual(new Uint8Array([0x61, 0x5c, 0x62, 0, 255, 0x7a]))
    expect(decode(Oid.bytea, '')).toEqual(new Uint8Array(0))
  })

  it('rejects malformed bytea', () => {
    expect(() => decode(Oid.bytea, '\\x0')).toThrow(/bytea/)
    expect(() => decode(Oid.bytea, '\\xzz')).toThrow(/bytea/)
    expect(() => decode(Oid.bytea, 'a\\9')).toThrow(/bytea/)
  })
})

describe('text float8 is correctly rounded', () => {
  it('reads digits that overflow 2^53 before scaling as Number() does', () => {
    for (const value of [
      '900.7199254740993',
      '9007199254740993',
      '-9007199254740993',
      '9007199254740992.5',
      '0.9007199254740993',
      '90071992547409.93',
      '9007199254740993e-5',
    ]) {
      expect(decode(Oid.float8, value), value).toBe(Number(value))
    }
  })

  it('keeps the fast path exact below 2^53', () => {
    for (const value of ['9007199254740991', '900.7199254740991', '1.5', '-0.1', '123e-22', '4e22']) {
      expect(decode(Oid.float8, value), value).toBe(Number(value))
    }
    expect(Object.is(decode(Oid.float8, '-0'), -0)).toBe(true)
  })
})
