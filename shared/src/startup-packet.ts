/**
 * Classifies the first bytes a client sends, for the relay's protocol pinning: only a PostgreSQL
 * StartupMessage, SSLRequest, GSSENCRequest or CancelRequest may open a session; anything else (HTTP, Redis,
 * a too-short or absurdly long "startup") is refused before the relay dials.
 */

/** Request codes in the first packet (the int32 after the length). */
export const StartupCode = {
  /** Protocol 3.0 StartupMessage. */
  protocol30: 196608,
  /** Protocol 3.2 StartupMessage (PostgreSQL 18). */
  protocol32: 196610,
  sslRequest: 80877103,
  gssEncRequest: 80877104,
  cancelRequest: 80877102,
} as const

/** Longest StartupMessage accepted (PostgreSQL's own limit is 10 000 bytes). */
export const MAX_STARTUP_LENGTH = 10_000

export type FirstPacket =
  | { kind: 'startup' | 'ssl' | 'gssenc' | 'cancel'; length: number }
  | { kind: 'incomplete' }
  | { kind: 'invalid'; reason: string }

/** Reads a big-endian int32 at `offset`. */
export function readInt32(bytes: Uint8Array, offset: number): number {
  return (
    (bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]! | 0
  )
}

/** Classifies the start of a client stream; `incomplete` until 8 bytes have arrived. */
export function classifyFirstPacket(bytes: Uint8Array): FirstPacket {
  if (bytes.length < 8) return { kind: 'incomplete' }
  const length = readInt32(bytes, 0)
  const code = readInt32(bytes, 4)
  switch (code) {
    case StartupCode.sslRequest:
      return length === 8
        ? { kind: 'ssl', length }
        : { kind: 'invalid', reason: `SSLRequest of length ${length}` }
    case StartupCode.gssEncRequest:
      return length === 8
        ? { kind: 'gssenc', length }
        : { kind: 'invalid', reason: `GSSENCRequest of length ${length}` }
    case StartupCode.cancelRequest:
      // 3.0 keys are 4 bytes (length 16); 3.2 allows keys of up to 256 bytes.
      return length >= 16 && length <= 12 + 256
        ? { kind: 'cancel', length }
        : { kind: 'invalid', reason: `CancelRequest of length ${length}` }
    case StartupCode.protocol30:
    case StartupCode.protocol32:
      return length >= 8 && length <= MAX_STARTUP_LENGTH
        ? { kind: 'startup', length }
        : { kind: 'invalid', reason: `StartupMessage of length ${length}` }
    default:
      if (code >>> 16 === 3 && length >= 8 && length <= MAX_STARTUP_LENGTH) return { kind: 'startup', length }
      return { kind: 'invalid', reason: 'not a PostgreSQL startup, SSL or cancel packet' }
  }
}
