/**
 * The inspector's own reading of tapped bytes: a small framing loop per direction and a decoder for the fields
 * worth showing. Independent of the client's codec on purpose, so the inspector shows what was on the wire,
 * not what the driver thought it was. Secrets never reach a decoded message: passwords, SASL payloads and
 * cancel keys are replaced by their length.
 *
 * Framing: the client's first message (startup, SSLRequest, GSSENCRequest, CancelRequest) has no type byte,
 * only an int32 length; every later message either way is a type byte and an int32 length that counts itself.
 */

export type Direction = 'frontend' | 'backend'

/** One protocol message as the inspector shows it. */
export interface WireMessage {
  direction: Direction
  /** PostgreSQL's name for it: `Query`, `RowDescription`, `AuthenticationSASL`, … */
  type: string
  /** Bytes on the wire, type byte and length included. */
  length: number
  /** Decoded fields, already in display form; secrets are redacted. */
  fields: Record<string, string>
  /** Milliseconds since the connection was opened. */
  at: number
}

/** Longest message the inspector frames; anything longer means it lost track of the stream. */
const MAX_LENGTH = 1 << 30

/** Bytes of each column value a DataRow shows. */
const PREVIEW_BYTES = 100

const SSL_REQUEST = 80877103
const GSSENC_REQUEST = 80877104
const CANCEL_REQUEST = 80877102

/** What the server last asked for, which decides how the client's `p` message reads. */
type AuthState = 'none' | 'password' | 'sasl' | 'sasl-continue' | 'gss'

// ignoreBOM: a value that starts with U+FEFF shows it, as the server sent it.
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true })

/** Frames and decodes both directions of one connection. Feed it every tapped chunk, in order. */
export class WireDecoder {
  readonly #onMessage: (message: WireMessage) => void
  readonly #frontend = new Framer()
  readonly #backend = new Framer()
  #auth: AuthState = 'none'
  /** The client's next message has no type byte (start of stream, or after an SSL/GSS refusal). */
  #isFrontendAtStartup = true
  /** The server owes a one-byte answer (`S`/`N`) to an SSLRequest or GSSENCRequest. */
  #isBackendAnswerPending = false
  #isBroken: Record<Direction, boolean> = { frontend: false, backend: false }

  constructor(onMessage: (message: WireMessage) => void) {
    this.#onMessage = onMessage
  }

  push(direction: Direction, chunk: Uint8Array, at: number): void {
    if (this.#isBroken[direction]) return
    const framer = direction === 'frontend' ? this.#frontend : this.#backend
    framer.add(chunk)
    for (;;) {
      if (direction === 'backend' && this.#isBackendAnswerPending) {
        const answer = framer.take(1)
        if (!answer) return
        this.#isBackendAnswerPending = false
        this.#isFrontendAtStartup = true
        const accepted = answer[0] === 0x53 // S
        this.#emit(direction, 'SSLResponse', 1, { answer: accepted ? 'S (accepted)' : 'N (refused)' }, at)
        continue
      }
      const hasTag = direction === 'backend' || !this.#isFrontendAtStartup
      const header = framer.peek(hasTag ? 5 : 4)
      if (!header) return
      const view = new DataView(header.buffer, header.byteOffset, header.byteLength)
      const length = view.getInt32(hasTag ? 1 : 0)
      if (length < 4 || length > MAX_LENGTH) {
        this.#isBroken[direction] = true
        this.#emit(direction, 'Unreadable', framer.size, { reason: `impossible length ${length}` }, at)
        return
      }
      const message = framer.take(length + (hasTag ? 1 : 0))
      if (!message) return
      const body = new Reader(message, hasTag ? 5 : 4)
      if (!hasTag) this.#startup(body, message.length, at)
      else if (direction === 'frontend') this.#frontendMessage(message[0]!, body, message.length, at)
      else this.#backendMessage(message[0]!, body, message.length, at)
    }
  }

  #emit(direction: Direction, type: string, length: number, fields: Record<string, string>, at: number) {
    this.#onMessage({ direction, type, length, fields, at })
  }

