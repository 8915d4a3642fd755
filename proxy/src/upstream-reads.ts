/**
 * Reads of the relay's PostgreSQL sockets without a fresh buffer per read.
 *
 * By default every read of a `node:net` socket allocates its bytes outside the JavaScript heap, and V8 frees
 * that external memory only once about 64 MB of it has piled up since its last full collection: a session
 * relaying a large result to a slow client grew the relay by about +54 MiB although it held at most its
 * high-water mark (1 MiB) of data. Instead every upstream socket reads into one buffer the whole relay shares
 * (`onread` of `net.connect`; a read and its callback run together on the one JavaScript thread, so no two
 * sockets use it at once), and the callback copies the bytes out at once:
 * - a long read (≥ {@link POOLED_MIN}) into a block of a relay-wide pool, which goes back to the pool once the
 *   bytes have been written to the client (the `written` callback the session core calls);
 * - a short one into a buffer of its own size, as before (per-query answers; a pooled block each would hold
 *   up to 64 KB for a few bytes).
 * An idle session holds no block: blocks are lent per read and returned per frame written.
 */
import type { OnReadOpts } from 'node:net'

/** The size of the shared read buffer and of each pooled block: the most one read returns. */
export const READ_SIZE = 64 * 1024

/** Reads at least this long are copied into a pooled block; a block then holds at most 4× its bytes. */
export const POOLED_MIN = 16 * 1024

/** Free blocks the pool keeps for reuse (4 MiB); more are left to the garbage collector. */
const FREE_BLOCKS_KEPT = 64

/** A chunk read from PostgreSQL and, for a pooled one, the callback that returns its block. */
export type ChunkSink = (chunk: Uint8Array, written?: () => void) => void

/** The relay-wide read buffer and pool of blocks; one per relay. */
export class ReadBlocks {
  #readBuffer: Uint8Array | undefined

  /**
   * The buffer every upstream socket reads into; its bytes are valid only during the read callback. Made
   * with the first session (a relay that never relays holds none).
   */
  get readBuffer(): Uint8Array {
    this.#readBuffer ??= new Uint8Array(READ_SIZE)
    return this.#readBuffer
  }
  readonly #free: Uint8Array[] = []
  /** Blocks made since the pool was created. */
  made = 0
  /** Blocks taken and not given back: bytes not yet written to a client (0 when every session is done). */
  lent = 0

  /** A block to copy a read into: a free one, or a new one. */
  take(): Uint8Array {
    this.lent++
    const block = this.#free.pop()
    if (block) return block
    this.made++
    return new Uint8Array(READ_SIZE)
  }

  /** Returns a block whose bytes have been written out (or dropped); the caller must not touch it again. */
  give(block: Uint8Array): void {
    this.lent--
    if (this.#free.length < FREE_BLOCKS_KEPT) this.#free.push(block)
  }

  /** Free blocks waiting for reuse. */
  get freeCount(): number {
    return this.#free.length
  }
}

/**
 * One upstream socket's reads: the `onread` option to dial it with, and the sink its chunks go to once the
 * session takes the socket (chunks read before that are kept, copied, and delivered first).
 */
export class UpstreamReads {
  readonly onread: OnReadOpts
  readonly #blocks: ReadBlocks
  #sink: ChunkSink | undefined
  /** Chunks read before {@link attach} (made on first need: most sockets have none). */
  #early: Uint8Array[] | undefined

  constructor(blocks: ReadBlocks) {
    this.#blocks = blocks
    this.onread = { buffer: blocks.readBuffer, callback: (length, buffer) => this.#read(length, buffer) }
  }

  /** Delivers chunks to `sink` from now on, after any read before this call. */
  attach(sink: ChunkSink): void {
    const early = this.#early
    this.#early = undefined
    this.#sink = sink
    if (early) for (const chunk of early) sink(chunk)
  }

  /**
   * The `onread` callback: `buffer` (the shared read buffer) holds `length` new bytes until it returns.
   * Returns true: the socket keeps reading (the session pauses it when the client is behind).
   */
  #read(length: number, buffer: Uint8Array): boolean {
    const sink = this.#sink
    if (!sink || length < POOLED_MIN) {
      const chunk = new Uint8Array(buffer.subarray(0, length))
      if (sink) sink(chunk)
      else if (this.#early) this.#early.push(chunk)
      else this.#early = [chunk]
      return true
    }
    const blocks = this.#blocks
    const block = blocks.take()
    block.set(buffer.subarray(0, length))
    let isReturned = false
    sink(block.subarray(0, length), () => {
      // Once: a block given back twice could be lent to two reads at the same time.
      if (isReturned) return
      isReturned = true
      blocks.give(block)
    })
    return true
  }
}
