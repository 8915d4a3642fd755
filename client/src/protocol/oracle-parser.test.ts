/**
 * Differential tests against node-postgres's parser (`pg-protocol`): both parse the same backend bytes to the
 * same content. Messages pg-protocol does not know (protocol 3.2, CopyBoth, unsupported auth) are left out.
 */
import fc from 'fast-check'
import { Parser } from 'pg-protocol/dist/parser'
import { describe, expect, it } from 'vitest'
import { type Expected, everyMessage } from './all-messages.fixture.ts'
import { type Bytes, backend, stream } from './bytes.fixture.ts'
import { dataRowColumns } from './decode.ts'
import type { BackendMessage } from './messages.ts'
import { BackendParser } from './parser.ts'

type Loose = Record<string, unknown>

const utf8 = new TextDecoder('utf-8', { ignoreBOM: true })
const ERROR_FIELDS = [
  'severity',
  'code',
  'message',
  'detail',
  'hint',
  'internalQuery',
  'where',
  'schema',
  'table',
]
const MORE_ERROR_FIELDS = ['column', 'dataType', 'constraint', 'file', 'routine']
const NUMERIC_ERROR_FIELDS = ['position', 'internalPosition', 'line']

/** pg-protocol's message, reshaped as ours (its names, strings where we keep bytes). */
function fromPg(message: unknown): unknown {
  const m = message as Loose
  switch (m.name) {
    case 'authenticationOk':
      return { type: 'AuthenticationOk' }
    case 'authenticationCleartextPassword':
      return { type: 'AuthenticationCleartextPassword' }
    case 'authenticationMD5Password':
      return { type: 'AuthenticationMD5Password', salt: Uint8Array.from(m.salt as Buffer) }
    case 'authenticationSASL':
      return { type: 'AuthenticationSASL', mechanisms: m.mechanisms }
    case 'authenticationSASLContinue':
      return { type: 'AuthenticationSASLContinue', data: m.data }
    case 'authenticationSASLFinal':
      return { type: 'AuthenticationSASLFinal', data: m.data }
    case 'backendKeyData':
      return { type: 'BackendKeyData', processId: m.processID, secretKey: m.secretKey }
    case 'parseComplete':
      return { type: 'ParseComplete' }
    case 'bindComplete':
      return { type: 'BindComplete' }
    case 'closeComplete':
      return { type: 'CloseComplete' }
    case 'noData':
      return { type: 'NoData' }
    case 'portalSuspended':
      return { type: 'PortalSuspended' }
    case 'emptyQuery':
      return { type: 'EmptyQueryResponse' }
    case 'copyDone':
      return { type: 'CopyDone' }
    case 'copyData':
      return { type: 'CopyData', data: Uint8Array.from(m.chunk as Buffer) }
    case 'commandComplete':
      return { type: 'CommandComplete', tag: m.text }
    case 'readyForQuery':
      return { type: 'ReadyForQuery', status: m.status }
    case 'parameterStatus':
      return { type: 'ParameterStatus', name: m.parameterName, value: m.parameterValue }
    case 'parameterDescription':
      return { type: 'ParameterDescription', typeOids: m.dataTypeIDs }
    case 'notification':
      return { type: 'NotificationResponse', processId: m.processId, channel: m.channel, payload: m.payload }
    case 'copyInResponse':
    case 'copyOutResponse':
      return {
        type: m.name === 'copyInResponse' ? 'CopyInResponse' : 'CopyOutResponse',
        format: m.binary ? 1 : 0,
        columnFormats: m.columnTypes,
      }
    case 'rowDescription':
      return {
        type: 'RowDescription',
        fields: (m.fields as Loose[]).map((f) => ({
          name: f.name,
          tableOid: f.tableID,
          columnId: f.columnID,
          typeOid: f.dataTypeID,
          typeSize: f.dataTypeSize,
          typeModifier: f.dataTypeModifier,
          format: f.format === 'binary' ? 1 : 0,
        })),
      }
    case 'dataRow':
      return { type: 'DataRow', columns: m.fields }
    case 'error':
    case 'notice': {
      const fields: Loose = {}
      for (const key of [...ERROR_FIELDS, ...MORE_ERROR_FIELDS]) fields[key] = m[key]
      for (const key of NUMERIC_ERROR_FIELDS) fields[key] = m[key] === undefined ? undefined : Number(m[key])
      return { type: m.name === 'error' ? 'ErrorResponse' : 'NoticeResponse', fields }
    }
    default:
      throw new Error(`no mapping for pg-protocol message ${String(m.name)}`)
  }
}