  #startup(body: Reader, length: number, at: number) {
    const code = body.int32()
    if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
      this.#isBackendAnswerPending = true
      return this.#emit('frontend', code === SSL_REQUEST ? 'SSLRequest' : 'GSSENCRequest', length, {}, at)
    }
    if (code === CANCEL_REQUEST) {
      const pid = body.int32()
      return this.#emit(
        'frontend',
        'CancelRequest',
        length,
        { pid: String(pid), key: redacted(body.rest()) },
        at,
      )
    }
    this.#isFrontendAtStartup = false
    const fields: Record<string, string> = { protocol: `${code >>> 16}.${code & 0xffff}` }
    for (;;) {
      const name = body.cstring()
      if (name === '') break
      fields[name] = body.cstring()
    }
    this.#emit('frontend', 'StartupMessage', length, fields, at)
  }

  #frontendMessage(tag: number, body: Reader, length: number, at: number) {
    const emit = (type: string, fields: Record<string, string> = {}) =>
      this.#emit('frontend', type, length, fields, at)
    switch (tag) {
      case 0x51: // Q
        return emit('Query', { sql: body.cstring() })
      case 0x50: {
        // P
        const name = body.cstring()
        const sql = body.cstring()
        const types = body.int16Array(() => String(body.int32()))
        return emit('Parse', { statement: name || '(unnamed)', sql, paramTypes: types.join(', ') })
      }
      case 0x42: {
        // B
        const portal = body.cstring()
        const statement = body.cstring()
        const formats = body.int16Array(() => body.int16())
        const params = body.int16Array(() => {
          const size = body.int32()
          if (size >= 0) body.skip(size)
          return size
        })
        return emit('Bind', {
          portal: portal || '(unnamed)',
          statement: statement || '(unnamed)',
          params: String(params.length),
          paramFormats: formats.map(formatName).join(', '),
        })
      }
      case 0x45: // E
        return emit('Execute', { portal: body.cstring() || '(unnamed)', maxRows: String(body.int32()) })
      case 0x44: // D
        return emit('Describe', { what: kindName(body.byte()), name: body.cstring() || '(unnamed)' })
      case 0x43: // C
        return emit('Close', { what: kindName(body.byte()), name: body.cstring() || '(unnamed)' })
      case 0x53: // S
        return emit('Sync')
      case 0x48: // H
        return emit('Flush')
      case 0x58: // X
        return emit('Terminate')
      case 0x64: // d
        return emit('CopyData', { bytes: String(body.remaining) })
      case 0x63: // c
        return emit('CopyDone')
      case 0x66: // f
        return emit('CopyFail', { message: body.cstring() })
      case 0x70: // p: what it is depends on what the server asked for
        return this.#authResponse(body, emit)
      default:
        return emit(`Unknown (${tagName(tag)})`, { bytes: String(body.remaining) })
    }
  }

  #authResponse(body: Reader, emit: (type: string, fields?: Record<string, string>) => void) {
    switch (this.#auth) {
      case 'sasl': {
        const mechanism = body.cstring()
        const size = body.int32()
        this.#auth = 'sasl-continue'
        return emit('SASLInitialResponse', { mechanism, payload: redacted(Math.max(size, 0)) })
      }
      case 'sasl-continue':
        return emit('SASLResponse', { payload: redacted(body.remaining) })
      case 'gss':
        return emit('GSSResponse', { payload: redacted(body.remaining) })
      default:
        return emit('PasswordMessage', { password: redacted(body.remaining) })
    }
  }

  #backendMessage(tag: number, body: Reader, length: number, at: number) {
    const emit = (type: string, fields: Record<string, string> = {}) =>
      this.#emit('backend', type, length, fields, at)
    switch (tag) {
      case 0x52: // R
        return this.#authentication(body, emit)
      case 0x53: // S
        return emit('ParameterStatus', { name: body.cstring(), value: body.cstring() })
      case 0x4b: // K
        return emit('BackendKeyData', { pid: String(body.int32()), key: redacted(body.remaining) })
      case 0x5a: {
        // Z
        const status = String.fromCharCode(body.byte())
        const meaning = { I: 'idle', T: 'in transaction', E: 'failed transaction' }[status] ?? 'unknown'
        return emit('ReadyForQuery', { status: `${status} (${meaning})` })
      }
      case 0x54: {
        // T
        const columns = body.int16Array(() => {
          const name = body.cstring()
          body.skip(6) // table OID, column number
          const type = body.int32()
          body.skip(8) // type size, type modifier, format
          return `${name}:${type}`
        })
        return emit('RowDescription', { columns: columns.join(', ') })
      }
      case 0x44: {
        // D
        const values = body.int16Array(() => {
          const size = body.int32()
          return size < 0 ? 'NULL' : preview(body.bytes(size))
        })
        return emit('DataRow', { values: values.join(', ') })
      }
      case 0x43: // C
        return emit('CommandComplete', { tag: body.cstring() })
      case 0x45: // E
        return emit('ErrorResponse', noticeFields(body))
      case 0x4e: // N
        return emit('NoticeResponse', noticeFields(body))
      case 0x49: // I
        return emit('EmptyQueryResponse')
      case 0x31: // 1
        return emit('ParseComplete')
      case 0x32: // 2
        return emit('BindComplete')
      case 0x33: // 3
        return emit('CloseComplete')
      case 0x6e: // n
        return emit('NoData')
      case 0x73: // s
        return emit('PortalSuspended')
      case 0x74: // t
        return emit('ParameterDescription', { types: body.int16Array(() => String(body.int32())).join(', ') })
      case 0x41: // A
        return emit('NotificationResponse', {
          pid: String(body.int32()),
          channel: body.cstring(),
          payload: body.cstring(),
        })
      case 0x76: {
        // v
        const minor = body.int32()
        const options = Array.from({ length: Math.max(body.int32(), 0) }, () => body.cstring())
        return emit('NegotiateProtocolVersion', { minor: String(minor), unrecognized: options.join(', ') })
      }
      case 0x47: // G
        return emit('CopyInResponse', copyFields(body))
      case 0x48: // H
        return emit('CopyOutResponse', copyFields(body))
      case 0x57: // W
        return emit('CopyBothResponse', copyFields(body))
      case 0x64: // d
        return emit('CopyData', { bytes: String(body.remaining) })
      case 0x63: // c
        return emit('CopyDone')
      default:
        return emit(`Unknown (${tagName(tag)})`, { bytes: String(body.remaining) })
    }
  }

  #authentication(body: Reader, emit: (type: string, fields?: Record<string, string>) => void) {
    const code = body.int32()
    switch (code) {
      case 0:
        this.#auth = 'none'
        return emit('AuthenticationOk')
      case 3:
        this.#auth = 'password'
        return emit('AuthenticationCleartextPassword')
      case 5:
        this.#auth = 'password'
        return emit('AuthenticationMD5Password', { salt: redacted(body.remaining) })
      case 7:
        this.#auth = 'gss'
        return emit('AuthenticationGSS')
      case 8:
        this.#auth = 'gss'
        return emit('AuthenticationGSSContinue', { payload: redacted(body.remaining) })
      case 9:
        this.#auth = 'gss'
        return emit('AuthenticationSSPI')
      case 10: {
        this.#auth = 'sasl'
        const mechanisms: string[] = []
        for (let name = body.cstring(); name !== ''; name = body.cstring()) mechanisms.push(name)
        return emit('AuthenticationSASL', { mechanisms: mechanisms.join(', ') })
      }
      case 11:
        this.#auth = 'sasl-continue'
        return emit('AuthenticationSASLContinue', { payload: redacted(body.remaining) })
      case 12:
        this.#auth = 'none'
        return emit('AuthenticationSASLFinal', { payload: redacted(body.remaining) })
      default:
        return emit(`Authentication (${code})`, { bytes: String(body.remaining) })
    }
  }
}

