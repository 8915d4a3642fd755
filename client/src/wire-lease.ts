/**
 * Exclusive access to the wire, as an object. A request that must not have other requests written behind it
 * holds a {@link WireLease} from the moment its bytes are written until it releases it:
 * - a portal stream (its portal lives until the next Sync, which a request behind it would send);
 * - a COPY (the server swallows every message until CopyDone or CopyFail);
 * - a request with an AbortSignal (a CancelRequest cancels whatever the backend runs when it lands, so
 *   nothing may run behind the request until its cancel, if any, has been delivered).
 *
 * While a lease is held, requests made meanwhile (and `end()`'s Terminate) wait in the core's held queue and
 * are written, in order, when it is released. The core releases a lease when its request completes or fails
 * and nothing pins it; a flow pins it while a cancel is in flight. `end()` asks the holder to wind down
 * (`onEnd`), so work that waits on the user (a stream nobody reads, a COPY source that never ends) cannot
 * keep the connection open forever.
 */
import type { FrontendWriter } from './protocol/index.ts'

/** What the core gives a lease: how to write while holding it, and how to let go. */
export interface WireOwner {
  /** Writes at once, ahead of everything held. */
  writeNow(encode: (writer: FrontendWriter) => void): void
  /** The lease let go of the wire: write what waited behind it. */
  released(lease: WireLease): void
}

export class WireLease {
  /** True for a flow that holds the wire until its user is done with it (portal stream, COPY). */
  readonly isExclusive: boolean
  #owner: WireOwner | undefined
  /** Writes made before the request was written (held): they follow its bytes once it is. */
  #early: ((writer: FrontendWriter) => void)[] = []
  #pins = 0
  #isComplete = false
  #isReleased = false
  /** Called when `end()` is waiting for this lease: stop what waits on the user. */
  onEnd: (() => void) | undefined

  constructor(isExclusive: boolean) {
    this.isExclusive = isExclusive
  }

  /** @internal The core granted the wire: the request's bytes are being written. */
  grant(owner: WireOwner): void {
    this.#owner = owner
    for (const encode of this.#early.splice(0)) owner.writeNow(encode)
  }

  /**
   * Writes messages that belong to the holder (CopyData, Execute, Close, Sync). Before the request itself
   * is written (it waits behind another holder) they are kept and follow its bytes; ignored once released.
   */
  write(encode: (writer: FrontendWriter) => void): void {
    if (this.#isReleased) return
    if (this.#owner) this.#owner.writeNow(encode)
    else this.#early.push(encode)
  }

  /** Keeps the wire held past the request's completion (a cancel in flight); call the result to unpin. */
  pin(): () => void {
    this.#pins++
    let isUnpinned = false
    return () => {
      if (isUnpinned) return
      isUnpinned = true
      this.#pins--
      this.#maybeRelease()
    }
  }

  /** @internal The request completed or failed. */
  complete(): void {
    this.#isComplete = true
    this.#maybeRelease()
  }

  /** @internal The connection died: nothing will be written again. */
  drop(): void {
    this.#isReleased = true
    this.#owner = undefined
    this.#early.length = 0
  }

  #maybeRelease() {
    if (!this.#isComplete || this.#pins > 0 || this.#isReleased) return
    this.#isReleased = true
    const owner = this.#owner
    this.#owner = undefined
    owner?.released(this)
  }
}
