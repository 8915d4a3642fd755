import { describe, expect, it } from 'vitest'
import { isPgError } from '../errors.ts'
import { cstring, int16, int32, message, text } from './bytes.fixture.ts'
import { FrontendWriter } from './writer.ts'

function bytesOf(write: (w: FrontendWriter) => unknown): number[] {
  const writer = new FrontendWriter()
  write(writer)
  return [...writer.finish()]
}

function encodeFailure(run: () => unknown): string {
  try {
    run()
  } catch (error) {
    if (isPgError(error, 'encode')) return error.message
    throw error
  }
  throw new Error('expected an encode error, none was thrown')
}

describe('FrontendWriter messages', () => {
  it('writes a startup message for protocol 3.0 with its parameters', () => {
    const body = [
      ...int32(196608),
      ...cstring('user'),
      ...cstring('alice'),
      ...cstring('database'),
      ...cstring('db'),
      0,
    ]
    expect(bytesOf((w) => w.startup({ user: 'alice', database: 'db' }))).toEqual([
      ...int32(body.length + 4),
      ...body,
    ])
  })

  it('writes protocol 3.2 as 196610', () => {
    expect(bytesOf((w) => w.startup({}, 2)).slice(4, 8)).toEqual(int32(196610))
  })

  it('writes an SSLRequest', () => {
    expect(bytesOf((w) => w.sslRequest())).toEqual([...int32(8), ...int32(80877103)])
  })

  it('writes a CancelRequest with a 32-byte key of protocol 3.2', () => {
    const key = Array.from({ length: 32 }, (_, i) => i)
    expect(bytesOf((w) => w.cancelRequest(77, Uint8Array.from(key)))).toEqual([
      ...int32(44),
      ...int32(80877102),
      ...int32(77),
      ...key,
    ])
  })

  it('writes SASL messages with the mechanism and a length-prefixed initial response', () => {
    const first = text('n,,n=,r=abc')
    expect(bytesOf((w) => w.saslInitialResponse('SCRAM-SHA-256', Uint8Array.from(first)))).toEqual(
      message('p', cstring('SCRAM-SHA-256'), int32(first.length), first),
    )
    expect(bytesOf((w) => w.saslResponse(Uint8Array.of(1, 2)))).toEqual(message('p', [1, 2]))
  })

  it('encodes query text as UTF-8', () => {
    expect(bytesOf((w) => w.query("select 'héllo ✓ 🐘'"))).toEqual(
      message('Q', cstring("select 'héllo ✓ 🐘'")),
    )
  })

  it('encodes a long non-ASCII string past the hand-encoded fast path', () => {
    const long = `${'a'.repeat(100)}é${'b'.repeat(100)}`
    expect(bytesOf((w) => w.query(long))).toEqual(message('Q', cstring(long)))
  })

  it('batches a pipelined query into one buffer', () => {
    const bytes = bytesOf((w) =>
      w.parse('', 'select $1', [23]).bind('', '', ['1'], []).describe('P', '').execute('').sync(),
    )
    expect(bytes).toEqual([
      ...message('P', cstring(''), cstring('select $1'), int16(1), int32(23)),
      ...message('B', cstring(''), cstring(''), int16(1), int16(0), int16(1), int32(1), text('1'), int16(0)),
      ...message('D', [0x50], cstring('')),
      ...message('E', cstring(''), int32(0)),
      ...message('S'),
    ])
  })

  it('writes one binary format code when every parameter is a Uint8Array or null', () => {
    const bytes = bytesOf((w) => w.bind('p', 's', [Uint8Array.of(9), null], [1]))
    expect(bytes).toEqual(
      message(
        'B',
        cstring('p'),
        cstring('s'),
        int16(1),
        int16(1),
        int16(2),
        int32(1),
        [9],
        int32(-1),
        int16(1),
        int16(1),
      ),
    )
  })

  it('writes a format code per parameter when text and binary are mixed', () => {
    const bytes = bytesOf((w) => w.bind('', '', ['a', Uint8Array.of(1), null], []))
    expect(bytes).toEqual(
      message(
        'B',
        cstring(''),
        cstring(''),
        int16(3),
        int16(0),
        int16(1),
        int16(0),
        int16(3),
        int32(1),
        text('a'),
        int32(1),
        [1],
        int32(-1),
        int16(0),
      ),
    )
  })

  it('sends a text parameter containing NUL for the server to reject', () => {
    const bytes = bytesOf((w) => w.bind('', '', ['a\0b'], []))
    expect(bytes).toContain(0)
    expect(bytes.slice(-9, -2)).toEqual([...int32(3), 0x61, 0, 0x62])
  })

  it('writes Describe, Close, Execute with a row limit, and the bodiless messages', () => {
    expect(bytesOf((w) => w.describe('S', 'st1').close('P', 'p1').execute('p1', 100))).toEqual([
      ...message('D', [0x53], cstring('st1')),
      ...message('C', [0x50], cstring('p1')),
      ...message('E', cstring('p1'), int32(100)),
    ])
    expect(bytesOf((w) => w.flush().sync().copyDone().terminate())).toEqual([
      ...message('H'),
      ...message('S'),
      ...message('c'),
      ...message('X'),
    ])
  })

  it('writes CopyData from bytes or a string, and CopyFail', () => {
    expect(
      bytesOf((w) =>
        w
          .copyData(Uint8Array.of(1, 2, 3))
          .copyData('é\n')
          .copyFail('stop'),
      ),
    ).toEqual([...message('d', [1, 2, 3]), ...message('d', text('é\n')), ...message('f', cstring('stop'))])
  })

  it('grows past its initial size without losing bytes', () => {
    const big = Uint8Array.from({ length: 100_000 }, (_, i) => i & 0xff)
    const out = new FrontendWriter().sync().copyData(big).sync().finish()
    expect(out.length).toBe(5 + 5 + 100_000 + 5)
    expect(out.subarray(10, 10 + big.length)).toEqual(big)
    expect([...out.subarray(-5)]).toEqual(message('S'))
  })

  it('empties on finish() and can be reused', () => {
    const writer = new FrontendWriter().query('select 1')
    expect(writer.length).toBe(14)
    const first = writer.finish()
    expect(writer.length).toBe(0)
    writer.sync()
    expect([...writer.finish()]).toEqual(message('S'))
    expect([...first]).toEqual(message('Q', cstring('select 1')))
  })

  it('drops everything after a mark with truncate()', () => {
    const writer = new FrontendWriter().sync()
    const mark = writer.length
    writer.query('select 1').truncate(mark)
    expect([...writer.finish()]).toEqual(message('S'))
  })
})

