/**
 * The incremental framer: bytes from the transport in, complete backend messages out.
 *
 * Every message is a type byte, an int32 length that counts itself but not the type byte, and a body. Chunks may
 * split a message anywhere, even inside the 5-byte header. A message lying wholly inside the current chunk is
 * decoded where it lies (a DataRow keeps the chunk and the offset of its columns). A message split across chunks is kept as a
 * list of pieces and joined once, when its last byte arrives: the announced length alone never allocates, so a
 * peer announcing 2 GB costs nothing until it sends 2 GB (and `maxMessageSize` stops it long before).
 *
 * Ownership: the caller must not mutate a chunk after passing it in; messages may keep views into it.
 */
import { protocolError, usageError } from '../errors.ts'
import { decodeMessage, isKnownBackendTag, unknownTag } from './decode.ts'
import type { BackendMessage } from './messages.ts'
import { readInt32 } from './read.ts'
import { describeTag, isLongMessageTag, LONG_MESSAGE_LIMIT } from './tags.ts'

/** Type byte plus int32 length. */
const HEADER_LENGTH = 5

/** Default {@link BackendParserOptions.maxMessageSize}: 256 MiB, enough for a 255 MB bytea row. */
export const DEFAULT_MAX_MESSAGE_SIZE = 256 * 1024 * 1024

export interface BackendParserOptions {
  /** Largest message length accepted (the int32 length field), in bytes. Default 256 MiB. */
  maxMessageSize?: number
}

/**
 * Splits a backend byte stream into messages. After it throws (always a `PgError` of kind `protocol`) the
 * stream is out of sync: discard the parser and the connection.
 */
export class BackendParser {
  readonly #maxMessageSize: number
  /** Header bytes of a partial message; `#headerFill` counts them, 5 once the header is complete. */
  readonly #header = new Uint8Array(HEADER_LENGTH)
  #headerFill = 0
  #tag = 0
  #bodyLength = 0
  /** Body bytes of a partial message received so far, as views into the chunks they came in. */
  #pieces: Uint8Array[] = []
  #piecesLength = 0

  constructor(options: BackendParserOptions = {}) {
    const max = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE
    if (!Number.isInteger(max) || max < HEADER_LENGTH || max > 0x7fffffff) {
      throw usageError(`maxMessageSize must be an integer from 5 to 2147483647, got ${max}`)
    }
    this.#maxMessageSize = max
  }

  /** Bytes held for a message that has not fully arrived. */
  get bufferedBytes(): number {
    return this.#headerFill + this.#piecesLength
  }

  /** Feeds one chunk; calls `emit` for every message it completes, in order. */
  parse(chunk: Uint8Array, emit: (message: BackendMessage) => void): void {
    const length = chunk.length
    let at = 0
    if (this.#headerFill > 0) {
      at = this.#resume(chunk, emit)
      if (at < 0) return
    }
    while (length - at >= HEADER_LENGTH) {
      const tag = chunk[at]!
      const messageLength = readInt32(chunk, at + 1)
      this.#checkHeader(tag, messageLength)
      const bodyStart = at + HEADER_LENGTH
      const bodyEnd = at + 1 + messageLength
      if (bodyEnd > length) {
        this.#hold(tag, messageLength - 4, chunk.subarray(bodyStart))
        return
      }
      emit(decodeMessage(tag, chunk, bodyStart, bodyEnd))
      at = bodyEnd
    }
    for (; at < length; at++) this.#header[this.#headerFill++] = chunk[at]!
  }

  /** Call at the end of the stream: throws when it ended inside a message. */
  end(): void {
    if (this.#headerFill === 0) return
    if (this.#headerFill < HEADER_LENGTH) {
      throw protocolError(
        `stream ended inside a message header: expected ${HEADER_LENGTH - this.#headerFill} more bytes`,
      )
    }
    const missing = this.#bodyLength - this.#piecesLength
    throw protocolError(
      `stream ended inside a message ${describeTag(this.#tag)}: expected ${missing} more bytes`,
    )
  }

  /** Continues a partial message with `chunk`; returns where the rest of the chunk starts, or -1 if consumed. */
  #resume(chunk: Uint8Array, emit: (message: BackendMessage) => void): number {
    let at = 0
    if (this.#headerFill < HEADER_LENGTH) {
      while (this.#headerFill < HEADER_LENGTH && at < chunk.length)
        this.#header[this.#headerFill++] = chunk[at++]!
      if (this.#headerFill < HEADER_LENGTH) return -1
      this.#tag = this.#header[0]!
      const messageLength = readInt32(this.#header, 1)
      this.#checkHeader(this.#tag, messageLength)
      this.#bodyLength = messageLength - 4
    }
    const missing = this.#bodyLength - this.#piecesLength
    const available = chunk.length - at
    if (available < missing) {
      if (available > 0) this.#pieces.push(chunk.subarray(at))
      this.#piecesLength += available
      return -1
    }
    const tag = this.#tag
    const bodyEnd = at + missing
    if (this.#piecesLength === 0) {
      // only the header was split off: the body lies whole in this chunk
      this.#reset()
      emit(decodeMessage(tag, chunk, at, bodyEnd))
    } else {
      const body = this.#join(chunk.subarray(at, bodyEnd))
      this.#reset()
      emit(decodeMessage(tag, body, 0, body.length))
    }
    return bodyEnd
  }

  /** Concatenates the held pieces and `last` into one buffer of exactly the body's length. */
  #join(last: Uint8Array): Uint8Array {
    const body = new Uint8Array(this.#bodyLength)
    let at = 0
    for (const piece of this.#pieces) {
      body.set(piece, at)
      at += piece.length
    }
    body.set(last, at)
    return body
  }

  #hold(tag: number, bodyLength: number, firstPiece: Uint8Array) {
    this.#headerFill = HEADER_LENGTH
    this.#tag = tag
    this.#bodyLength = bodyLength
    if (firstPiece.length > 0) this.#pieces.push(firstPiece)
    this.#piecesLength = firstPiece.length
  }

  #reset() {
    this.#headerFill = 0
    this.#pieces = []
    this.#piecesLength = 0
  }

  /** Rejects a header before any of its body is buffered: unknown type, impossible or excessive length. */
  #checkHeader(tag: number, length: number) {
    if (!isKnownBackendTag(tag)) throw unknownTag(tag)
    if (length < 4) {
      throw protocolError(`invalid message length ${length} for tag ${describeTag(tag)}: expected at least 4`)
    }
    if (length > this.#maxMessageSize) {
      throw protocolError(
        `message length ${length} for tag ${describeTag(tag)} exceeds maxMessageSize: expected at most ${this.#maxMessageSize}`,
      )
    }
    if (length > LONG_MESSAGE_LIMIT && !isLongMessageTag(tag)) {
      throw protocolError(
        `message length ${length} for tag ${describeTag(tag)} is too long for its type: expected at most ${LONG_MESSAGE_LIMIT}`,
      )
    }
  }
}
