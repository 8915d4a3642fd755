/** What a request is to the connection core, and the FIFO in which requests wait for their responses. */
import type { PgError } from './errors.ts'
import type { BackendMessage } from './protocol/index.ts'
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
}

/**
 * Requests in the order their responses will arrive. The head owns every message until its ReadyForQuery.
 * An array with a moving head: shifting is O(1), and the array is compacted now and then.
 */
export class RequestQueue {
  #items: Request[] = []
  #head = 0

  get count(): number {
    return this.#items.length - this.#head
  }

  /** The request whose response is being read. */
  get head(): Request | undefined {
    return this.#items[this.#head]
  }

  push(request: Request): void {
    this.#items.push(request)
  }

  /** Puts `request` in the head's place (a sink that reads off the rest of a failed response). */
  replaceHead(request: Request): void {
    this.#items[this.#head] = request
  }

  /** The head's response is complete. */
  shift(): void {
    this.#items[this.#head] = undefined as unknown as Request
    this.#head++
    if (this.#head === this.#items.length) {
      this.#items.length = 0
      this.#head = 0
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items.splice(0, this.#head)
      this.#head = 0
    }
  }

  /** Removes `request` wherever it waits; false when it is not queued. */
  remove(request: Request): boolean {
    const index = this.#items.indexOf(request, this.#head)
    if (index < 0) return false
    this.#items.splice(index, 1)
    return true
  }

  /** Empties the queue, returning what was in it, head first. */
  takeAll(): Request[] {
    const requests = this.#items.splice(this.#head)
    this.#items.length = 0
    this.#head = 0
    return requests
  }
}
