/**
 * MD5 (RFC 1321) for PostgreSQL's md5 authentication: WebCrypto has no MD5. Only ever used to answer an
 * AuthenticationMD5Password request.
 */
import { hex } from '../types/bytes.ts'
import { encodeUtf8 } from '../utf8.ts'

/** The PasswordMessage content for md5 auth: `'md5' + md5hex(md5hex(password + user) + salt)`. */
export function md5Password(user: string, password: string, salt: Uint8Array): string {
  const inner = encodeUtf8(md5Hex(encodeUtf8(password + user)))
  const outer = new Uint8Array(inner.length + salt.length)
  outer.set(inner)
  outer.set(salt, inner.length)
  return `md5${md5Hex(outer)}`
}

const S = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21]
const K = Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) >>> 0)

/** MD5 of `data` as 32 lower-case hex digits. */
export function md5Hex(data: Uint8Array): string {
  const length = data.length
  const padded = new Uint8Array((((length + 8) >>> 6) + 1) * 64)
  padded.set(data)
  padded[length] = 0x80
  const view = new DataView(padded.buffer)
  view.setUint32(padded.length - 8, (length * 8) >>> 0, true)
  view.setUint32(padded.length - 4, Math.floor(length / 0x20000000), true)
  let a0 = 0x67452301
  let b0 = 0xefcdab89
  let c0 = 0x98badcfe
  let d0 = 0x10325476
  const m = new Uint32Array(16)
  for (let block = 0; block < padded.length; block += 64) {
    for (let i = 0; i < 16; i++) m[i] = view.getUint32(block + i * 4, true)
    let a = a0
    let b = b0
    let c = c0
    let d = d0
    for (let i = 0; i < 64; i++) {
      let f: number
      let g: number
      if (i < 16) {
        f = (b & c) | (~b & d)
        g = i
      } else if (i < 32) {
        f = (d & b) | (~d & c)
        g = (5 * i + 1) % 16
      } else if (i < 48) {
        f = b ^ c ^ d
        g = (3 * i + 5) % 16
      } else {
        f = c ^ (b | ~d)
        g = (7 * i) % 16
      }
      const sum = (a + f + K[i]! + m[g]!) >>> 0
      const s = S[(i >>> 4) * 4 + (i % 4)]!
      a = d
      d = c
      c = b
      b = (b + ((sum << s) | (sum >>> (32 - s)))) >>> 0
    }
    a0 = (a0 + a) >>> 0
    b0 = (b0 + b) >>> 0
    c0 = (c0 + c) >>> 0
    d0 = (d0 + d) >>> 0
  }
  const out = new DataView(new ArrayBuffer(16))
  out.setUint32(0, a0, true)
  out.setUint32(4, b0, true)
  out.setUint32(8, c0, true)
  out.setUint32(12, d0, true)
  return hex(new Uint8Array(out.buffer))
}
