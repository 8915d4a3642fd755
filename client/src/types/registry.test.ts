import { describe, expect, it } from 'vitest'
import { hex, text } from './bytes.fixture.ts'
import { Oid } from './oids.generated.ts'
import { createTypeRegistry } from './registry.ts'

describe('createTypeRegistry', () => {
  it('returns one shared registry when given no options', () => {
    expect(createTypeRegistry()).toBe(createTypeRegistry())
    expect(createTypeRegistry({})).toBe(createTypeRegistry())
    expect(createTypeRegistry({ dates: 'string' })).not.toBe(createTypeRegistry())
  })

  it('builds each decoder once per OID', () => {
    const types = createTypeRegistry({ dates: 'date' })
    expect(types.text(Oid._int4)).toBe(types.text(Oid._int4))
    expect(types.binary(Oid._int4)).toBe(types.binary(Oid._int4))
    expect(types.text(99999)).toBe(types.text(99999))
  })

  it('reads unknown OIDs as strings in text and offers no binary decoder for them', () => {
    const types = createTypeRegistry()
    expect(types.text(16385)(text('(1,"a b")'))).toBe('(1,"a b")')
    expect(types.binary(16385)).toBeUndefined()
    expect(types.text(Oid.point)(text('(1,2)'))).toBe('(1,2)')
    expect(types.binary(Oid.point)).toBeUndefined()
    expect(types.binary(Oid._point)).toBeUndefined()
  })

  it('has a binary decoder for every type the brief lists, arrays included', () => {
    const types = createTypeRegistry()
    const names = [
      'bool',
      'int2',
      'int4',
      'int8',
      'oid',
      'float4',
      'float8',
      'numeric',
      'text',
      'varchar',
      'bpchar',
      'name',
      'char',
      'unknown',
      'xml',
      'bytea',
      'json',
      'jsonb',
      'uuid',
      'date',
      'timestamp',
      'timestamptz',
      'interval',
    ] as const
    const oids: Record<string, number> = Oid
    for (const name of names) {
      expect(types.binary(oids[name]!), name).toBeTypeOf('function')
      // unknown is the only one without an array type
      if (name !== 'unknown') expect(types.binary(oids[`_${name}`]!), `_${name}`).toBeTypeOf('function')
    }
  })

  it('lets a custom text parser replace a built-in one and drops the binary decoder', () => {
    const types = createTypeRegistry({
      parsers: { [Oid.numeric]: Number, [Oid.int8]: (value) => `int8:${value}` },
    })
    expect(types.text(Oid.numeric)(text('1.50'))).toBe(1.5)
    expect(types.text(Oid.int8)(text('-1'))).toBe('int8:-1')
    expect(types.binary(Oid.numeric)).toBeUndefined()
    expect(types.binary(Oid.int4)).toBeTypeOf('function')
  })

  it('applies a custom element parser inside arrays of that element', () => {
    const types = createTypeRegistry({ parsers: { [Oid.numeric]: Number } })
    expect(types.text(Oid._numeric)(text('{1.5,NULL,"2"}'))).toEqual([1.5, null, 2])
    expect(types.binary(Oid._numeric)).toBeUndefined()
  })

  it('lets a custom parser take over a whole array type', () => {
    const types = createTypeRegistry({ parsers: { [Oid._int4]: (value) => value.length } })
    expect(types.text(Oid._int4)(text('{1,2}'))).toBe(5)
    expect(types.binary(Oid._int4)).toBeUndefined()
  })

  it('can parse a type it does not know', () => {
    const types = createTypeRegistry({
      parsers: { [Oid.point]: (value) => value.slice(1, -1).split(',').map(Number) },
    })
    expect(types.text(Oid.point)(text('(1,2)'))).toEqual([1, 2])
  })

  it('keeps the text of dates, timestamps and intervals with dates: string', () => {
    const types = createTypeRegistry({ dates: 'string' })
    expect(types.text(Oid.timestamptz)(text('2024-02-29 13:04:05.123456+05:30'))).toBe(
      '2024-02-29 13:04:05.123456+05:30',
    )
    expect(types.text(Oid.timestamp)(text('infinity'))).toBe('infinity')
    expect(types.text(Oid.interval)(text('1 year 2 mons'))).toBe('1 year 2 mons')
    expect(types.text(Oid.date)(text('0044-03-15 BC'))).toBe('0044-03-15 BC')
    expect(types.text(Oid._timestamptz)(text('{"2024-01-01 00:00:00+00"}'))).toEqual([
      '2024-01-01 00:00:00+00',
    ])
  })

  it('asks for text format for timestamps and intervals with dates: string', () => {
    const types = createTypeRegistry({ dates: 'string' })
    for (const oid of [Oid.timestamp, Oid.timestamptz, Oid.interval, Oid._timestamptz, Oid._interval]) {
      expect(types.binary(oid)).toBeUndefined()
    }
    expect(types.binary(Oid.date)!(hex('00002279'))).toBe('2024-02-29')
  })
})

describe('TypeRegistry.follow: session settings reported by ParameterStatus', () => {
  const types = createTypeRegistry()

  it('accepts every IntervalStyle, since the interval decoder reads all four', () => {
    for (const style of ['postgres', 'postgres_verbose', 'sql_standard', 'iso_8601']) {
      expect(types.follow('IntervalStyle', style)).toBeUndefined()
    }
  })

  it('accepts an ISO DateStyle with any field order', () => {
    for (const value of ['ISO, MDY', 'ISO, DMY', 'ISO, YMD'])
      expect(types.follow('DateStyle', value)).toBeUndefined()
  })

  it('refuses the SQL, Postgres and German DateStyles with a config error naming the setting and its value', () => {
    for (const value of ['SQL, DMY', 'Postgres, MDY', 'German, DMY']) {
      const error = types.follow('DateStyle', value)
      expect(error?.kind).toBe('config')
      expect(error?.message).toBe(
        `DateStyle "${value}" (reported by the server) is not supported: edgepg decodes dates in the ISO output style only (any order, e.g. 'ISO, DMY')`,
      )
    }
  })

  it('accepts client_encoding UTF8 and refuses any other', () => {
    expect(types.follow('client_encoding', 'UTF8')).toBeUndefined()
    const error = types.follow('client_encoding', 'LATIN1')
    expect(error?.kind).toBe('config')
    expect(error?.message).toBe(
      'client_encoding "LATIN1" (reported by the server) is not supported: edgepg decodes text as UTF8 only',
    )
  })

  it('refuses integer_datetimes off and an IntervalStyle PostgreSQL does not have', () => {
    expect(types.follow('integer_datetimes', 'on')).toBeUndefined()
    expect(types.follow('integer_datetimes', 'off')?.message).toMatch(/^integer_datetimes "off"/)
    expect(types.follow('IntervalStyle', 'roman')?.message).toMatch(
      /^IntervalStyle "roman" .* expected postgres/,
    )
  })

  it('ignores settings the decoders do not depend on', () => {
    for (const [name, value] of [
      ['TimeZone', 'Pacific/Chatham'],
      ['search_path', '"$user", public'],
      ['application_name', 'x'],
      ['server_encoding', 'SQL_ASCII'],
    ] as const) {
      expect(types.follow(name, value)).toBeUndefined()
    }
  })

  it('is on every registry, whatever its options', () => {
    const custom = createTypeRegistry({ dates: 'string', parsers: { 1700: Number } })
    expect(custom.follow('DateStyle', 'SQL, DMY')?.kind).toBe('config')
  })
})
