/**
 * Test-only: one backend stream holding every message type edgepg decodes, and the messages it must yield.
 * Built by hand with `bytes.fixture.ts`, never with production code.
 */
import { type Bytes, backend } from './bytes.fixture.ts'
import type { BackendMessage, DataRow } from './messages.ts'

/** A DataRow as the fixtures state it: its column values, null for SQL NULL. */
export interface DataRowValues {
  type: 'DataRow'
  columns: (Uint8Array | null)[]
}

/** A message as the fixtures state it: DataRows by their column values, every other message as it is. */
export type Expected = Exclude<BackendMessage, DataRow> | DataRowValues

/** What `message` says, in the fixtures' terms. A DataRow's columns are read here by hand, as copies. */
export function contentOf(message: BackendMessage): Expected {
  if (message.type !== 'DataRow') return message
  const { bytes, start } = message
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length)
  const columns: (Uint8Array | null)[] = []
  let at = start
  for (let i = 0; i < message.columnCount; i++) {
    const length = view.getInt32(at)
    at += 4
    if (length === -1) {
      columns.push(null)
    } else {
      columns.push(bytes.slice(at, at + length))
      at += length
    }
  }
  return { type: 'DataRow', columns }
}

const field = {
  name: 'id',
  tableOid: 16384,
  columnId: 1,
  typeOid: 23,
  typeSize: 4,
  typeModifier: -1,
  format: 0,
}
const wideField = {
  name: 'prénom',
  tableOid: 0xfffffff0,
  columnId: -2,
  typeOid: 0x80000001,
  typeSize: -1,
  typeModifier: 68,
  format: 1,
}
const key32 = Array.from({ length: 32 }, (_, i) => i * 7)

