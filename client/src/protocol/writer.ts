/**
 * The frontend serializer: a growable buffer that batches messages into one write. Each message is written as
 * type byte, a 4-byte hole for its length, the body; the length is backpatched when the body is done.
 * A method that throws leaves the buffer as it was before the call.
 */
import { encodeError } from '../errors.ts'
import { encodeUtf8Into, maxUtf8Length } from '../utf8.ts'
import { FrontendTag, RequestCode } from './tags.ts'

const INITIAL_SIZE = 1024
/** `finish()` drops a buffer grown past this, so one huge COPY chunk does not pin memory for the session. */
const RETAIN_LIMIT = 1024 * 1024
/** Parse, Bind and their format lists count with an int16. */
const MAX_COUNT = 65535
/** Strings up to this length are encoded by hand: `TextEncoder` costs more per call than it saves. */
const SHORT_STRING = 64

/** Builds frontend messages. Every method returns `this`; `finish()` hands out the bytes. */
export class FrontendWriter {
  #buffer = new Uint8Array(INITIAL_SIZE)
  #length = 0
  /** Where the message being written starts (for rollback) and where its length goes. */
  #messageStart = 0
  #lengthAt = 0

  /** Bytes written and not yet taken by `finish()`. */
  get length(): number {
    return this.#length
  }

