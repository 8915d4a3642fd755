/**
 * When to stop reading a PostgreSQL socket for a moment (the relay's `pipelinePacing`).
 *
 * PostgreSQL flushes once per query it answers. A pipeline of short queries sent up front comes back as a
 * stream of short reads, each its own WebSocket frame and write system call: most of the relay's CPU per
 * query, and CPU its host's PostgreSQL and clients then lack. While such a stream lasts and the client is
 * silent (nobody waits on one answer; it asked for all of them), stopping reading for a millisecond lets the
 * kernel gather what follows, which then goes out as one frame.
 *
 * Never held: a lone answer or a few in a row ({@link PACE_AFTER}), reads further apart than
 * {@link STREAK_GAP_MS}, a bulk transfer (reads of {@link PACE_BELOW} or more), and anything after the client
 * sent a byte (it may be waiting for an answer before it sends more).
 */

/** Reads at least this long are a bulk transfer, never paced. */
export const PACE_BELOW = 32 * 1024
/** Short reads in a row before pacing starts: a small pipeline's answers go out as they come. */
export const PACE_AFTER = 32
/** Reads further apart than this are not one stream, ms. */
export const STREAK_GAP_MS = 0.25

/** The pacing decision of one upstream socket; the caller owns the timer and the socket. */
export class ReadPacing {
  /** Short reads in a row, each soon after the one before, with the client silent since the first. */
  #streak = 0
  #lastReadAt = Number.NEGATIVE_INFINITY
  /** Pauses decided so far. */
  pauses = 0

  /** After a read of `length` bytes at `now` (ms): whether to stop reading for the pacing time. */
  afterRead(length: number, now: number): boolean {
    if (length >= PACE_BELOW) {
      this.#streak = 0
      return false
    }
    const isSoon = now - this.#lastReadAt < STREAK_GAP_MS
    this.#lastReadAt = now
    this.#streak = isSoon ? this.#streak + 1 : 1
    if (this.#streak < PACE_AFTER) return false
    this.pauses++
    return true
  }

  /** A pause ended at `now`: the gap was the relay's, so the next short read continues the stream. */
  resumed(now: number): void {
    this.#lastReadAt = now
  }

  /** The client sent bytes: the stream ends here. */
  clientSpoke(): void {
    this.#streak = 0
  }
}
