import pgTypes from 'pg-types'
import { describe, expect, it } from 'vitest'
import { isPgError } from '../errors.ts'
import { hex, text } from './bytes.fixture.ts'
import { Oid } from './oids.generated.ts'
import { createTypeRegistry } from './registry.ts'

const types = createTypeRegistry()
const fromText = (oid: number, value: string) => types.text(oid)(text(value))
const fromBinary = (oid: number, value: string) => types.binary(oid)!(hex(value))
const iso = (value: unknown) => (value as Date).toISOString()

describe('timestamptz in text format', () => {
  it('reads offsets of hours, minutes and seconds', () => {
    expect(iso(fromText(Oid.timestamptz, '2024-02-29 13:04:05+00'))).toBe('2024-02-29T13:04:05.000Z')
    expect(iso(fromText(Oid.timestamptz, '2024-02-29 13:04:05+05:30'))).toBe('2024-02-29T07:34:05.000Z')
    expect(iso(fromText(Oid.timestamptz, '1900-01-01 00:00:00-03:06:28'))).toBe('1900-01-01T03:06:28.000Z')
    expect(iso(fromText(Oid.timestamptz, '2024-01-01 00:00:00-10'))).toBe('2024-01-01T10:00:00.000Z')
  })

  it('keeps milliseconds and truncates the microseconds a Date cannot hold', () => {
    expect(iso(fromText(Oid.timestamptz, '2024-02-29 13:04:05.123456+00'))).toBe('2024-02-29T13:04:05.123Z')
    expect(iso(fromText(Oid.timestamptz, '2024-02-29 13:04:05.5+00'))).toBe('2024-02-29T13:04:05.500Z')
    expect(iso(fromText(Oid.timestamptz, '2024-02-29 13:04:05.999999+00'))).toBe('2024-02-29T13:04:05.999Z')
    expect(iso(fromText(Oid.timestamp, '1969-12-31 23:59:59.9995'))).toBe('1969-12-31T23:59:59.999Z')
  })

  it('reads BC years, years 0 to 99 and years past 9999', () => {
    expect(iso(fromText(Oid.timestamptz, '0044-03-15 12:00:00+00 BC'))).toBe('-000043-03-15T12:00:00.000Z')
    expect(iso(fromText(Oid.timestamptz, '0001-01-01 00:00:00+00 BC'))).toBe('0000-01-01T00:00:00.000Z')
    expect(iso(fromText(Oid.timestamptz, '0099-12-31 23:59:59+00'))).toBe('0099-12-31T23:59:59.000Z')
    expect(iso(fromText(Oid.timestamptz, '10000-01-01 00:00:00+00'))).toBe('+010000-01-01T00:00:00.000Z')
  })

  it('turns infinity into the numbers ±Infinity', () => {
    expect(fromText(Oid.timestamptz, 'infinity')).toBe(Number.POSITIVE_INFINITY)
    expect(fromText(Oid.timestamptz, '-infinity')).toBe(Number.NEGATIVE_INFINITY)
    expect(fromText(Oid.timestamp, 'infinity')).toBe(Number.POSITIVE_INFINITY)
  })

  it('agrees with pg-types on timestamptz values', () => {
    const parse = pgTypes.getTypeParser(pgTypes.builtins.TIMESTAMPTZ, 'text')
    for (const value of [
      '2024-02-29 13:04:05.123+00',
      '2024-02-29 13:04:05+05:30',
      '1999-12-31 23:59:59.5-08',
      '1900-01-01 00:00:00-03:06:28',
      '0044-03-15 12:00:00+00 BC',
      '0005-06-07 08:09:10+00',
      '275000-01-01 00:00:00+00',
    ]) {
      expect(iso(fromText(Oid.timestamptz, value))).toBe((parse(value) as Date).toISOString())
    }
  })

  it('reads a timestamp without time zone as UTC', () => {
    expect(iso(fromText(Oid.timestamp, '2024-02-29 13:04:05.123456'))).toBe('2024-02-29T13:04:05.123Z')
    expect(iso(fromText(Oid.timestamp, '0044-03-15 12:00:00.5 BC'))).toBe('-000043-03-15T12:00:00.500Z')
  })

  it('rejects text in another DateStyle with an encode error', () => {
    expect(() => fromText(Oid.timestamptz, 'Thu Feb 29 13:04:05 2024 UTC')).toThrow(/expected a timestamp/)
    expect(() => fromText(Oid.timestamptz, '2024-02-29')).toThrow(/expected a timestamp/)
    expect(() => fromText(Oid.timestamptz, '2024-02-29 13:04:05+00 AD')).toThrow(/expected a timestamp/)
    expect(() => fromText(Oid.timestamptz, '2024-0x-29 13:04:05')).toThrow(/expected a timestamp/)
  })
})