/** Our message, with bytes turned into what pg-protocol gives (strings, an int32 key). */
function comparable(message: BackendMessage): unknown {
  switch (message.type) {
    case 'DataRow':
      return {
        type: 'DataRow',
        columns: dataRowColumns(message).map((c) => (c === null ? null : utf8.decode(c))),
      }
    case 'AuthenticationSASLContinue':
    case 'AuthenticationSASLFinal':
      return { ...message, data: utf8.decode(message.data) }
    case 'BackendKeyData':
      return {
        ...message,
        secretKey: new DataView(message.secretKey.buffer).getInt32(message.secretKey.byteOffset),
      }
    case 'ErrorResponse':
    case 'NoticeResponse':
      return { ...message, fields: { ...message.fields, severityNonLocalized: undefined } }
    default:
      return message
  }
}

function parseWithPg(bytes: Uint8Array): unknown[] {
  const out: unknown[] = []
  new Parser().parse(Buffer.from(bytes), (m) => out.push(fromPg(m)))
  return out
}

function parseWithOurs(bytes: Uint8Array): unknown[] {
  const out: unknown[] = []
  const parser = new BackendParser()
  parser.parse(bytes, (m) => out.push(comparable(m)))
  parser.end()
  return out
}

/** Messages pg-protocol does not decode: unsupported auth, protocol 3.2 keys and negotiation, CopyBoth. */
function pgKnows([, message]: [Bytes, Expected]): boolean {
  if (message.type === 'BackendKeyData') return message.secretKey.length === 4
  if (message.type === 'NoticeResponse') return false // carries V, which pg-protocol does not read
  return !['AuthenticationUnsupported', 'NegotiateProtocolVersion', 'CopyBothResponse'].includes(message.type)
}

const cstr = fc.string({ unit: 'binary', maxLength: 16 }).map((s) => s.replaceAll('\0', ''))
const errorField = fc.constantFrom(...'SCMDHPpqWstcdnFLR')
const pgMessage: fc.Arbitrary<Bytes> = fc.oneof(
  fc
    .array(fc.option(fc.string({ unit: 'binary', maxLength: 12 }), { nil: null }), { maxLength: 8 })
    .map(backend.dataRow),
  fc
    .array(
      fc.record({
        name: cstr,
        tableOid: fc.integer({ min: 0, max: 0xffffffff }),
        columnId: fc.integer({ min: -32768, max: 32767 }),
        typeOid: fc.integer({ min: 0, max: 0xffffffff }),
        typeSize: fc.integer({ min: -32768, max: 32767 }),
        typeModifier: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
        format: fc.constantFrom(0, 1),
      }),
      { maxLength: 4 },
    )
    .map(backend.rowDescription),
  cstr.map(backend.commandComplete),
  fc.array(fc.tuple(errorField, fc.oneof(cstr, fc.nat(99999).map(String))), { maxLength: 8 }).map((fields) =>
    // S, C and M always come first: where they are missing we say '' and pg-protocol says undefined
    backend.errorResponse([
      ['S', 'ERROR'],
      ['C', 'XX000'],
      ['M', 'failed'],
      ...fields.map(([code, value]): [string, string] => [
        code,
        'PpL'.includes(code) ? String(value.length) : value,
      ]),
    ]),
  ),
  fc
    .tuple(fc.integer({ min: 0, max: 0x7fffffff }), cstr, cstr)
    .map(([p, c, v]) => backend.notificationResponse(p, c, v)),
  fc.tuple(cstr, cstr).map(([n, v]) => backend.parameterStatus(n, v)),
  fc.constantFrom('I', 'T', 'E').map(backend.readyForQuery),
  fc.uint8Array({ maxLength: 32 }).map((d) => backend.copyData([...d])),
  fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 6 }).map(backend.parameterDescription),
  fc
    .tuple(fc.constantFrom('G' as const, 'H' as const), fc.array(fc.constantFrom(0, 1), { maxLength: 5 }))
    .map(([tag, columns]) => backend.copyResponse(tag, columns.includes(1) ? 1 : 0, columns)),
  fc
    .tuple(fc.integer({ min: 0, max: 0x7fffffff }), fc.array(fc.nat(255), { minLength: 4, maxLength: 4 }))
    .map(([pid, key]) => backend.backendKeyData(pid, key)),
)

describe('parser against pg-protocol', () => {
  it('parses the fixture messages pg-protocol knows to the same content', () => {
    const bytes = stream(...everyMessage.filter(pgKnows).map(([b]) => b))
    const ours = parseWithOurs(bytes)
    expect(ours.length).toBeGreaterThan(25)
    expect(ours).toEqual(parseWithPg(bytes))
  })

  it('parses random message streams to the same content', () => {
    fc.assert(
      fc.property(fc.array(pgMessage, { maxLength: 20 }), (messages) => {
        const bytes = stream(...messages)
        expect(parseWithOurs(bytes)).toEqual(parseWithPg(bytes))
      }),
      { numRuns: 300 },
    )
  })
})
