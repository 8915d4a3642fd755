/**
 * Test-only: builds backend (and a few frontend) messages byte by byte, from plain arrays of numbers, without
 * any production code, so the codec is checked against an independent description of the wire format.
 */

const utf8 = new TextEncoder()

export type Bytes = number[]

export function int16(n: number): Bytes {
  return [(n >> 8) & 0xff, n & 0xff]
}

export function int32(n: number): Bytes {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]
}

export function text(s: string): Bytes {
  return [...utf8.encode(s)]
}

export function cstring(s: string): Bytes {
  return [...text(s), 0]
}

/** A whole message: type letter, int32 length (counting itself), body. */
export function message(tag: string, ...body: (Bytes | Uint8Array)[]): Bytes {
  const flat = body.flatMap((part) => [...part])
  return [tag.charCodeAt(0), ...int32(flat.length + 4), ...flat]
}

/** Joins messages into one stream. */
export function stream(...messages: Bytes[]): Uint8Array {
  return Uint8Array.from(messages.flat())
}

export const backend = {
  authenticationOk: () => message('R', int32(0)),
  authenticationCleartextPassword: () => message('R', int32(3)),
  authenticationMD5Password: (salt: Bytes) => message('R', int32(5), salt),
  authenticationSASL: (mechanisms: string[]) => message('R', int32(10), ...mechanisms.map(cstring), [0]),
  authenticationSASLContinue: (data: string) => message('R', int32(11), text(data)),
  authenticationSASLFinal: (data: string) => message('R', int32(12), text(data)),
  authentication: (code: number, extra: Bytes = []) => message('R', int32(code), extra),
  backendKeyData: (processId: number, key: Bytes) => message('K', int32(processId), key),
  bindComplete: () => message('2'),
  closeComplete: () => message('3'),
  parseComplete: () => message('1'),
  noData: () => message('n'),
  emptyQueryResponse: () => message('I'),
  portalSuspended: () => message('s'),
  copyDone: () => message('c'),
  commandComplete: (tag: string) => message('C', cstring(tag)),
  copyResponse: (tag: 'G' | 'H' | 'W', format: number, columns: number[]) =>
    message(tag, [format], int16(columns.length), ...columns.map(int16)),
  copyData: (data: Bytes | string) => message('d', typeof data === 'string' ? text(data) : data),
  dataRow: (columns: (string | Bytes | null)[]) =>
    message(
      'D',
      int16(columns.length),
      ...columns.map((c) =>
        c === null
          ? int32(-1)
          : typeof c === 'string'
            ? [...int32(text(c).length), ...text(c)]
            : [...int32(c.length), ...c],
      ),
    ),
  /** Fields by their one-letter code, in the given order. */
  errorResponse: (fields: [string, string][]) => fieldsMessage('E', fields),
  noticeResponse: (fields: [string, string][]) => fieldsMessage('N', fields),
  negotiateProtocolVersion: (newestMinor: number, options: string[]) =>
    message('v', int32(newestMinor), int32(options.length), ...options.map(cstring)),
  notificationResponse: (processId: number, channel: string, payload: string) =>
    message('A', int32(processId), cstring(channel), cstring(payload)),
  parameterDescription: (oids: number[]) => message('t', int16(oids.length), ...oids.map(int32)),
  parameterStatus: (name: string, value: string) => message('S', cstring(name), cstring(value)),
  readyForQuery: (status: string) => message('Z', [status.charCodeAt(0)]),
  rowDescription: (fields: FixtureField[]) =>
    message(
      'T',
      int16(fields.length),
      ...fields.map((f) => [
        ...cstring(f.name),
        ...int32(f.tableOid),
        ...int16(f.columnId),
        ...int32(f.typeOid),
        ...int16(f.typeSize),
        ...int32(f.typeModifier),
        ...int16(f.format),
      ]),
    ),
}

export interface FixtureField {
  name: string
  tableOid: number
  columnId: number
  typeOid: number
  typeSize: number
  typeModifier: number
  format: number
}

function fieldsMessage(tag: string, fields: [string, string][]): Bytes {
  return message(tag, ...fields.map(([code, value]) => [code.charCodeAt(0), ...cstring(value)]), [0])
}

/** Splits a frontend byte stream into `{ tag, body }` records (startup-phase messages have no tag). */
export function splitFrontend(bytes: Uint8Array, untaggedFirst = false): { tag: string; body: Uint8Array }[] {
  const out: { tag: string; body: Uint8Array }[] = []
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let at = 0
  if (untaggedFirst) {
    const length = view.getInt32(0)
    out.push({ tag: '', body: bytes.subarray(4, length) })
    at = length
  }
  while (at < bytes.length) {
    const length = view.getInt32(at + 1)
    out.push({ tag: String.fromCharCode(bytes[at]!), body: bytes.subarray(at + 5, at + 1 + length) })
    at += 1 + length
  }
  return out
}
