import { describe, expect, it } from 'vitest'
import { isPgError, type PgError } from '../errors.ts'
import { contentOf, everyMessage } from './all-messages.fixture.ts'
import { backend, int32, stream } from './bytes.fixture.ts'
import { dataRowColumns } from './decode.ts'
import type { BackendMessage } from './messages.ts'
import { BackendParser } from './parser.ts'

const fixture = stream(...everyMessage.map(([bytes]) => bytes))
const expected = everyMessage.map(([, message]) => message)

function parseChunks(chunks: Uint8Array[], parser = new BackendParser()): BackendMessage[] {
  const out: BackendMessage[] = []
  for (const chunk of chunks) parser.parse(chunk, (m) => out.push(m))
  parser.end()
  return out
}

/** The messages in `chunks`, in the fixtures' terms (DataRows by their column values). */
function contentOfChunks(chunks: Uint8Array[]) {
  return parseChunks(chunks).map(contentOf)
}

function protocolFailure(run: () => void): PgError {
  try {
    run()
  } catch (error) {
    if (isPgError(error, 'protocol')) return error
    throw error
  }
  throw new Error('expected a protocol error, none was thrown')
}

describe('BackendParser framing', () => {
  it('covers every backend message type in the fixture stream', () => {
    const covered: Record<BackendMessage['type'], boolean> = {
      AuthenticationOk: false,
      AuthenticationCleartextPassword: false,
      AuthenticationMD5Password: false,
      AuthenticationSASL: false,
      AuthenticationSASLContinue: false,
      AuthenticationSASLFinal: false,
      AuthenticationUnsupported: false,
      BackendKeyData: false,
      BindComplete: false,
      CloseComplete: false,
      ParseComplete: false,
      NoData: false,
      EmptyQueryResponse: false,
      PortalSuspended: false,
      CopyDone: false,
      CommandComplete: false,
      CopyInResponse: false,
      CopyOutResponse: false,
      CopyBothResponse: false,
      CopyData: false,
      DataRow: false,
      ErrorResponse: false,
      NoticeResponse: false,
      NegotiateProtocolVersion: false,
      NotificationResponse: false,
      ParameterDescription: false,
      ParameterStatus: false,
      ReadyForQuery: false,
      RowDescription: false,
    }
    for (const message of expected) covered[message.type] = true
    expect(Object.entries(covered).filter(([, seen]) => !seen)).toEqual([])
  })

  it('parses the whole fixture stream in one chunk', () => {
    expect(contentOfChunks([fixture])).toEqual(expected)
  })

  it('parses the fixture identically when split into two chunks at every byte offset', () => {
    for (let cut = 0; cut <= fixture.length; cut++) {
      const parsed = contentOfChunks([fixture.slice(0, cut), fixture.slice(cut)])
      expect(parsed, `cut at ${cut}`).toEqual(expected)
    }
  })

  it('parses the fixture identically when fed one byte at a time', () => {
    const chunks = Array.from(fixture, (byte) => Uint8Array.of(byte))
    expect(contentOfChunks(chunks)).toEqual(expected)
  })

  it('decodes a message lying inside one chunk without copying its columns', () => {
    const chunk = stream(backend.dataRow(['abc', 'de']))
    const [row] = parseChunks([chunk])
    if (row?.type !== 'DataRow') throw new Error('expected a DataRow')
    expect(row.bytes).toBe(chunk)
    // header 5, count 2
    expect(row.start).toBe(7)
    const columns = dataRowColumns(row)
    expect(columns[0]?.buffer).toBe(chunk.buffer)
    // header 5, count 2, length 4, "abc" 3, length 4
    expect(columns[1]?.byteOffset).toBe(chunk.byteOffset + 18)
  })

  it('decodes a body in place when only its header was split off', () => {
    const bytes = stream(backend.dataRow(['abc']))
    const body = bytes.slice(3)
    const [row] = parseChunks([bytes.slice(0, 3), body])
    if (row?.type !== 'DataRow') throw new Error('expected a DataRow')
    expect(row.bytes).toBe(body)
    expect(dataRowColumns(row)[0]?.buffer).toBe(body.buffer)
  })

  it('emits nothing and buffers the bytes of a message that has not fully arrived', () => {
    const bytes = stream(backend.commandComplete('INSERT 0 1'))
    const parser = new BackendParser()
    const out: BackendMessage[] = []
    parser.parse(bytes.slice(0, 3), (m) => out.push(m))
    expect(parser.bufferedBytes).toBe(3)
    parser.parse(bytes.slice(3, 9), (m) => out.push(m))
    expect(parser.bufferedBytes).toBe(9)
    expect(out).toEqual([])
    parser.parse(bytes.slice(9), (m) => out.push(m))
    expect(parser.bufferedBytes).toBe(0)
    expect(out).toEqual([{ type: 'CommandComplete', tag: 'INSERT 0 1' }])
  })

  it('emits the messages before a malformed one, then throws', () => {
    const out: BackendMessage[] = []
    const bytes = stream(backend.noData(), [0x21, ...int32(4)])
    const error = protocolFailure(() => new BackendParser().parse(bytes, (m) => out.push(m)))
    expect(out).toEqual([{ type: 'NoData' }])
    expect(error.message).toBe("unknown message type '!' (0x21)")
  })

  it('accepts end() when the stream ended between messages', () => {
    const parser = new BackendParser()
    parser.parse(stream(backend.noData()), () => {})
    expect(() => parser.end()).not.toThrow()
  })
})

