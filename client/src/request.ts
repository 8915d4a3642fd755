/** What a request is to the connection core, and the FIFO in which requests wait for their responses. */
import type { PgError } from './errors.ts'
import type { BackendMessage, FrontendWriter } from './protocol/index.ts'
import type { WireLease } from './wire-lease.ts'

/** A response handler queued in the FIFO. */
export interface Request {
  /** Consumes one backend message; returns true when this request's response is complete. */
  handle(message: BackendMessage): boolean
  /** Rejects the request: the connection died, it was never driven, or its response could not be read. */
  fail(error: PgError): void
  /** Set when the request must own the wire while it runs (see `wire-lease.ts`). */
  readonly lease?: WireLease | undefined
  /** Called when the request becomes the head of the FIFO (the statement the server runs next). */
  onHead?(): void
  /** The request a deadline or signal wrapper (see `send`) carries: what it is, for those who ask. */
  readonly inner?: Request
  /** Writes the request's messages, for a request sent without an encoder of its own (see `send`). */
  encode?(writer: FrontendWriter): void
}

/** Writes a request's messages into the write buffer. */
export type Encoder = (writer: FrontendWriter) => void

/** A queue that drained keeps its ring up to this many slots (32 KB of pointers); a bigger one is dropped. */
const RETAINED_SLOTS = 4096
const INITIAL_SLOTS = 16

/**
 * Requests in the order their responses will arrive. The head owns every message until its ReadyForQuery.
 * A ring buffer whose size is a power of two: push and shift are O(1) and allocate nothing until it grows,
 * so a pipelined burst does not regrow an array per burst.
 */
export class RequestQueue {
  #slots: (Request | undefined)[] = new Array(INITIAL_SLOTS)
  #head = 0
  #count = 0

  get count(): number {
    return this.#count
  }

  /** The request whose response is being read. */
  get head(): Request | undefined {
    return this.#count === 0 ? undefined : this.#slots[this.#head]
  }

  push(request: Request): void {
    if (this.#count === this.#slots.length) this.#grow()
    this.#slots[(this.#head + this.#count) & (this.#slots.length - 1)] = request
    this.#count++
  }

  /** Puts `request` in the head's place (a sink that reads off the rest of a failed response). */
  replaceHead(request: Request): void {
    if (this.#count > 0) this.#slots[this.#head] = request
  }

  /** The head's response is complete. */
  shift(): void {
    if (this.#count === 0) return
    this.#slots[this.#head] = undefined
    this.#head = (this.#head + 1) & (this.#slots.length - 1)
    this.#count--
    if (this.#count === 0) this.#reset()
  }

  /** Removes `request` wherever it waits; false when it is not queued. */
  remove(request: Request): boolean {
    const mask = this.#slots.length - 1
    let i = 0
    while (i < this.#count && this.#slots[(this.#head + i) & mask] !== request) i++
    if (i === this.#count) return false
    for (; i < this.#count - 1; i++)
      this.#slots[(this.#head + i) & mask] = this.#slots[(this.#head + i + 1) & mask]
    this.#slots[(this.#head + this.#count - 1) & mask] = undefined
    this.#count--
    if (this.#count === 0) this.#reset()
    return true
  }

  /** Whether every request behind the head satisfies `test` (true when none waits behind it). */
  everyBehindHead(test: (request: Request) => boolean): boolean {
    const mask = this.#slots.length - 1
    for (let i = 1; i < this.#count; i++) if (!test(this.#slots[(this.#head + i) & mask]!)) return false
    return true
  }

  /** Empties the queue, returning what was in it, head first. */
  takeAll(): Request[] {
    const requests = this.#ordered()
    this.#slots = new Array(INITIAL_SLOTS)
    this.#head = 0
    this.#count = 0
    return requests
  }

  #ordered(): Request[] {
    const mask = this.#slots.length - 1
    const requests = new Array<Request>(this.#count)
    for (let i = 0; i < this.#count; i++) requests[i] = this.#slots[(this.#head + i) & mask]!
    return requests
  }

  #grow() {
    const slots = this.#ordered() as (Request | undefined)[]
    slots.length = this.#slots.length * 2
    this.#slots = slots
    this.#head = 0
  }

  #reset() {
    this.#head = 0
    if (this.#slots.length > RETAINED_SLOTS) this.#slots = new Array(INITIAL_SLOTS)
  }
}