/** Every backend message type, each with the message it must decode to. */
export const everyMessage: [Bytes, Expected][] = [
  [backend.authenticationOk(), { type: 'AuthenticationOk' }],
  [backend.authenticationCleartextPassword(), { type: 'AuthenticationCleartextPassword' }],
  [
    backend.authenticationMD5Password([1, 2, 3, 250]),
    { type: 'AuthenticationMD5Password', salt: Uint8Array.of(1, 2, 3, 250) },
  ],
  [
    backend.authenticationSASL(['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256']),
    { type: 'AuthenticationSASL', mechanisms: ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256'] },
  ],
  [
    backend.authenticationSASLContinue('r=abc,s=xyz,i=4096'),
    { type: 'AuthenticationSASLContinue', data: new TextEncoder().encode('r=abc,s=xyz,i=4096') },
  ],
  [
    backend.authenticationSASLFinal('v=sig'),
    { type: 'AuthenticationSASLFinal', data: new TextEncoder().encode('v=sig') },
  ],
  [backend.authentication(7), { type: 'AuthenticationUnsupported', code: 7 }],
  [backend.authentication(8, [9, 9, 9]), { type: 'AuthenticationUnsupported', code: 8 }],
  [
    backend.backendKeyData(4242, [0, 0, 1, 2]),
    { type: 'BackendKeyData', processId: 4242, secretKey: Uint8Array.of(0, 0, 1, 2) },
  ],
  [
    backend.backendKeyData(7, key32),
    { type: 'BackendKeyData', processId: 7, secretKey: Uint8Array.from(key32) },
  ],
  [
    backend.negotiateProtocolVersion(0, ['_pq_.compression']),
    { type: 'NegotiateProtocolVersion', newestMinor: 0, unrecognized: ['_pq_.compression'] },
  ],
  [
    backend.parameterStatus('TimeZone', 'Europe/Paris'),
    { type: 'ParameterStatus', name: 'TimeZone', value: 'Europe/Paris' },
  ],
  [backend.readyForQuery('I'), { type: 'ReadyForQuery', status: 'I' }],
  [backend.parseComplete(), { type: 'ParseComplete' }],
  [backend.bindComplete(), { type: 'BindComplete' }],
  [
    backend.parameterDescription([23, 25, 0xffffffff]),
    { type: 'ParameterDescription', typeOids: [23, 25, 0xffffffff] },
  ],
  [backend.noData(), { type: 'NoData' }],
  [backend.rowDescription([field, wideField]), { type: 'RowDescription', fields: [field, wideField] }],
  [
    backend.dataRow(['1', null, '', [0, 255, 0]]),
    {
      type: 'DataRow',
      columns: [Uint8Array.of(0x31), null, new Uint8Array(0), Uint8Array.of(0, 255, 0)],
    },
  ],
  [backend.dataRow([]), { type: 'DataRow', columns: [] }],
  [backend.portalSuspended(), { type: 'PortalSuspended' }],
  [backend.commandComplete('SELECT 1'), { type: 'CommandComplete', tag: 'SELECT 1' }],
  [backend.emptyQueryResponse(), { type: 'EmptyQueryResponse' }],
  [backend.closeComplete(), { type: 'CloseComplete' }],
  [
    backend.noticeResponse([
      ['S', 'NOTICE'],
      ['V', 'NOTICE'],
      ['C', '00000'],
      ['M', 'table "t" does not exist, skipping'],
      ['F', 'tablecmds.c'],
      ['L', '1300'],
      ['R', 'DropErrorMsgNonExistent'],
    ]),
    {
      type: 'NoticeResponse',
      fields: {
        severity: 'NOTICE',
        severityNonLocalized: 'NOTICE',
        code: '00000',
        message: 'table "t" does not exist, skipping',
        file: 'tablecmds.c',
        line: 1300,
        routine: 'DropErrorMsgNonExistent',
      },
    },
  ],
  [
    backend.errorResponse([
      ['S', 'ERROR'],
      ['C', '23505'],
      ['M', 'duplicate key value violates unique constraint "t_pkey"'],
      ['D', 'Key (id)=(1) already exists.'],
      ['H', 'a hint'],
      ['P', '15'],
      ['p', '3'],
      ['q', 'select 1'],
      ['W', 'PL/pgSQL function f()'],
      ['s', 'public'],
      ['t', 't'],
      ['c', 'id'],
      ['d', 'int4'],
      ['n', 't_pkey'],
      ['Z', 'an unknown field, ignored'],
    ]),
    {
      type: 'ErrorResponse',
      fields: {
        severity: 'ERROR',
        code: '23505',
        message: 'duplicate key value violates unique constraint "t_pkey"',
        detail: 'Key (id)=(1) already exists.',
        hint: 'a hint',
        position: 15,
        internalPosition: 3,
        internalQuery: 'select 1',
        where: 'PL/pgSQL function f()',
        schema: 'public',
        table: 't',
        column: 'id',
        dataType: 'int4',
        constraint: 't_pkey',
      },
    },
  ],
  [backend.readyForQuery('E'), { type: 'ReadyForQuery', status: 'E' }],
  [backend.copyResponse('G', 0, [0, 0]), { type: 'CopyInResponse', format: 0, columnFormats: [0, 0] }],
  [backend.copyResponse('H', 1, [1]), { type: 'CopyOutResponse', format: 1, columnFormats: [1] }],
  [backend.copyResponse('W', 0, []), { type: 'CopyBothResponse', format: 0, columnFormats: [] }],
  [backend.copyData('1\tone\n'), { type: 'CopyData', data: new TextEncoder().encode('1\tone\n') }],
  [backend.copyData([]), { type: 'CopyData', data: new Uint8Array(0) }],
  [backend.copyDone(), { type: 'CopyDone' }],
  [
    backend.notificationResponse(99, 'chan', 'héllo ✓'),
    { type: 'NotificationResponse', processId: 99, channel: 'chan', payload: 'héllo ✓' },
  ],
  [backend.readyForQuery('T'), { type: 'ReadyForQuery', status: 'T' }],
]
