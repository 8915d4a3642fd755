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
 *
 * Nor a stream that pacing slows down: a socket nobody reads fills its receive buffer with many small
 * segments, and the kernel may then stop PostgreSQL's sends before the pause ends. So the stream's rate before
 * pacing is kept, and once {@link CHECK_AFTER} pauses have passed, pacing stops for the rest of the stream if
 * the bytes read per unit of time fell below {@link KEEP_RATE} of it.
 */

/** Reads at least this long are a bulk transfer, never paced. */
export const PACE_BELOW = 32 * 1024
/** Short reads in a row before pacing starts: a small pipeline's answers go out as they come. */
export const PACE_AFTER = 32
/** Reads further apart than this are not one stream, ms. */
export const STREAK_GAP_MS = 0.25
/** Pauses before pacing checks that it does not slow the stream down. */
export const CHECK_AFTER = 4
/** The share of the stream's rate before pacing that paced reads must keep. */
export const KEEP_RATE = 0.8

/** The pacing decision of one upstream socket; the caller owns the timer and the socket. */
export class ReadPacing {
  /** Short reads in a row, each soon after the one before, with the client silent since the first. */
  #streak = 0
  #lastReadAt = Number.NEGATIVE_INFINITY
  /** When the streak's first read came, and the bytes since (before pacing: the stream's own rate). */
  #streakAt = 0
  #streakBytes = 0
  /** Bytes per ms before pacing; 0 while not pacing. */
  #rateBefore = 0
  /** When pacing began, the bytes read since, and the pauses since. */
  #pacedAt = 0
  #pacedBytes = 0
  #pacedPauses = 0
  /** Pacing slowed this stream down: none until it ends. */
  #isSlowing = false
  /** Pauses decided so far, and streams pacing stopped for slowing them. */
  pauses = 0
  slowed = 0

  /** After a read of `length` bytes at `now` (ms): whether to stop reading for the pacing time. */
  afterRead(length: number, now: number): boolean {
    if (length >= PACE_BELOW) {
      this.#endStream()
      return false
    }
    const isSoon = now - this.#lastReadAt < STREAK_GAP_MS
    this.#lastReadAt = now
    if (!isSoon) {
      this.#endStream()
      this.#streakAt = now
    }
    this.#streak++
    if (this.#rateBefore > 0) return this.#isKeptUp(length, now)
    this.#streakBytes += length
    if (this.#streak < PACE_AFTER || this.#isSlowing) return false
    this.#rateBefore = this.#streakBytes / Math.max(now - this.#streakAt, 0.001)
    this.#pacedAt = now
    this.pauses++
    return true
  }

  /** A paced read: pause again, unless pacing has been slowing the stream down. */
  #isKeptUp(length: number, now: number): boolean {
    this.#pacedBytes += length
    if (++this.#pacedPauses >= CHECK_AFTER) {
      const rate = this.#pacedBytes / Math.max(now - this.#pacedAt, 0.001)
      if (rate < KEEP_RATE * this.#rateBefore) {
        this.#rateBefore = 0
        this.#isSlowing = true
        this.slowed++
        return false
      }
    }
    this.pauses++
    return true
  }

  #endStream() {
    this.#streak = 0
    this.#streakBytes = 0
    this.#rateBefore = 0
    this.#pacedBytes = 0
    this.#pacedPauses = 0
    this.#isSlowing = false
  }

  /** A pause ended at `now`: the gap was the relay's, so the next short read continues the stream. */
  resumed(now: number): void {
    this.#lastReadAt = now
  }

  /** The client sent bytes: the stream ends here. */
  clientSpoke(): void {
    this.#endStream()
    this.#lastReadAt = Number.NEGATIVE_INFINITY
  }
}