  /** Returns a copy of the bytes written and empties the writer for reuse. */
  finish(): Uint8Array {
    const bytes = this.#buffer.slice(0, this.#length)
    this.#length = 0
    if (this.#buffer.length > RETAIN_LIMIT) this.#buffer = new Uint8Array(INITIAL_SIZE)
    return bytes
  }

  /** Drops everything written after the first `length` bytes (to undo a request that failed to encode). */
  truncate(length: number): void {
    if (length < this.#length) this.#length = Math.max(0, length)
  }

  /** StartupMessage: protocol 3.`minorVersion` (3.2 is 196610), then the parameters as name/value pairs. */
  startup(params: Record<string, string>, minorVersion = 0): this {
    this.#begin(-1)
    this.#int32((3 << 16) | minorVersion)
    for (const name of Object.keys(params)) {
      this.#cstring(name, 'startup parameter name')
      this.#cstring(params[name]!, `startup parameter ${name}`)
    }
    this.#byte(0)
    return this.#end()
  }

  /** SSLRequest: asks the server whether it will speak TLS. */
  sslRequest(): this {
    this.#begin(-1)
    this.#int32(RequestCode.SSLRequest)
    return this.#end()
  }

  /** CancelRequest, sent on a new connection. The key is 4 bytes in protocol 3.0, up to 256 in 3.2. */
  cancelRequest(processId: number, secretKey: Uint8Array): this {
    this.#begin(-1)
    this.#int32(RequestCode.CancelRequest)
    this.#int32(processId)
    this.#bytes(secretKey)
    return this.#end()
  }

  /** PasswordMessage: a cleartext password or an md5 hash. */
  password(text: string): this {
    this.#begin(FrontendTag.PasswordMessage)
    this.#cstring(text, 'password')
    return this.#end()
  }

  /** SASLInitialResponse: the chosen mechanism and the client-first-message. */
  saslInitialResponse(mechanism: string, data: Uint8Array): this {
    this.#begin(FrontendTag.PasswordMessage)
    this.#cstring(mechanism, 'SASL mechanism')
    this.#int32(data.length)
    this.#bytes(data)
    return this.#end()
  }

  /** SASLResponse: a later SASL message (SCRAM's client-final-message). */
  saslResponse(data: Uint8Array): this {
    this.#begin(FrontendTag.PasswordMessage)
    this.#bytes(data)
    return this.#end()
  }

  /** Query: the simple query protocol. */
  query(text: string): this {
    this.#begin(FrontendTag.Query)
    this.#cstring(text, 'query text')
    return this.#end()
  }

  /** Parse: prepares `text` as statement `name` ('' for the unnamed one); a type OID of 0 lets the server infer. */
  parse(name: string, text: string, paramTypes: readonly number[]): this {
    this.#begin(FrontendTag.Parse)
    this.#cstring(name, 'statement name')
    this.#cstring(text, 'query text')
    this.#count(paramTypes.length, 'parameter types')
    for (const oid of paramTypes) this.#int32(oid)
    return this.#end()
  }

  /**
   * Bind: binds `values` to `statement` as `portal`. A Uint8Array is sent in binary format, a string in text,
   * null as SQL NULL; one format code is written when all agree. Strings may contain NUL: the server rejects
   * them (22021), as it should.
   */
  bind(
    portal: string,
    statement: string,
    values: readonly (Uint8Array | string | null)[],
    resultFormats: readonly number[],
  ): this {
    this.#begin(FrontendTag.Bind)
    this.#cstring(portal, 'portal name')
    this.#cstring(statement, 'statement name')
    this.#checkCount(values.length, 'parameters')
    this.#formatCodes(values)
    this.#int16(values.length)
    for (const value of values) {
      if (value === null) this.#int32(-1)
      else if (typeof value === 'string') this.#lengthPrefixedString(value)
      else {
        this.#int32(value.length)
        this.#bytes(value)
      }
    }
    this.#count(resultFormats.length, 'result formats')
    for (const format of resultFormats) this.#int16(format)
    return this.#end()
  }

  /** Describe: asks for a statement's ('S') or portal's ('P') parameter and row descriptions. */
  describe(kind: 'S' | 'P', name: string): this {
    this.#begin(FrontendTag.Describe)
    this.#byte(kind.charCodeAt(0))
    this.#cstring(name, kind === 'S' ? 'statement name' : 'portal name')
    return this.#end()
  }

  /** Execute: runs a portal; `maxRows` 0 means all rows. */
  execute(portal: string, maxRows = 0): this {
    this.#begin(FrontendTag.Execute)
    this.#cstring(portal, 'portal name')
    this.#int32(maxRows)
    return this.#end()
  }

  /** Close: releases a statement ('S') or portal ('P'). */
  close(kind: 'S' | 'P', name: string): this {
    this.#begin(FrontendTag.Close)
    this.#byte(kind.charCodeAt(0))
    this.#cstring(name, kind === 'S' ? 'statement name' : 'portal name')
    return this.#end()
  }

  /** Sync: ends an extended-query request; the server answers ReadyForQuery. */
  sync(): this {
    return this.#empty(FrontendTag.Sync)
  }

  /** Flush: asks the server to send what it has produced so far. */
  flush(): this {
    return this.#empty(FrontendTag.Flush)
  }

  /** CopyData: a chunk of COPY FROM STDIN data (a string is sent as UTF-8). */
  copyData(data: Uint8Array | string): this {
    this.#begin(FrontendTag.CopyData)
    if (typeof data === 'string') this.#string(data)
    else this.#bytes(data)
    return this.#end()
  }

  /** CopyDone: the COPY FROM STDIN data is complete. */
  copyDone(): this {
    return this.#empty(FrontendTag.CopyDone)
  }

  /** CopyFail: aborts COPY FROM STDIN; the server answers an ErrorResponse carrying `message`. */
  copyFail(message: string): this {
    this.#begin(FrontendTag.CopyFail)
    this.#cstring(message, 'copy failure message')
    return this.#end()
  }

  /** Terminate: the polite goodbye before closing the stream. */
  terminate(): this {
    return this.#empty(FrontendTag.Terminate)
  }

  // ---- primitives -------------------------------------------------------------------------------------

  /** Starts a message; `tag` -1 for the untagged startup-phase messages. */
  #begin(tag: number) {
    this.#ensure(5)
    this.#messageStart = this.#length
    if (tag >= 0) this.#buffer[this.#length++] = tag
    this.#lengthAt = this.#length
    this.#length += 4
  }

  /** Backpatches the length of the message begun last; it counts itself, not the type byte. */
  #end(): this {
    const length = this.#length - this.#lengthAt
    if (length > 0x7fffffff) this.#fail(`message of ${length} bytes exceeds the protocol limit of 2147483647`)
    this.#put32(this.#lengthAt, length)
    return this
  }