/** ErrorResponse and NoticeResponse fields, by the names PostgreSQL documents. */
const NOTICE_FIELDS: Record<string, string> = {
  S: 'severity',
  V: 'severityNonLocalized',
  C: 'code',
  M: 'message',
  D: 'detail',
  H: 'hint',
  P: 'position',
  p: 'internalPosition',
  q: 'internalQuery',
  W: 'where',
  s: 'schema',
  t: 'table',
  c: 'column',
  d: 'dataType',
  n: 'constraint',
  F: 'file',
  L: 'line',
  R: 'routine',
}

function noticeFields(body: Reader): Record<string, string> {
  const fields: Record<string, string> = {}
  for (let code = body.byte(); code !== 0; code = body.byte()) {
    const key = String.fromCharCode(code)
    fields[NOTICE_FIELDS[key] ?? key] = body.cstring()
  }
  return fields
}

function copyFields(body: Reader): Record<string, string> {
  const format = body.byte()
  const columns = body.int16Array(() => body.int16())
  return { format: formatName(format), columns: String(columns.length) }
}

const formatName = (format: number) => (format === 0 ? 'text' : format === 1 ? 'binary' : String(format))
const kindName = (kind: number) => (kind === 0x53 ? 'statement' : kind === 0x50 ? 'portal' : tagName(kind))
const tagName = (tag: number) =>
  tag >= 0x20 && tag < 0x7f ? String.fromCharCode(tag) : `0x${tag.toString(16)}`
