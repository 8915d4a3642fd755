import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { base64urlDecode, base64urlEncode } from './base64url.ts'

describe('base64url', () => {
  it('agrees with Buffer on every length from 0 to 64 bytes, both ways', () => {
    for (let length = 0; length <= 64; length++) {
      const bytes = randomBytes(length)
      const text = bytes.toString('base64url')
      expect(base64urlEncode(new Uint8Array(bytes))).toBe(text)
      expect(Buffer.from(base64urlDecode(text)!)).toEqual(bytes)
    }
  })

  it.each(['YQ==', 'a+b/', 'a b', 'Y', 'YR', 'YWI=', 'é'])(
    'refuses the non-canonical or foreign text %j',
    (text) => {
      expect(base64urlDecode(text)).toBeUndefined()
    },
  )
})