  #empty(tag: number): this {
    this.#begin(tag)
    return this.#end()
  }

  /** Rolls back the message being written and throws. */
  #fail(message: string): never {
    this.#length = this.#messageStart
    throw encodeError(message)
  }

  #ensure(extra: number) {
    const needed = this.#length + extra
    if (needed <= this.#buffer.length) return
    let size = this.#buffer.length * 2
    while (size < needed) size *= 2
    const grown = new Uint8Array(size)
    grown.set(this.#buffer.subarray(0, this.#length))
    this.#buffer = grown
  }

  #byte(value: number) {
    this.#ensure(1)
    this.#buffer[this.#length++] = value
  }

  #int16(value: number) {
    this.#ensure(2)
    const b = this.#buffer
    b[this.#length++] = value >>> 8
    b[this.#length++] = value
  }

  #int32(value: number) {
    this.#ensure(4)
    this.#put32(this.#length, value)
    this.#length += 4
  }

  #put32(at: number, value: number) {
    const b = this.#buffer
    b[at] = value >>> 24
    b[at + 1] = value >>> 16
    b[at + 2] = value >>> 8
    b[at + 3] = value
  }

  #bytes(bytes: Uint8Array) {
    this.#ensure(bytes.length)
    this.#buffer.set(bytes, this.#length)
    this.#length += bytes.length
  }

  /** int16 count, after checking it fits. */
  #count(count: number, what: string) {
    this.#checkCount(count, what)
    this.#int16(count)
  }

  #checkCount(count: number, what: string) {
    if (count > MAX_COUNT) {
      this.#fail(`too many ${what}: found ${count}, the protocol allows at most ${MAX_COUNT}`)
    }
  }

  /** One code for all parameters when they agree (null agrees with anything), else one code each. */
  #formatCodes(values: readonly (Uint8Array | string | null)[]) {
    let hasText = false
    let hasBinary = false
    for (const value of values) {
      if (typeof value === 'string') hasText = true
      else if (value !== null) hasBinary = true
    }
    if (values.length === 0) {
      this.#int16(0)
    } else if (!(hasText && hasBinary)) {
      this.#int16(1)
      this.#int16(hasBinary ? 1 : 0)
    } else {
      this.#int16(values.length)
      for (const value of values) this.#int16(typeof value === 'string' || value === null ? 0 : 1)
    }
  }

  /** A NUL-terminated UTF-8 string; a NUL inside would cut it short, so it is refused. */
  #cstring(text: string, what: string) {
    const nul = text.indexOf('\0')
    if (nul >= 0) this.#fail(`${what} contains a NUL character at index ${nul}`)
    this.#string(text)
    this.#byte(0)
  }

  /** int32 byte length, then the UTF-8 bytes (the length is backpatched once they are written). */
  #lengthPrefixedString(text: string) {
    this.#ensure(4)
    const at = this.#length
    this.#length += 4
    this.#string(text)
    this.#put32(at, this.#length - at - 4)
  }

  /** UTF-8 bytes of `text`, no terminator. */
  #string(text: string) {
    const count = text.length
    this.#ensure(maxUtf8Length(text))
    if (count <= SHORT_STRING) {
      const b = this.#buffer
      let at = this.#length
      let i = 0
      for (; i < count; i++) {
        const c = text.charCodeAt(i)
        if (c > 0x7f) break
        b[at++] = c
      }
      if (i === count) {
        this.#length = at
        return
      }
    }
    this.#length += encodeUtf8Into(text, this.#buffer, this.#length)
  }
}
