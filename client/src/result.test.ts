import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { isPgError } from './errors.ts'
import { backend, int16, int32, stream } from './protocol/bytes.fixture.ts'
import { BackendParser, type FieldDescription } from './protocol/index.ts'
import { ResultCollector, RowDecoder } from './result.ts'
import { createTypeRegistry } from './types/index.ts'

const types = createTypeRegistry()

function field(name: string, typeOid: number, format: 0 | 1): FieldDescription {
  return { name, tableOid: 0, columnId: 0, typeOid, typeSize: -1, typeModifier: -1, format }
}

/** Parses `bytes` (several messages in one chunk) and feeds them to a collector. */
function collect(bytes: Uint8Array): ResultCollector {
  const collector = new ResultCollector(types)
  new BackendParser().parse(bytes, (m) => void collector.accept(m))
  return collector
}

describe('RowDecoder', () => {
  it('decodes the columns of consecutive rows where they lie in the chunk, NULLs included', () => {
    const fields = [field('n', 23, 0), field('name', 25, 0), field('big', 20, 1), field('raw', 17, 1)]
    const collector = collect(
      stream(
        backend.rowDescription(fields),
        backend.dataRow(['-12', 'ab', [0, 0, 0, 0, 0, 0, 1, 0], [0xca, 0xfe]]),
        backend.dataRow([null, '', null, []]),
        backend.dataRow(['7', 'é', [255, 255, 255, 255, 255, 255, 255, 255], null]),
      ),
    )
    expect(collector.error).toBeUndefined()
    expect(collector.rows.map((r) => ({ ...r }))).toEqual([
      { n: -12, name: 'ab', big: 256n, raw: Uint8Array.of(0xca, 0xfe) },
      { n: null, name: '', big: null, raw: new Uint8Array(0) },
      { n: 7, name: 'é', big: -1n, raw: null },
    ])
  })

  it('prints a row in Node like a plain object while its chain stays free of Object.prototype', () => {
    const fields = [field('n', 23, 0), field('name', 25, 0), field('nested', 114, 0)]
    const collector = collect(
      stream(backend.rowDescription(fields), backend.dataRow(['42', 'ab', '{"a":{"b":{"c":[1]}}}'])),
    )
    const [row] = collector.rows
    expect(inspect(row)).toBe(inspect({ n: 42, name: 'ab', nested: { a: { b: { c: [1] } } } }))
    expect(inspect(row, { depth: 0 })).toBe("{ n: 42, name: 'ab', nested: [Object] }")
    expect(inspect([row])).toBe("[ { n: 42, name: 'ab', nested: { a: [Object] } } ]")
    expect(Object.getPrototypeOf(Object.getPrototypeOf(row))).toBeNull()
    expect(Object.keys(row!)).toEqual(['n', 'name', 'nested'])
    expect(JSON.stringify(row)).toBe('{"n":42,"name":"ab","nested":{"a":{"b":{"c":[1]}}}}')
  })

  it('gives each decoder its own column only, not the bytes that follow it', () => {
    // An empty int4 value followed by a column starting with '-': the decoder must not read the '-'.
    const collector = collect(
      stream(backend.rowDescription([field('a', 23, 0), field('b', 25, 0)]), backend.dataRow(['', '-5'])),
    )
    expect(collector.rows).toEqual([])
    expect(isPgError(collector.error, 'encode')).toBe(true)
    expect(collector.error?.message).toContain('expected an integer in text format, found ""')
  })

  it('copies bytes values out of the chunk, also when the chunk is a Node Buffer', () => {
    // Buffer#slice returns a view: a bytea sharing the chunk's memory would change when the chunk is reused.
    const long = Array.from({ length: 100 }, (_, i) => i)
    const chunk = Buffer.from(
      stream(
        backend.rowDescription([field('raw', 17, 1), field('long', 17, 1), field('unknown', 0, 1)]),
        backend.dataRow([[1, 2, 3], long, [4, 5]]),
      ),
    )
    const collector = new ResultCollector(types)
    new BackendParser().parse(chunk, (m) => void collector.accept(m))
    chunk.fill(0)
    const [row] = collector.rows
    expect(row?.raw).toEqual(Uint8Array.of(1, 2, 3))
    expect(row?.long).toEqual(Uint8Array.from(long))
    expect(row?.unknown).toEqual(Uint8Array.of(4, 5))
    expect(Buffer.isBuffer(row?.raw) || Buffer.isBuffer(row?.long)).toBe(false)
  })

  it('rejects a DataRow whose column count differs from the RowDescription', () => {
    const decoder = new RowDecoder([field('a', 23, 0), field('b', 23, 0)], types)
    const parser = new BackendParser()
    const error = (() => {
      try {
        parser.parse(Uint8Array.from(backend.dataRow(['1'])), (m) => {
          if (m.type === 'DataRow') decoder.decode(m)
        })
      } catch (error) {
        return error
      }
    })()
    expect(isPgError(error, 'protocol')).toBe(true)
    expect((error as Error).message).toBe('DataRow has 1 columns, expected 2 from RowDescription')
  })

  it('reads a row whose bytes were joined from several chunks', () => {
    const bytes = stream(
      backend.rowDescription([field('a', 25, 0), field('b', 23, 1)]),
      ['D'.charCodeAt(0), ...int32(4 + 2 + 4 + 5 + 4 + 4), ...int16(2)],
      [...int32(5), ...'hello'.split('').map((c) => c.charCodeAt(0)), ...int32(4), 0, 0, 1, 0],
    )
    const collector = new ResultCollector(types)
    const parser = new BackendParser()
    for (let at = 0; at < bytes.length; at += 3)
      parser.parse(bytes.slice(at, at + 3), (m) => void collector.accept(m))
    expect(collector.rows.map((r) => ({ ...r }))).toEqual([{ a: 'hello', b: 256 }])
  })
})
