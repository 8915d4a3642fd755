/**
 * Test-only: values as the decoders receive them, built without production code. Each one is a view into
 * the middle of a larger buffer filled with `9`s, so a decoder that assumes byteOffset 0 or reads past its
 * value gives a wrong answer.
 */

const utf8 = new TextEncoder()
const PADDING = 3

function framed(bytes: Uint8Array): Uint8Array {
  const buffer = new Uint8Array(bytes.length + PADDING * 2).fill(0x39)
  buffer.set(bytes, PADDING)
  return buffer.subarray(PADDING, PADDING + bytes.length)
}

/** The UTF-8 bytes of a text-format value. */
export function text(value: string): Uint8Array {
  return framed(utf8.encode(value))
}

/** The bytes of a binary-format value written as hex (white space ignored). */
export function hex(value: string): Uint8Array {
  const digits = value.replace(/\s+/g, '')
  const bytes = new Uint8Array(digits.length / 2)
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(digits.slice(i * 2, i * 2 + 2), 16)
  return framed(bytes)
}