describe('FrontendWriter rejects what the protocol cannot carry', () => {
  it('rejects query text containing a NUL character and leaves the buffer as it was', () => {
    const writer = new FrontendWriter().sync()
    expect(encodeFailure(() => writer.query('select 1\0; drop table t'))).toBe(
      'query text contains a NUL character at index 8',
    )
    expect([...writer.finish()]).toEqual(message('S'))
  })

  it('rejects NUL in names, startup parameters and passwords', () => {
    const w = new FrontendWriter()
    expect(encodeFailure(() => w.parse('a\0', 'select 1', []))).toBe(
      'statement name contains a NUL character at index 1',
    )
    expect(encodeFailure(() => w.execute('\0'))).toBe('portal name contains a NUL character at index 0')
    expect(encodeFailure(() => w.startup({ user: 'x\0y' }))).toBe(
      'startup parameter user contains a NUL character at index 1',
    )
    expect(encodeFailure(() => w.password('p\0'))).toBe('password contains a NUL character at index 1')
    expect(w.length).toBe(0)
  })

  it('rejects 65536 parameters in Bind and in Parse', () => {
    const values = new Array<string | null>(65536).fill(null)
    expect(encodeFailure(() => new FrontendWriter().bind('', '', values, []))).toBe(
      'too many parameters: found 65536, the protocol allows at most 65535',
    )
    const types = new Array<number>(65536).fill(0)
    expect(encodeFailure(() => new FrontendWriter().parse('', 'select 1', types))).toBe(
      'too many parameter types: found 65536, the protocol allows at most 65535',
    )
  })

  it('accepts 65535 parameters', () => {
    const values = new Array<string | null>(65535).fill(null)
    const bytes = new FrontendWriter().bind('', '', values, []).finish()
    // tag, length, two empty names, one format code (2 + 2), count, 65535 × int32 -1, zero result formats
    expect(bytes.length).toBe(1 + 4 + 2 + 4 + 2 + 65535 * 4 + 2)
    expect([...bytes.subarray(11, 13)]).toEqual(int16(65535))
    const types = new Array<number>(65535).fill(23)
    expect(new FrontendWriter().parse('', 'select 1', types).length).toBe(1 + 4 + 1 + 9 + 2 + 65535 * 4)
  })
})
