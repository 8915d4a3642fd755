/**
 * How the pool waits after a connection fails to open: 100 ms, doubling up to `openBackoffMax`, with ±20 %
 * jitter so that many pools do not retry in step; one success resets it. Callers that arrive meanwhile wait
 * (within `acquireTimeout`) for the next attempt and share its outcome, instead of each starting a new
 * connection to a server that just refused one: a wrong password would otherwise turn every call into a
 * login attempt, and a server coming back up would meet a thundering herd.
 */
const INITIAL_MS = 100

export class OpenBackoff {
  readonly #max: number
  #failures = 0
  #until = 0

  /** `max` in ms; 0 turns the backoff off. */
  constructor(max: number) {
    this.#max = max
  }

  /** An open failed: the next one waits. */
  failed(): void {
    if (this.#max === 0) return
    this.#failures++
    const base = Math.min(this.#max, INITIAL_MS * 2 ** Math.min(this.#failures - 1, 30))
    this.#until = Date.now() + base * (0.8 + Math.random() * 0.4)
  }

  /** An open succeeded. */
  succeeded(): void {
    this.#failures = 0
    this.#until = 0
  }

  /** Milliseconds until the next open may start; 0 when it may start now. */
  get wait(): number {
    return Math.max(0, Math.ceil(this.#until - Date.now()))
  }
}
