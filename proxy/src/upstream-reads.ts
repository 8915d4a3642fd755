/**
 * Reads of the relay's PostgreSQL sockets without a fresh buffer per read.
 *
 * By default every read of a `node:net` socket allocates its bytes outside the JavaScript heap, and V8 frees
 * that external memory only once about 64 MB of it has piled up since its last full collection: a session
 * relaying a large result to a slow client grew the relay by about +54 MiB although it held at most its
 * high-water mark (1 MiB) of data. Instead every upstream socket reads into one buffer the whole relay shares
 * (`onread` of `net.connect`; a read and its callback run together on the one JavaScript thread, so no two
 * sockets use it at once), and the callback copies the bytes out at once:
 * - a long read (≥ {@link POOLED_MIN}) into blocks of a relay-wide pool (packed: see {@link UpstreamReads}),
 *   each going back to the pool once its bytes have been written to the client (the `written` callbacks the
 *   session core calls);
 * - a short one into a buffer of its own size, as before (per-query answers; a pooled block each would hold
 *   up to 64 KB for a few bytes).
 * An idle session holds no block: blocks are lent per read and returned per frame written.
 */
import type { OnReadOpts } from 'node:net'

/** The size of the shared read buffer and of each pooled block: the most one read returns. */
export const READ_SIZE = 64 * 1024

/** Reads at least this long are copied into pooled blocks; shorter ones into a buffer of their own. */
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

/** A pooled block one socket's long reads are packed into: how much of it is used, and its slices not yet written. */
interface Lending {
  readonly bytes: Uint8Array
  used: number
  refs: number
}

/** A block with less room than this left is not split into: the next read starts a new one. */
const SPLIT_MIN = 4 * 1024

/**
 * One upstream socket's reads: the `onread` option to dial it with, and the sink its chunks go to once the
 * session takes the socket (chunks read before that are kept, copied, and delivered first; reading stops
 * once {@link READ_SIZE} bytes wait so, until the session takes the socket).
 *
 * Long reads are packed one after another into the socket's current block (a read that does not fit is
 * split across it and a new one), so a session holds at most its unwritten bytes and one part-filled block —
 * not a whole block per read. A block goes back to the pool when its last slice is written.
 */
export class UpstreamReads {
  readonly onread: OnReadOpts
  readonly #blocks: ReadBlocks
  #sink: ChunkSink | undefined
  /** Chunks read before {@link attach} and their length (made on first need: most sockets have none). */
  #early: Uint8Array[] | undefined
  #earlyBytes = 0
  #block: Lending | undefined

  constructor(blocks: ReadBlocks) {
    this.#blocks = blocks
    this.onread = { buffer: blocks.readBuffer, callback: (length, buffer) => this.#read(length, buffer) }
  }

  /**
   * Delivers chunks to `sink` from now on, after any read before this call. Returns whether reading had
   * stopped to wait for it (the caller resumes the socket).
   */
  attach(sink: ChunkSink): boolean {
    const early = this.#early
    const wasStopped = this.#earlyBytes >= READ_SIZE
    this.#early = undefined
    this.#earlyBytes = 0
    this.#sink = sink
    if (early) for (const chunk of early) sink(chunk)
    return wasStopped
  }

  /**
   * The `onread` callback: `buffer` (the shared read buffer) holds `length` new bytes until it returns.
   * Returns false to stop reading (Node then pauses the socket): only before the session takes it, once
   * {@link READ_SIZE} bytes wait; afterwards the session pauses it when its client is behind.
   */
  #read(length: number, buffer: Uint8Array): boolean {
    const sink = this.#sink
    if (!sink) {
      const chunk = new Uint8Array(buffer.subarray(0, length))
      if (this.#early) this.#early.push(chunk)
      else this.#early = [chunk]
      this.#earlyBytes += length
      return this.#earlyBytes < READ_SIZE
    }
    if (length < POOLED_MIN) sink(new Uint8Array(buffer.subarray(0, length)))
    else this.#lend(buffer.subarray(0, length), sink)
    return true
  }

  /** Copies a long read into the socket's blocks and hands each slice to `sink`, lent until written. */
  #lend(source: Uint8Array, sink: ChunkSink): void {
    let offset = 0
    while (offset < source.length) {
      let lending = this.#block
      if (!lending || READ_SIZE - lending.used < Math.min(SPLIT_MIN, source.length - offset)) {
        lending = { bytes: this.#blocks.take(), used: 0, refs: 0 }
        this.#block = lending
      }
      const at = lending.used
      const length = Math.min(READ_SIZE - at, source.length - offset)
      lending.bytes.set(source.subarray(offset, offset + length), at)
      lending.used += length
      lending.refs++
      offset += length
      sink(lending.bytes.subarray(at, at + length), this.#returner(lending))
    }
  }

  /** The `written` callback of one slice: once, however often it runs (a block given twice would be lent twice). */
  #returner(lending: Lending): () => void {
    let isReturned = false
    return () => {
      if (isReturned) return
      isReturned = true
      if (--lending.refs > 0) return
      if (this.#block === lending) this.#block = undefined
      this.#blocks.give(lending.bytes)
    }
  }
}
