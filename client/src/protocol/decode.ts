/**
 * Decodes one complete backend message body. Every decoder reads `bytes[start, end)` and checks that the body
 * holds exactly its content: a field running past the end, a missing NUL or trailing bytes are protocol errors.
 */
import { protocolError } from '../errors.ts'
import { decodeFields } from './decode-fields.ts'
import {
  decodeAuthentication,
  decodeBackendKeyData,
  decodeNegotiateProtocolVersion,
} from './decode-startup.ts'
import type {
  BackendMessage,
  CommandComplete,
  DataRow,
  FieldDescription,
  NotificationResponse,
  ParameterDescription,
  ParameterStatus,
  ReadyForQuery,
  RowDescription,
} from './messages.ts'
import {
  cstringEnd,
  expectEnd,
  need,
  readInt16,
  readInt32,
  readString,
  readUint16,
  readUint32,
} from './read.ts'
import { BackendTag, describeTag } from './tags.ts'

/** The messages without a body, by type byte: one frozen instance each. */
const EMPTY: Record<number, BackendMessage> = {}
for (const type of [
  'BindComplete',
  'CloseComplete',
  'ParseComplete',
  'NoData',
  'EmptyQueryResponse',
  'PortalSuspended',
  'CopyDone',
] as const)
  EMPTY[BackendTag[type]] = Object.freeze({ type })

/** 1 for every type byte {@link decodeMessage} knows, so the framer can reject a stranger from its header. */
const KNOWN_TAGS = new Uint8Array(256)
for (const [name, tag] of Object.entries(BackendTag)) if (name !== 'FunctionCallResponse') KNOWN_TAGS[tag] = 1

/** True when `tag` is a backend message type edgepg decodes. */
export function isKnownBackendTag(tag: number): boolean {
  return KNOWN_TAGS[tag] === 1
}

/** The error for a type byte that is not a backend message we know. */
export function unknownTag(tag: number) {
  if (tag === BackendTag.FunctionCallResponse) {
    return protocolError(
      `unexpected FunctionCallResponse ${describeTag(tag)}: edgepg never sends FunctionCall`,
    )
  }
  return protocolError(`unknown message type ${describeTag(tag)}`)
}

/**
 * Decodes a single complete message body (the bytes after the 5-byte header).
 * @param tag the message type byte
 * @param body the body; DataRow and CopyData messages refer to it, not to a copy
 */
export function parseMessage(tag: number, body: Uint8Array): BackendMessage {
  return decodeMessage(tag, body, 0, body.length)
}

/** Decodes the body at `bytes[start, end)` in place. */
export function decodeMessage(tag: number, bytes: Uint8Array, start: number, end: number): BackendMessage {
  switch (tag) {
    case BackendTag.DataRow:
      return decodeDataRow(bytes, start, end)
    case BackendTag.CommandComplete:
      return decodeCommandComplete(bytes, start, end)
    case BackendTag.ReadyForQuery:
      return decodeReadyForQuery(bytes, start, end)
    case BackendTag.RowDescription:
      return decodeRowDescription(bytes, start, end)
    case BackendTag.CopyData:
      return { type: 'CopyData', data: view(bytes, start, end - start) }
    case BackendTag.ErrorResponse:
      return { type: 'ErrorResponse', fields: decodeFields('ErrorResponse', bytes, start, end) }
    case BackendTag.NoticeResponse:
      return { type: 'NoticeResponse', fields: decodeFields('NoticeResponse', bytes, start, end) }
    case BackendTag.ParameterStatus:
      return decodeParameterStatus(bytes, start, end)
    case BackendTag.ParameterDescription:
      return decodeParameterDescription(bytes, start, end)
    case BackendTag.NotificationResponse:
      return decodeNotificationResponse(bytes, start, end)
    case BackendTag.CopyInResponse:
      return { type: 'CopyInResponse', ...decodeCopyResponse('CopyInResponse', bytes, start, end) }
    case BackendTag.CopyOutResponse:
      return { type: 'CopyOutResponse', ...decodeCopyResponse('CopyOutResponse', bytes, start, end) }
    case BackendTag.CopyBothResponse:
      return { type: 'CopyBothResponse', ...decodeCopyResponse('CopyBothResponse', bytes, start, end) }
    case BackendTag.Authentication:
      return decodeAuthentication(bytes, start, end)
    case BackendTag.BackendKeyData:
      return decodeBackendKeyData(bytes, start, end)
    case BackendTag.NegotiateProtocolVersion:
      return decodeNegotiateProtocolVersion(bytes, start, end)
    default: {
      const message = EMPTY[tag]
      if (message === undefined) throw unknownTag(tag)
      expectEnd(message.type, start, end)
      return message
    }
  }
}

/** A view of `bytes[at, at + length)`; the constructor is cheaper than `subarray` (no species lookup). */
function view(bytes: Uint8Array, at: number, length: number): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset + at, length)
}

/**
 * int16 column count, then per column an int32 length (-1 for NULL) and that many bytes. Every length is
 * checked here, so readers of the message can walk the columns without checks; no column view is made.
 */
function decodeDataRow(bytes: Uint8Array, start: number, end: number): DataRow {
  need('DataRow', start, 2, end)
  const columnCount = readUint16(bytes, start)
  if (4 * columnCount > end - start - 2) {
    throw protocolError(
      `DataRow announces ${columnCount} columns but has ${end - start - 2} bytes: expected at least ${4 * columnCount}`,
    )
  }
  let at = start + 2
  for (let i = 0; i < columnCount; i++) {
    if (at + 4 > end) {
      throw protocolError(`DataRow announces ${columnCount} columns but its body ends after ${i}`)
    }
    const length = readInt32(bytes, at)
    at += 4
    if (length < 0) {
      if (length !== -1)
        throw protocolError(`invalid DataRow column ${i} length ${length}: expected -1 or more`)
    } else {
      if (length > end - at) {
        throw protocolError(
          `DataRow column ${i} length ${length} runs past the message end: ${end - at} bytes left`,
        )
      }
      at += length
    }
  }
  expectEnd('DataRow', at, end)
  return { type: 'DataRow', columnCount, bytes, start: start + 2, end }
}

