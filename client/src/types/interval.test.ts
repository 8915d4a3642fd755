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
    expect(() => fromText('P1Y2X')).toThrow(/expected an interval in text format, found "P1Y2X"/)
    expect(() => fromText('1 fortnight')).toThrow(/interval/)
    expect(() => fromText('1.5 days')).toThrow(/interval/)
    expect(() => fromText('12:3x:00')).toThrow(/interval/)
    expect(() => fromText('')).toThrow(/interval/)
    expect(() => fromText('infinityx')).toThrow(/interval/)
    expect(() => fromText('1 2')).toThrow(/interval/)
    expect(() => fromText('5')).toThrow(/interval/)
    expect(() => fromText('P')).toThrow(/interval/)
    expect(() => fromText('PT1M1H')).toThrow(/interval/)
    expect(() => fromText('@ 1 day ago 1 sec')).toThrow(/interval/)
    expect(() => fromText(`${'9'.repeat(400)} days`)).toThrow(/interval/)
    expect(() => fromText(`1 ${'y'.repeat(100000)}`)).toThrow(/interval/)
    for (const value of ['1 day', '@ 1 day', '+1-2 -3 +4:05:06', 'P1D', '1-2']) {
      expect(() => fromText(value), value).not.toThrow()
      expect(() => fromText(`${value}x`), value).toThrow(/interval/)
    }
  })
})

/**
 * The same intervals as each IntervalStyle prints them (captured from PostgreSQL 18), with the binary value
 * interval_send gives: the text decoder must give what the binary decoder gives, in every style.
 */
const printed: [binary: string, postgres: string, verbose: string, sqlStandard: string, iso: string][] = [
  ['00000000000000000000000000000000', '00:00:00', '@ 0', '0', 'PT0S'],
  [
    '000000036c97ca88fffffffd0000000e',
    '1 year 2 mons -3 days +04:05:06.789',
    '@ 1 year 2 mons -3 days 4 hours 5 mins 6.789 secs',
    '+1-2 -3 +4:05:06.789',
    'P1Y2M-3DT4H5M6.789S',
  ],
  [
    'fffffffc93683578fffffffdfffffff2',
    '-1 years -2 mons -3 days -04:05:06.789',
    '@ 1 year 2 mons 3 days 4 hours 5 mins 6.789 secs ago',
    '-1-2 -3 -4:05:06.789',
    'P-1Y-2M-3DT-4H-5M-6.789S',
  ],
  ['000000000000000000000000fffffff6', '-10 mons', '@ 10 mons ago', '-0-10', 'P-10M'],
  ['fffffffffff0bdc00000000100000000', '1 day -00:00:01', '@ 1 day -1 sec', '+0-0 +1 -0:00:01', 'P1DT-1S'],
  ['fffffffffff85ee00000000000000000', '-00:00:00.5', '@ 0.5 secs ago', '-0:00:00.5', 'PT-0.5S'],
  ['0000000000000000ffffffff00000000', '-1 days', '@ 1 day ago', '-1 0:00:00', 'P-1D'],
  [
    '000000036c8bc0800000000300000000',
    '3 days 04:05:06',
    '@ 3 days 4 hours 5 mins 6 secs',
    '3 4:05:06',
    'P3DT4H5M6S',
  ],
  [
    'fffffffc93743f80fffffffd00000000',
    '-3 days -04:05:06',
    '@ 3 days 4 hours 5 mins 6 secs ago',
    '-3 4:05:06',
    'P-3DT-4H-5M-6S',
  ],
  [
    '7fffffffffffffff0000000000000000',
    '2562047788:00:54.775807',
    '@ 2562047788 hours 54.775807 secs',
    '2562047788:00:54.775807',
    'PT2562047788H54.775807S',
  ],
  [
    '80000000000000000000000000000000',
    '-2562047788:00:54.775808',
    '@ 2562047788 hours 54.775808 secs ago',
    '-2562047788:00:54.775808',
    'PT-2562047788H-54.775808S',
  ],
  [
    '0000000000000000000000007fffffff',
    '178956970 years 7 mons',
    '@ 178956970 years 7 mons',
    '178956970-7',
    'P178956970Y7M',
  ],
  ['000000000000000000000001ffffffff', '-1 mons +1 day', '@ 1 mon -1 days ago', '-0-1 +1 +0:00:00', 'P-1M1D'],
  ['00000000000000010000000000000000', '00:00:00.000001', '@ 0.000001 secs', '0:00:00.000001', 'PT0.000001S'],
  ['00000000d693a4000000000000000000', '01:00:00', '@ 1 hour', '1:00:00', 'PT1H'],
  ['fffffffffc5d36c00000000000000000', '-00:01:01', '@ 1 min 1 sec ago', '-0:01:01', 'PT-1M-1S'],
  ['00000000000f42400000000100000000', '1 day 00:00:01', '@ 1 day 1 sec', '1 0:00:01', 'P1DT1S'],
]

describe('interval in text format, every IntervalStyle', () => {
  const styles = ['postgres', 'postgres_verbose', 'sql_standard', 'iso_8601']
  for (const [binary, ...texts] of printed) {
    texts.forEach((value, i) => {
      it(`reads ${styles[i]} ${JSON.stringify(value)} as the binary decoder reads ${binary}`, () => {
        expect(fromText(value)).toEqual(fromBinary(binary))
      })
    })
  }

  it('reads the verbose zero "@ 0"', () => {
    expect(fromText('@ 0')).toEqual(interval(0, 0, 0))
  })
})

describe('infinite intervals (PostgreSQL 17+)', () => {
  it('reads infinity and -infinity as ±Infinity in text', () => {
    expect(fromText('infinity')).toBe(Number.POSITIVE_INFINITY)
    expect(fromText('-infinity')).toBe(Number.NEGATIVE_INFINITY)
  })

  it('reads infinity and -infinity as ±Infinity in binary', () => {
    expect(fromBinary('7fffffffffffffff 7fffffff 7fffffff')).toBe(Number.POSITIVE_INFINITY)
    expect(fromBinary('8000000000000000 80000000 80000000')).toBe(Number.NEGATIVE_INFINITY)
  })

  it('keeps a finite interval whose fields are only partly at their limits', () => {
    expect(fromBinary('7fffffffffffffff 7fffffff 00000000')).toEqual(
      interval(0, 2147483647, 2 ** 63), // int64 max, as the nearest double
    )
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
