/**
 * The write side of a connection: the write buffer (everything queued in one tick goes out in one write, or
 * in writes of {@link EAGER_WRITE} bytes while a long burst is still being queued),
 * the wire lease (see `wire-lease.ts`) and the requests held behind it, and Terminate. The core keeps the
 * FIFO of responses; the outbox keeps the bytes in the order the server must see them.
 */
import { FrontendWriter } from './protocol/index.ts'
import type { Encoder, Request } from './request.ts'
import type { ByteStream } from './transport/transport.ts'
import type { WireLease, WireOwner } from './wire-lease.ts'

/**
 * A buffer this full is written at once instead of at the end of the tick: while the caller keeps queueing a
 * long burst (10,000 queries in one loop), the server already works on its start.
 */
export const EAGER_WRITE = 64 * 1024

/** A request waiting behind the lease holder, already encoded; no request means Terminate. */
interface Held {
  request: Request | undefined
  bytes: Uint8Array
}

/** What the outbox asks of its core. */
export interface OutboxHost {
  /** True once the connection is closed: nothing is written any more. */
  readonly isClosed: boolean
  /** True while `end()` waits: a lease granted now is asked to wind down at once. */
  readonly isClosing: boolean
  /** Terminate went out. */
  terminated(): void
}

export class Outbox {
  readonly #stream: ByteStream
  readonly #host: OutboxHost
  readonly #writer = new FrontendWriter()
  readonly #heldWriter = new FrontendWriter()
  /** The lease that owns the wire, and what waits to be written once it is released. */
  #wire: WireLease | undefined
  #held: Held[] = []
  #isFlushScheduled = false

  constructor(stream: ByteStream, host: OutboxHost) {
    this.#stream = stream
    this.#host = host
  }

  /** True while a lease holder owns the wire or requests wait behind one. */
  get isHeld(): boolean {
    return this.#wire !== undefined || this.#held.length > 0
  }

  /** True while a portal stream or a COPY owns the wire or waits for it: work only its user can finish. */
  get hasExclusiveWork(): boolean {
    return this.#wire?.isExclusive === true || this.#held.some((held) => held.request?.lease?.isExclusive)
  }

  /**
   * Encodes `request` behind what is queued: into the write buffer, or, behind a lease holder, into the held
   * queue. An encoding error leaves nothing behind and is thrown. Returns true when the request is held.
   */
  add(request: Request, encode: Encoder | undefined): boolean {
    const isHeld = this.isHeld
    const writer = isHeld ? this.#heldWriter : this.#writer
    const mark = writer.length
    try {
      if (encode) encode(writer)
      else request.encode?.(writer)
    } catch (error) {
      writer.truncate(mark)
      throw error
    }
    if (isHeld) this.#held.push({ request, bytes: writer.finish() })
    else if (request.lease) this.#grant(request.lease)
    return isHeld
  }

  /** Takes back a held request (never written). False when its bytes are already on the wire. */
  withdraw(request: Request): boolean {
    const index = this.#held.findIndex((held) => held.request === request)
    if (index < 0) return false
    this.#held.splice(index, 1)
    return true
  }

  /** Writes at once, ahead of everything held. */
  writeNow(encode: (writer: FrontendWriter) => void): void {
    encode(this.#writer)
    this.flush()
  }

  /** Queues Terminate after everything (behind the lease holder, which is asked to wind down). */
  terminate(): void {
    if (!this.isHeld) {
      this.#writer.terminate()
      this.flush()
      this.#host.terminated()
      return
    }
    this.#held.push({ request: undefined, bytes: new FrontendWriter().terminate().finish() })
    this.#wire?.onEnd?.()
  }

  /**
   * Writes the buffer in a microtask, so that everything queued in this tick goes out in one write — or now,
   * once it holds {@link EAGER_WRITE} bytes.
   */
  scheduleFlush(): void {
    if (this.#writer.length >= EAGER_WRITE) {
      this.flush()
      return
    }
    if (this.#isFlushScheduled) return
    this.#isFlushScheduled = true
    queueMicrotask(() => {
      this.#isFlushScheduled = false
      this.flush()
    })
  }

  flush(): void {
    if (this.#writer.length === 0 || this.#host.isClosed) return
    this.#stream.write(this.#writer.finish())
  }

  /** Forgets what was never written (not driven) and drops every lease (the connection died). */
  clear(): void {
    this.#writer.truncate(0)
    this.#wire?.drop()
    this.#wire = undefined
    this.#held = []
  }

  /** Drops every lease and what waits behind them, keeping the buffer's bytes (the connection died). */
  drop(): void {
    this.#wire?.drop()
    this.#wire = undefined
    this.#held = []
  }

  #grant(lease: WireLease) {
    this.#wire = lease
    lease.grant(this.#owner)
    if (this.#host.isClosing) lease.onEnd?.()
  }

  readonly #owner: WireOwner = {
    writeNow: (encode) => this.writeNow(encode),
    released: (lease) => {
      if (this.#wire === lease) this.#release()
    },
  }

  /** The lease holder let go: write what waited behind it, up to the next lease holder (or Terminate). */
  #release() {
    this.#wire = undefined
    this.flush()
    while (this.#held.length > 0 && !this.#host.isClosed) {
      const { request, bytes } = this.#held.shift()!
      this.#stream.write(bytes)
      if (!request) {
        this.#host.terminated()
        return
      }
      if (request.lease) {
        this.#grant(request.lease)
        return
      }
    }
  }
}