describe('BackendParser limits (D2a)', () => {
  it('rejects a length below 4', () => {
    const error = protocolFailure(() => new BackendParser().parse(Uint8Array.of(0x5a, ...int32(3)), () => {}))
    expect(error.message).toBe("invalid message length 3 for tag 'Z' (0x5a): expected at least 4")
  })

  it('rejects a negative length', () => {
    const error = protocolFailure(() =>
      new BackendParser().parse(Uint8Array.of(0x44, ...int32(-1)), () => {}),
    )
    expect(error.message).toContain('invalid message length -1')
  })

  it('does not allocate for an announced length of 0x7fffffff and fails at end of stream', () => {
    const parser = new BackendParser({ maxMessageSize: 0x7fffffff })
    parser.parse(Uint8Array.of(0x44, ...int32(0x7fffffff), 0, 1), () => {})
    expect(parser.bufferedBytes).toBe(7)
    parser.parse(new Uint8Array(1000), () => {})
    expect(parser.bufferedBytes).toBe(1007)
    const error = protocolFailure(() => parser.end())
    expect(error.message).toBe(
      `stream ended inside a message 'D' (0x44): expected ${0x7fffffff - 4 - 1002} more bytes`,
    )
  })

  it('rejects 0x7fffffff under the default maxMessageSize from the header alone', () => {
    const error = protocolFailure(() =>
      new BackendParser().parse(Uint8Array.of(0x44, ...int32(0x7fffffff)), () => {}),
    )
    expect(error.message).toBe(
      `message length 2147483647 for tag 'D' (0x44) exceeds maxMessageSize: expected at most ${256 * 1024 * 1024}`,
    )
  })

  it('rejects a length over maxMessageSize even when split inside the header', () => {
    const parser = new BackendParser({ maxMessageSize: 1000 })
    parser.parse(Uint8Array.of(0x64, 0, 0), () => {})
    const error = protocolFailure(() => parser.parse(Uint8Array.of(0x03, 0xe9), () => {}))
    expect(error.message).toContain('message length 1001')
    expect(error.message).toContain('expected at most 1000')
  })

  it('accepts a message of exactly maxMessageSize', () => {
    const parser = new BackendParser({ maxMessageSize: 1000 })
    const out: BackendMessage[] = []
    parser.parse(stream(backend.copyData(new Array(996).fill(7))), (m) => out.push(m))
    expect(out).toHaveLength(1)
  })

  it('rejects a 40000-byte length for a type libpq never allows to be long', () => {
    const error = protocolFailure(() =>
      new BackendParser().parse(Uint8Array.of(0x5a, ...int32(40000)), () => {}),
    )
    expect(error.message).toBe(
      "message length 40000 for tag 'Z' (0x5a) is too long for its type: expected at most 30000",
    )
  })

  it('allows a 40000-byte DataRow', () => {
    const out: BackendMessage[] = []
    new BackendParser().parse(stream(backend.dataRow([new Array(39990).fill(1)])), (m) => out.push(m))
    expect(out[0]?.type).toBe('DataRow')
  })

  it('accepts a ParameterDescription of 65,535 parameters (262,146 bytes), whole and split into chunks', () => {
    const oids = Array.from({ length: 65535 }, (_, i) => 23 + (i % 3))
    const bytes = stream(backend.parameterDescription(oids), backend.readyForQuery('I'))
    const chunks = [bytes.subarray(0, 3), bytes.subarray(3, 70000), bytes.subarray(70000)]
    for (const input of [[bytes], chunks]) {
      const out = parseChunks(input)
      expect(out.map((m) => m.type)).toEqual(['ParameterDescription', 'ReadyForQuery'])
      expect(out[0]).toEqual({ type: 'ParameterDescription', typeOids: oids })
    }
  })

  it('accepts a ParameterStatus longer than 30000 bytes (a long search_path)', () => {
    const value = 'a'.repeat(40000)
    const out = parseChunks([stream(backend.parameterStatus('search_path', value))])
    expect(out).toEqual([{ type: 'ParameterStatus', name: 'search_path', value }])
  })

  it('rejects an unknown type byte from its header alone', () => {
    const error = protocolFailure(() => new BackendParser().parse(Uint8Array.of(0x01, 0, 0, 0, 8), () => {}))
    expect(error.message).toBe('unknown message type 0x01')
  })

  it('rejects FunctionCallResponse, which edgepg never asks for', () => {
    const error = protocolFailure(() => new BackendParser().parse(Uint8Array.of(0x56, ...int32(8)), () => {}))
    expect(error.message).toContain('FunctionCallResponse')
  })

  it('rejects an HTTP response as the first bytes', () => {
    const http = new TextEncoder().encode('HTTP/1.1 400 Bad Request\r\n\r\n')
    expect(() => new BackendParser().parse(http, () => {})).toThrow(/message length \d+ for tag 'H'/)
  })

  it('throws at end() when the stream ends inside a message body', () => {
    const parser = new BackendParser()
    parser.parse(stream(backend.commandComplete('SELECT 1')).slice(0, 8), () => {})
    const error = protocolFailure(() => parser.end())
    expect(error.message).toBe("stream ended inside a message 'C' (0x43): expected 6 more bytes")
  })

  it('throws at end() when the stream ends inside a message header', () => {
    const parser = new BackendParser()
    parser.parse(Uint8Array.of(0x5a, 0), () => {})
    const error = protocolFailure(() => parser.end())
    expect(error.message).toBe('stream ended inside a message header: expected 3 more bytes')
  })

  it('refuses a maxMessageSize that is not a usable length', () => {
    expect(() => new BackendParser({ maxMessageSize: 2 })).toThrow(/maxMessageSize must be an integer/)
    expect(() => new BackendParser({ maxMessageSize: Number.NaN })).toThrow(
      /maxMessageSize must be an integer/,
    )
  })
})