/** A column value as a quoted string, cut at {@link PREVIEW_BYTES} so a huge value costs no memory here. */
function preview(bytes: Uint8Array): string {
  if (bytes.length <= PREVIEW_BYTES) return JSON.stringify(utf8.decode(bytes))
  return `${JSON.stringify(utf8.decode(bytes.subarray(0, PREVIEW_BYTES)))}… (${bytes.length} bytes)`
}

const redacted = (bytes: number | Uint8Array) =>
  `[redacted, ${typeof bytes === 'number' ? bytes : bytes.length} bytes]`

/** Holds a direction's bytes until a whole message is there; copies each byte once per message. */
class Framer {
  #chunks: Uint8Array[] = []
  size = 0

  add(chunk: Uint8Array) {
    if (chunk.length === 0) return
    this.#chunks.push(chunk)
    this.size += chunk.length
  }

  /** The first `n` bytes without consuming them, or undefined if fewer are buffered. */
  peek(n: number): Uint8Array | undefined {
    if (this.size < n) return undefined
    const first = this.#chunks[0]!
    return first.length >= n ? first.subarray(0, n) : this.#gather(n, false)
  }

  /** Removes and returns the first `n` bytes, or undefined if fewer are buffered. */
  take(n: number): Uint8Array | undefined {
    if (this.size < n) return undefined
    return this.#gather(n, true)
  }

  #gather(n: number, isConsuming: boolean): Uint8Array {
    const out = new Uint8Array(n)
    let filled = 0
    let index = 0
    while (filled < n) {
      const chunk = this.#chunks[index]!
      const part = Math.min(chunk.length, n - filled)
      out.set(part === chunk.length ? chunk : chunk.subarray(0, part), filled)
      filled += part
      if (!isConsuming) index++
      else if (part === chunk.length) this.#chunks.shift()
      else this.#chunks[0] = chunk.subarray(part)
    }
    if (isConsuming) this.size -= n
    return out
  }
}

/** Reads one message body. Reads past the end yield zeros and empty strings instead of throwing. */
class Reader {
  readonly #bytes: Uint8Array
  readonly #view: DataView
  #offset: number

  constructor(bytes: Uint8Array, offset: number) {
    this.#bytes = bytes
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    this.#offset = offset
  }

  get remaining(): number {
    return Math.max(this.#bytes.length - this.#offset, 0)
  }

  byte(): number {
    return this.#offset < this.#bytes.length ? this.#bytes[this.#offset++]! : 0
  }

  int16(): number {
    if (this.remaining < 2) return this.#end(0)
    const value = this.#view.getInt16(this.#offset)
    this.#offset += 2
    return value
  }

  int32(): number {
    if (this.remaining < 4) return this.#end(0)
    const value = this.#view.getInt32(this.#offset)
    this.#offset += 4
    return value
  }

  cstring(): string {
    const end = this.#bytes.indexOf(0, this.#offset)
    if (end < 0) return this.#end('')
    const text = utf8.decode(this.#bytes.subarray(this.#offset, end))
    this.#offset = end + 1
    return text
  }

  bytes(n: number): Uint8Array {
    const out = this.#bytes.subarray(this.#offset, this.#offset + n)
    this.#offset += n
    return out
  }

  skip(n: number) {
    this.#offset += n
  }

  rest(): Uint8Array {
    return this.bytes(this.remaining)
  }

  /** An int16 count followed by that many items. */
  int16Array<T>(item: () => T): T[] {
    const count = this.int16()
    const items: T[] = []
    for (let i = 0; i < count && this.remaining > 0; i++) items.push(item())
    return items
  }

  #end<T>(value: T): T {
    this.#offset = this.#bytes.length
    return value
  }
}
