import { describe, expect, it } from 'vitest'
import { hex, text } from './bytes.fixture.ts'
import type { Interval } from './interval.ts'
import { Oid } from './oids.generated.ts'
import { createTypeRegistry } from './registry.ts'

const types = createTypeRegistry()
const fromText = (value: string) => types.text(Oid.interval)(text(value))
const fromBinary = (value: string) => types.binary(Oid.interval)!(hex(value))
const interval = (months: number, days: number, microseconds: number): Interval => ({
  months,
  days,
  microseconds,
})

describe('interval in text format (IntervalStyle postgres)', () => {
  const cases: [string, Interval][] = [
    ['1 year 2 mons -3 days +04:05:06.789', interval(14, -3, 14_706_789_000)],
    ['1 year 2 mons -3 days 04:05:06.789', interval(14, -3, 14_706_789_000)],
    ['-00:00:01', interval(0, 0, -1_000_000)],
    ['00:00:00', interval(0, 0, 0)],
    ['1 day', interval(0, 1, 0)],
    ['3 mons', interval(3, 0, 0)],
    ['-1 years -2 mons +3 days -04:05:06', interval(-14, 3, -14_706_000_000)],
    ['100:00:00.000001', interval(0, 0, 360_000_000_001)],
    ['-00:00:00.000001', interval(0, 0, -1)],
    ['-178000000 years', interval(-2_136_000_000, 0, 0)],
    ['1 mon 1 day', interval(1, 1, 0)],
    ['2 days 00:00:00.5', interval(0, 2, 500_000)],
  ]
  for (const [value, expected] of cases) {
    it(`reads ${JSON.stringify(value)}`, () => {
      expect(fromText(value)).toEqual(expected)
    })
  }

  it('never returns a negative zero', () => {
    const value = fromText('-0 days') as Interval
    expect(Object.is(value.days, 0)).toBe(true)
  })

  it('reads the postgres_verbose form too', () => {
    expect(fromText('@ 1 year 2 mons -3 days 4 hours 5 mins 6.789 secs')).toEqual(
      interval(14, -3, 14_706_789_000),
    )
    expect(fromText('@ 1 day 1 sec ago')).toEqual(interval(0, -1, -1_000_000))
  })

  it('rejects forms it cannot read with an encode error', () => {
    expect(() => fromText('P1Y2M')).toThrow(/expected an interval in text format, found "P1Y2M"/)
    expect(() => fromText('1 fortnight')).toThrow(/interval/)
    expect(() => fromText('1.5 days')).toThrow(/interval/)
    expect(() => fromText('12:3x:00')).toThrow(/interval/)
  })
})

describe('interval in binary format', () => {
  it('reads int64 microseconds, int32 days and int32 months', () => {
    expect(fromBinary('000000036c97ca88 fffffffd 0000000e')).toEqual(interval(14, -3, 14_706_789_000))
    expect(fromBinary('fffffffffff0bdc0 00000000 00000000')).toEqual(interval(0, 0, -1_000_000))
    expect(fromBinary('0000000000000000 7fffffff 80000000')).toEqual(interval(-2147483648, 2147483647, 0))
  })

  it('rejects a value of the wrong size', () => {
    expect(() => fromBinary('00')).toThrow('expected 16 bytes for binary interval, found 1')
  })
})
