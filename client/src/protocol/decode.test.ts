import { describe, expect, it } from 'vitest'
import { isPgError } from '../errors.ts'
import { contentOf, everyMessage } from './all-messages.fixture.ts'
import { type Bytes, backend, cstring, int16, int32, message } from './bytes.fixture.ts'
import { dataRowColumns, parseMessage } from './decode.ts'

/** Splits a built message into its tag and body. */
function parts(bytes: Bytes): [number, Uint8Array] {
  return [bytes[0]!, Uint8Array.from(bytes.slice(5))]
}

function decode(bytes: Bytes) {
  return parseMessage(...parts(bytes))
}

function protocolMessage(bytes: Bytes): string {
  try {
    decode(bytes)
  } catch (error) {
    if (isPgError(error, 'protocol')) return error.message
    throw error
  }
  throw new Error('expected a protocol error, none was thrown')
}

describe('parseMessage', () => {
  it('decodes every fixture message on its own', () => {
    for (const [bytes, expected] of everyMessage) expect(contentOf(decode(bytes))).toEqual(expected)
  })

  it('gives the columns of every fixture DataRow with dataRowColumns, null for SQL NULL', () => {
    const rows = everyMessage.filter(([, expected]) => expected.type === 'DataRow')
    expect(rows.length).toBeGreaterThan(1)
    for (const [bytes, expected] of rows) {
      const row = decode(bytes)
      if (row.type !== 'DataRow' || expected.type !== 'DataRow') throw new Error('expected a DataRow')
      expect(row.columnCount).toBe(expected.columns.length)
      expect(dataRowColumns(row)).toEqual(expected.columns)
    }
  })

  it('reads ErrorResponse position, internal position and line as numbers', () => {
    const result = decode(
      backend.errorResponse([
        ['S', 'ERROR'],
        ['C', '42601'],
        ['M', 'syntax error'],
        ['P', '8'],
        ['p', '2'],
        ['L', '1241'],
      ]),
    )
    expect(result).toMatchObject({ fields: { position: 8, internalPosition: 2, line: 1241 } })
  })

  it('fills a missing severity, code and message with empty strings', () => {
    const result = decode(backend.errorResponse([['D', 'only a detail']]))
    expect(result).toMatchObject({ fields: { severity: '', code: '', message: '', detail: 'only a detail' } })
  })

  it('drops a position that is not a number instead of inventing one', () => {
    const result = decode(backend.noticeResponse([['P', 'soon']]))
    expect(result.type === 'NoticeResponse' && result.fields.position).toBeUndefined()
  })

  it('copies the secret key so it does not pin the received chunk', () => {
    const [tag, body] = parts(backend.backendKeyData(1, [1, 2, 3, 4]))
    const result = parseMessage(tag, body)
    expect(result.type === 'BackendKeyData' && result.secretKey.buffer).not.toBe(body.buffer)
  })

  it('returns DataRow columns and CopyData data as views into the body', () => {
    const [tag, body] = parts(backend.dataRow(['x']))
    const row = parseMessage(tag, body)
    if (row.type !== 'DataRow') throw new Error('expected a DataRow')
    expect(row.bytes).toBe(body)
    // count 2, length 4
    expect(row.start).toBe(2)
    expect(dataRowColumns(row)[0]?.buffer).toBe(body.buffer)
    const [copyTag, copyBody] = parts(backend.copyData('abc'))
    const copy = parseMessage(copyTag, copyBody)
    expect(copy.type === 'CopyData' && copy.data.buffer).toBe(copyBody.buffer)
  })

  it('reads counts above 32767 as unsigned', () => {
    const oids = Array.from({ length: 40000 }, (_, i) => i)
    const result = decode(backend.parameterDescription(oids))
    expect(result.type === 'ParameterDescription' && result.typeOids.length).toBe(40000)
  })
})

