import { createHash, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { md5Hex, md5Password } from './md5.ts'

const reference = (data: Uint8Array) => createHash('md5').update(data).digest('hex')

describe('md5', () => {
  it('matches node:crypto around every padding boundary', () => {
    for (const length of [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000]) {
      const data = randomBytes(length)
      expect(md5Hex(data)).toBe(reference(data))
    }
  })

  it('matches node:crypto on 200 random inputs', () => {
    for (let i = 0; i < 200; i++) {
      const data = randomBytes(Math.floor(Math.random() * 300))
      expect(md5Hex(data)).toBe(reference(data))
    }
  })

  it('builds the PostgreSQL md5 password response from user, password and salt', () => {
    const salt = Uint8Array.of(0x01, 0x02, 0xfe, 0xff)
    const inner = createHash('md5').update('sécret🔑alice').digest('hex')
    const expected = `md5${createHash('md5')
      .update(Buffer.concat([Buffer.from(inner), salt]))
      .digest('hex')}`
    expect(md5Password('alice', 'sécret🔑', salt)).toBe(expected)
  })
})
