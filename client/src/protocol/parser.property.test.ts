import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isPgError } from '../errors.ts'
import { contentOf, type Expected } from './all-messages.fixture.ts'
import { type Bytes, backend, stream } from './bytes.fixture.ts'
import type { BackendMessage, FieldDescription } from './messages.ts'
import { BackendParser } from './parser.ts'

/** Strings PostgreSQL can send in a C string: any code point but NUL. */
const cstr = fc.string({ unit: 'binary', maxLength: 16 }).map((s) => s.replaceAll('\0', ''))
const int16 = fc.integer({ min: -32768, max: 32767 })
const uint32 = fc.integer({ min: 0, max: 0xffffffff })
const int32 = fc.integer({ min: -0x80000000, max: 0x7fffffff })

const field: fc.Arbitrary<FieldDescription> = fc.record({
  name: cstr,
  tableOid: uint32,
  columnId: int16,
  typeOid: uint32,
  typeSize: int16,
  typeModifier: int32,
  format: fc.constantFrom(0, 1),
})

type Pair = [Bytes, Expected]
const pair = (bytes: Bytes, message: Expected): Pair => [bytes, message]

/** A valid backend message, as bytes built by the fixture, with the message it must decode to. */
const anyMessage: fc.Arbitrary<Pair> = fc.oneof(
  fc
    .array(fc.option(fc.uint8Array({ maxLength: 24 }), { nil: null }), { maxLength: 12 })
    .map((columns) =>
      pair(backend.dataRow(columns.map((c) => (c ? [...c] : null))), { type: 'DataRow', columns }),
    ),
  fc
    .array(field, { maxLength: 5 })
    .map((fields) => pair(backend.rowDescription(fields), { type: 'RowDescription', fields })),
  cstr.map((tag) => pair(backend.commandComplete(tag), { type: 'CommandComplete', tag })),
  fc
    .record({ severity: cstr, code: cstr, message: cstr, detail: fc.option(cstr, { nil: undefined }) })
    .map((f) => {
      const fields: [string, string][] = [
        ['S', f.severity],
        ['C', f.code],
        ['M', f.message],
      ]
      if (f.detail !== undefined) fields.push(['D', f.detail])
      return pair(backend.errorResponse(fields), { type: 'ErrorResponse', fields: f })
    }),
  fc.tuple(int32, cstr, cstr).map(([processId, channel, payload]) =>
    pair(backend.notificationResponse(processId, channel, payload), {
      type: 'NotificationResponse',
      processId,
      channel,
      payload,
    }),
  ),
  fc
    .tuple(cstr, cstr)
    .map(([name, value]) =>
      pair(backend.parameterStatus(name, value), { type: 'ParameterStatus', name, value }),
    ),
  fc
    .constantFrom('I' as const, 'T' as const, 'E' as const)
    .map((status) => pair(backend.readyForQuery(status), { type: 'ReadyForQuery', status })),
  fc
    .uint8Array({ maxLength: 64 })
    .map((data) => pair(backend.copyData([...data]), { type: 'CopyData', data })),
  fc.constant(pair(backend.bindComplete(), { type: 'BindComplete' })),
  fc.constant(pair(backend.parseComplete(), { type: 'ParseComplete' })),
  fc.constant(pair(backend.noData(), { type: 'NoData' })),
)

/** Cuts `bytes` at the given offsets (taken modulo its length). */
function cut(bytes: Uint8Array, offsets: number[]): Uint8Array[] {
  const points = [...new Set(offsets.map((o) => o % (bytes.length + 1)))].sort((a, b) => a - b)
  const chunks: Uint8Array[] = []
  let previous = 0
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.slice(previous, point))
    previous = point
  }
  return chunks
}

function parseAll(chunks: Uint8Array[]): BackendMessage[] {
  const parser = new BackendParser()
  const out: BackendMessage[] = []
  for (const chunk of chunks) parser.parse(chunk, (m) => out.push(m))
  parser.end()
  return out
}

/** Runs the parser over chunks; returns the error it threw, if any. Anything but a protocol error fails. */
function failureOf(chunks: Uint8Array[]): unknown {
  const parser = new BackendParser({ maxMessageSize: 1 << 20 })
  try {
    for (const chunk of chunks) {
      parser.parse(chunk, () => {})
      expect(parser.bufferedBytes).toBeLessThanOrEqual(chunks.reduce((n, c) => n + c.length, 0))
    }
    parser.end()
  } catch (error) {
    if (!isPgError(error, 'protocol')) throw error
    return error
  }
  return undefined
}

describe('BackendParser properties', () => {
  it('yields the same messages whatever the chunk boundaries (D2e)', () => {
    fc.assert(
      fc.property(
        fc.array(anyMessage, { maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (pairs, offsets) => {
          const bytes = stream(...pairs.map(([b]) => b))
          const whole = parseAll([bytes]).map(contentOf)
          expect(whole).toEqual(pairs.map(([, m]) => m))
          expect(parseAll(cut(bytes, offsets)).map(contentOf)).toEqual(whole)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('throws only protocol errors on arbitrary bytes (D2f)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 4096 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (bytes, offsets) => {
          failureOf(cut(bytes, offsets))
        },
      ),
      { numRuns: 500 },
    )
  }, 20_000)

  it('throws only protocol errors on valid streams with corrupted bytes (D2f)', () => {
    const corruption = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
      minLength: 1,
      maxLength: 4,
    })
    fc.assert(
      fc.property(
        fc.array(anyMessage, { minLength: 1, maxLength: 20 }),
        corruption,
        fc.array(fc.nat(), { maxLength: 8 }),
        (pairs, flips, offsets) => {
          const bytes = stream(...pairs.map(([b]) => b))
          for (const [at, value] of flips) bytes[at % bytes.length] = value
          failureOf(cut(bytes.subarray(0, 4096), offsets))
        },
      ),
      { numRuns: 500 },
    )
  }, 20_000)
})