describe('parseMessage rejects malformed bodies (D2b)', () => {
  it('rejects a DataRow column length below -1', () => {
    expect(protocolMessage(message('D', int16(1), int32(-2)))).toBe(
      'invalid DataRow column 0 length -2: expected -1 or more',
    )
  })

  it('rejects a DataRow column that runs past the message end', () => {
    expect(protocolMessage(message('D', int16(1), int32(10), [1, 2, 3]))).toBe(
      'DataRow column 0 length 10 runs past the message end: 3 bytes left',
    )
  })

  it('rejects a DataRow announcing more columns than it holds', () => {
    expect(protocolMessage(message('D', int16(3), int32(-1)))).toBe(
      'DataRow announces 3 columns but has 4 bytes: expected at least 12',
    )
    expect(protocolMessage(message('D', int16(3), int32(1), [7], int32(-1), [0, 0, 0]))).toBe(
      'DataRow announces 3 columns but its body ends after 2',
    )
  })

  it('rejects a DataRow with bytes after its last column', () => {
    expect(protocolMessage(message('D', int16(1), int32(-1), [0]))).toBe(
      'DataRow message has 1 trailing bytes after its content: expected none',
    )
  })

  it('rejects a RowDescription announcing more fields than it holds', () => {
    const oneField = [...cstring('a'), ...new Array(18).fill(0)]
    expect(protocolMessage(message('T', int16(2), oneField))).toBe(
      'RowDescription announces 2 fields but its body ends after 1',
    )
  })

  it('rejects a RowDescription whose field is cut short', () => {
    expect(protocolMessage(message('T', int16(1), cstring('a'), [0, 0, 0]))).toBe(
      'RowDescription message is truncated: expected 18 more bytes, found 3',
    )
  })

  it('rejects a ReadyForQuery status other than I, T or E', () => {
    expect(protocolMessage(backend.readyForQuery('X'))).toBe(
      "invalid ReadyForQuery status 'X' (0x58): expected 'I', 'T' or 'E'",
    )
  })

  it('rejects a ReadyForQuery without a status', () => {
    expect(protocolMessage(message('Z'))).toBe(
      'ReadyForQuery message is truncated: expected 1 more bytes, found 0',
    )
  })

  it('rejects a string without its NUL terminator', () => {
    expect(protocolMessage(message('C', [0x53, 0x45]))).toBe(
      'CommandComplete message has a string without its NUL terminator',
    )
    expect(protocolMessage(message('S', cstring('a'), [0x62]))).toBe(
      'ParameterStatus message has a string without its NUL terminator',
    )
  })

  it('rejects an ErrorResponse without its final NUL', () => {
    expect(protocolMessage(message('E', [0x53], cstring('ERROR')))).toBe(
      'ErrorResponse message is truncated: expected 1 more bytes, found 0',
    )
  })

  it('rejects bytes in a message that has no body', () => {
    expect(protocolMessage(message('2', [1]))).toBe(
      'BindComplete message has 1 trailing bytes after its content: expected none',
    )
  })

  it('rejects a ParameterDescription whose count disagrees with its size', () => {
    expect(protocolMessage(message('t', int16(2), int32(23)))).toBe(
      'ParameterDescription announces 2 parameters (8 bytes) but has 4 bytes',
    )
  })

  it('rejects a CopyInResponse whose count disagrees with its size', () => {
    expect(protocolMessage(message('G', [0], int16(2), int16(0)))).toBe(
      'CopyInResponse announces 2 columns (4 bytes) but has 2 bytes',
    )
  })

  it('rejects an MD5 request whose salt is not 4 bytes', () => {
    expect(protocolMessage(backend.authenticationMD5Password([1, 2, 3]))).toBe(
      'AuthenticationMD5Password salt has 3 bytes: expected 4',
    )
  })

  it('rejects an unknown authentication code', () => {
    expect(protocolMessage(backend.authentication(99))).toBe(
      'unknown authentication request code 99: expected 0, 2, 3, 5 or 6 to 12',
    )
  })

  it('rejects a SASL mechanism list without its empty terminator', () => {
    expect(protocolMessage(message('R', int32(10), cstring('SCRAM-SHA-256')))).toBe(
      'AuthenticationSASL message is truncated: expected 1 more bytes, found 0',
    )
  })

  it('rejects a BackendKeyData key shorter than 4 or longer than 256 bytes', () => {
    expect(protocolMessage(backend.backendKeyData(1, [1, 2]))).toBe(
      'BackendKeyData message is truncated: expected 8 more bytes, found 6',
    )
    expect(protocolMessage(backend.backendKeyData(1, new Array(257).fill(1)))).toBe(
      'BackendKeyData secret key has 257 bytes: expected at most 256',
    )
  })

  it('rejects a NegotiateProtocolVersion announcing more options than bytes', () => {
    expect(protocolMessage(message('v', int32(0), int32(1000), cstring('_pq_.a')))).toBe(
      'NegotiateProtocolVersion announces 1000 options but has 7 bytes left',
    )
  })

  it('rejects a NotificationResponse without its payload', () => {
    expect(protocolMessage(message('A', int32(1), cstring('chan')))).toBe(
      'NotificationResponse message has a string without its NUL terminator',
    )
  })

  it('rejects an unknown type byte', () => {
    expect(() => parseMessage(0x78, new Uint8Array(0))).toThrow("unknown message type 'x' (0x78)")
  })
})