describe('timestamp and timestamptz in binary format', () => {
  it('reads microseconds since 2000-01-01, truncated to milliseconds', () => {
    expect(iso(fromBinary(Oid.timestamp, '0002b583a9a7fd80'))).toBe('2024-02-29T13:04:05.123Z')
    expect(iso(fromBinary(Oid.timestamptz, '0000000000000000'))).toBe('2000-01-01T00:00:00.000Z')
    expect(iso(fromBinary(Oid.timestamptz, 'ffffffffffffffff'))).toBe('1999-12-31T23:59:59.999Z')
    expect(iso(fromBinary(Oid.timestamp, 'fffca2fec4c81e0c'))).toBe('1969-12-31T23:59:59.999Z')
  })

  it('reads BC timestamps', () => {
    expect(iso(fromBinary(Oid.timestamp, 'ff1af9e8fb4e7120'))).toBe('-000043-03-15T12:00:00.500Z')
  })

  it('turns int64 max and min into ±Infinity', () => {
    expect(fromBinary(Oid.timestamptz, '7fffffffffffffff')).toBe(Number.POSITIVE_INFINITY)
    expect(fromBinary(Oid.timestamp, '8000000000000000')).toBe(Number.NEGATIVE_INFINITY)
  })
})

describe('date', () => {
  it('keeps the text form', () => {
    expect(fromText(Oid.date, '2024-02-29')).toBe('2024-02-29')
    expect(fromText(Oid.date, '0044-03-15 BC')).toBe('0044-03-15 BC')
  })

  it('prints binary days since 2000-01-01 as PostgreSQL does', () => {
    expect(fromBinary(Oid.date, '00002279')).toBe('2024-02-29')
    expect(fromBinary(Oid.date, '00000000')).toBe('2000-01-01')
    expect(fromBinary(Oid.date, 'ffffffff')).toBe('1999-12-31')
    expect(fromBinary(Oid.date, 'fff49d7b')).toBe('0044-03-15 BC')
    expect(fromBinary(Oid.date, 'ffda9915')).toBe('4713-11-24 BC')
    expect(fromBinary(Oid.date, '7fda970c')).toBe('5874897-12-31')
    expect(fromBinary(Oid.date, '7fffffff')).toBe('infinity')
    expect(fromBinary(Oid.date, '80000000')).toBe('-infinity')
  })

  it('matches the JS calendar on every seventh day of four centuries around 2000', () => {
    const decoder = types.binary(Oid.date)!
    const bytes = new Uint8Array(4)
    const view = new DataView(bytes.buffer)
    for (let days = -80000; days < 80000; days += 7) {
      view.setInt32(0, days)
      const expected = new Date(Date.UTC(2000, 0, 1) + days * 86400000).toISOString().slice(0, 10)
      expect(decoder(bytes)).toBe(expected)
    }
  })
})

describe('timestamps a JavaScript Date cannot hold (after 275760-09-13)', () => {
  const message =
    "expected a timestamp a JavaScript Date can hold (up to 275760-09-13 00:00:00 UTC), found 294276-12-31 23:59:59 UTC; read it as text with the option types: { dates: 'string' }"

  it('checks the range on the instant, not on the local time of a timestamptz', () => {
    expect(iso(fromText(Oid.timestamptz, '275760-09-13 05:30:00+05:30'))).toBe('+275760-09-13T00:00:00.000Z')
    expect(iso(fromText(Oid.timestamptz, '275760-09-12 14:00:00-10'))).toBe('+275760-09-13T00:00:00.000Z')
    expect(() => fromText(Oid.timestamptz, '275760-09-12 14:00:00.001-10')).toThrow(
      /JavaScript Date can hold/,
    )
  })

  it('gives the same error in text and binary, for timestamp and timestamptz', () => {
    // 294276-12-31 23:59:59: the largest second PostgreSQL accepts
    expect(() => fromText(Oid.timestamp, '294276-12-31 23:59:59')).toThrow(message)
    expect(() => fromText(Oid.timestamptz, '294276-12-31 23:59:59+00')).toThrow(message)
    expect(() => fromText(Oid.timestamptz, '294277-01-01 05:29:59+05:30')).toThrow(message)
    expect(() => fromBinary(Oid.timestamp, '7fffff5bb3a35dc0')).toThrow(message)
    expect(() => fromBinary(Oid.timestamptz, '7fffff5bb3a35dc0')).toThrow(message)
    expect(() => fromBinary(Oid.timestamptz, '7fffff5bb3b29fff')).toThrow(/found 294276-12-31 23:59:59 UTC/)
  })

  it('throws a PgError of kind encode', () => {
    for (const decode of [
      () => fromText(Oid.timestamptz, '294276-12-31 23:59:59+00'),
      () => fromBinary(Oid.timestamptz, '7fffff5bb3a35dc0'),
    ]) {
      try {
        decode()
        expect.unreachable()
      } catch (error) {
        expect(isPgError(error, 'encode')).toBe(true)
      }
    }
  })

  it('reads the last millisecond a Date holds in both formats', () => {
    // 275760-09-13 00:00:00 UTC = 8.64e15 ms since 1970
    expect(iso(fromText(Oid.timestamp, '275760-09-13 00:00:00'))).toBe('+275760-09-13T00:00:00.000Z')
    expect(iso(fromBinary(Oid.timestamp, '77e41537f0282000'))).toBe('+275760-09-13T00:00:00.000Z')
  })
})

describe('binary date out of the range PostgreSQL has', () => {
  it('rejects days before 4714-11-24 BC or after 5874897-12-31 with an encode error', () => {
    expect(fromBinary(Oid.date, 'ffda97a7')).toBe('4714-11-24 BC')
    expect(() => fromBinary(Oid.date, 'ffda97a6')).toThrow(
      /expected a date from 4714-11-24 BC to 5874897-12-31/,
    )
    expect(() => fromBinary(Oid.date, '7fda970d')).toThrow(
      /expected a date from 4714-11-24 BC to 5874897-12-31/,
    )
  })
})
