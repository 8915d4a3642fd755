import { describe, expect, it } from 'vitest'
import { decodeUtf8, encodeUtf8 } from './utf8.ts'

/** `text` in the middle of a larger buffer, between bytes that are not part of it. */
function framed(text: string): [Uint8Array, number, number] {
  const bytes = encodeUtf8(text)
  const buffer = new Uint8Array(bytes.length + 6).fill(0x21) // !
  buffer.set(bytes, 3)
  return [buffer, 3, 3 + bytes.length]
}

describe('decodeUtf8', () => {
  it('decodes ASCII strings of every length from 0 to 40, read from the middle of a buffer', () => {
    for (let length = 0; length <= 40; length++) {
      const text = Array.from({ length }, (_, i) => String.fromCharCode(0x20 + ((i * 7) % 95))).join('')
      expect(decodeUtf8(...framed(text)), `length ${length}`).toBe(text)
    }
  })

  it('decodes a shorter string after a longer one without keeping any of its characters', () => {
    expect(decodeUtf8(...framed('abcdefghij'))).toBe('abcdefghij')
    expect(decodeUtf8(...framed('xyz'))).toBe('xyz')
    expect(decodeUtf8(...framed('0123456789'))).toBe('0123456789')
  })

  it('decodes short and long strings with multi-byte characters', () => {
    for (const text of ['é', 'naïve', '日本語', 'a😀b', 'x'.repeat(30) + 'ü', 'ü' + 'y'.repeat(30)]) {
      expect(decodeUtf8(...framed(text))).toBe(text)
    }
  })

  it('decodes a whole array when given no range', () => {
    expect(decodeUtf8(encodeUtf8('plain'))).toBe('plain')
  })

  it('keeps a leading U+FEFF (byte-order mark) as part of the text, short or long', () => {
    for (const text of ['\uFEFF', '\uFEFFabc', `\uFEFF${'x'.repeat(40)}`, 'a\uFEFF']) {
      expect(decodeUtf8(...framed(text))).toBe(text)
      expect(decodeUtf8(encodeUtf8(text))).toBe(text)
    }
  })

  it('turns an invalid sequence into U+FFFD', () => {
    expect(decodeUtf8(Uint8Array.of(0x61, 0xff, 0x62))).toBe('a\uFFFDb')
  })
})