/** The columns of a DataRow, each a view into its bytes or null for SQL NULL. */
export function dataRowColumns(message: DataRow): (Uint8Array | null)[] {
  const { bytes, columnCount } = message
  const columns: (Uint8Array | null)[] = new Array(columnCount)
  let at = message.start
  for (let i = 0; i < columnCount; i++) {
    const length = readInt32(bytes, at)
    at += 4
    if (length < 0) {
      columns[i] = null
    } else {
      columns[i] = view(bytes, at, length)
      at += length
    }
  }
  return columns
}

/** int16 field count, then per field: name, table OID, column number, type OID, size, modifier, format. */
function decodeRowDescription(bytes: Uint8Array, start: number, end: number): RowDescription {
  need('RowDescription', start, 2, end)
  const count = readUint16(bytes, start)
  const fields: FieldDescription[] = []
  let at = start + 2
  for (let i = 0; i < count; i++) {
    if (at >= end)
      throw protocolError(`RowDescription announces ${count} fields but its body ends after ${i}`)
    const nul = cstringEnd('RowDescription', bytes, at, end)
    const name = readString(bytes, at, nul)
    at = nul + 1
    need('RowDescription', at, 18, end)
    fields.push({
      name,
      tableOid: readUint32(bytes, at),
      columnId: readInt16(bytes, at + 4),
      typeOid: readUint32(bytes, at + 6),
      typeSize: readInt16(bytes, at + 10),
      typeModifier: readInt32(bytes, at + 12),
      format: readInt16(bytes, at + 16),
    })
    at += 18
  }
  expectEnd('RowDescription', at, end)
  return { type: 'RowDescription', fields }
}

function decodeCommandComplete(bytes: Uint8Array, start: number, end: number): CommandComplete {
  const nul = cstringEnd('CommandComplete', bytes, start, end)
  expectEnd('CommandComplete', nul + 1, end)
  return { type: 'CommandComplete', tag: readString(bytes, start, nul) }
}

function decodeReadyForQuery(bytes: Uint8Array, start: number, end: number): ReadyForQuery {
  need('ReadyForQuery', start, 1, end)
  expectEnd('ReadyForQuery', start + 1, end)
  const status = bytes[start]!
  // I idle, T in a transaction block, E in a failed transaction block
  if (status === 0x49) return { type: 'ReadyForQuery', status: 'I' }
  if (status === 0x54) return { type: 'ReadyForQuery', status: 'T' }
  if (status === 0x45) return { type: 'ReadyForQuery', status: 'E' }
  throw protocolError(`invalid ReadyForQuery status ${describeTag(status)}: expected 'I', 'T' or 'E'`)
}

function decodeParameterStatus(bytes: Uint8Array, start: number, end: number): ParameterStatus {
  const nameEnd = cstringEnd('ParameterStatus', bytes, start, end)
  const valueEnd = cstringEnd('ParameterStatus', bytes, nameEnd + 1, end)
  expectEnd('ParameterStatus', valueEnd + 1, end)
  return {
    type: 'ParameterStatus',
    name: readString(bytes, start, nameEnd),
    value: readString(bytes, nameEnd + 1, valueEnd),
  }
}

/** int16 count (read unsigned: a statement may have up to 65535 parameters), then one OID each. */
function decodeParameterDescription(bytes: Uint8Array, start: number, end: number): ParameterDescription {
  need('ParameterDescription', start, 2, end)
  const count = readUint16(bytes, start)
  if (end - start !== 2 + 4 * count) {
    throw protocolError(
      `ParameterDescription announces ${count} parameters (${4 * count} bytes) but has ${end - start - 2} bytes`,
    )
  }
  const typeOids: number[] = []
  for (let at = start + 2; at < end; at += 4) typeOids.push(readUint32(bytes, at))
  return { type: 'ParameterDescription', typeOids }
}

function decodeNotificationResponse(bytes: Uint8Array, start: number, end: number): NotificationResponse {
  need('NotificationResponse', start, 4, end)
  const channelStart = start + 4
  const channelEnd = cstringEnd('NotificationResponse', bytes, channelStart, end)
  const payloadEnd = cstringEnd('NotificationResponse', bytes, channelEnd + 1, end)
  expectEnd('NotificationResponse', payloadEnd + 1, end)
  return {
    type: 'NotificationResponse',
    processId: readInt32(bytes, start),
    channel: readString(bytes, channelStart, channelEnd),
    payload: readString(bytes, channelEnd + 1, payloadEnd),
  }
}

/** int8 overall format, int16 column count, then an int16 format per column. */
function decodeCopyResponse(name: string, bytes: Uint8Array, start: number, end: number) {
  need(name, start, 3, end)
  const format = bytes[start]!
  const count = readUint16(bytes, start + 1)
  if (end - start !== 3 + 2 * count) {
    throw protocolError(
      `${name} announces ${count} columns (${2 * count} bytes) but has ${end - start - 3} bytes`,
    )
  }
  const columnFormats: number[] = []
  for (let at = start + 3; at < end; at += 2) columnFormats.push(readInt16(bytes, at))
  return { format, columnFormats }
}
