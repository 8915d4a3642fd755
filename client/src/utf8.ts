/**
 * UTF-8 helpers shared by the codec and the type decoders. Short ASCII strings (most column names, numbers,
 * dates) are decoded without `TextDecoder`, whose per-call cost dominates for values of a few bytes.
 */

const decoder = new TextDecoder('utf-8', { fatal: false })
const encoder = new TextEncoder()

/**
 * Longest run decoded by hand; past this `TextDecoder` is faster. V8 joins strings shorter than 13 characters
 * into a flat string; longer ones become chains of cons strings, one per character added, which cost far more
 * to build and keep than one `TextDecoder` call (measured: 24 bytes by hand 5× slower than `TextDecoder`).
 */
const SHORT = 12

/** Decodes `bytes[start, end)` as UTF-8 (invalid sequences become U+FFFD, as PostgreSQL never sends them). */
export function decodeUtf8(bytes: Uint8Array, start = 0, end = bytes.length): string {
  const length = end - start
  if (length <= SHORT) {
    let out = ''
    for (let i = start; i < end; i++) {
      const c = bytes[i]!
      if (c > 0x7f) return decoder.decode(view(bytes, start, end))
      out += String.fromCharCode(c)
    }
    return out
  }
  return decoder.decode(start === 0 && end === bytes.length ? bytes : view(bytes, start, end))
}

/** `bytes.subarray(start, end)` without its species lookup (slow when `bytes` is a Node `Buffer`). */
function view(bytes: Uint8Array, start: number, end: number): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset + start, end - start)
}

/** Encodes a string as UTF-8. */
export function encodeUtf8(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text)
}

/** Writes `text` into `target` at `offset`; returns bytes written. `target` must have room for 3 × length. */
export function encodeUtf8Into(text: string, target: Uint8Array, offset: number): number {
  return encoder.encodeInto(text, target.subarray(offset)).written
}

/** Upper bound of the UTF-8 length of `text` (each UTF-16 unit becomes at most 3 bytes). */
export function maxUtf8Length(text: string): number {
  return text.length * 3
}
