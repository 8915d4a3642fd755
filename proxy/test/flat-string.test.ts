import { describe, expect, it } from 'vitest'
import { flatString } from '../src/runtime/node.ts'

describe('flatString', () => {
  it('returns the same text for ASCII, latin1 and wider strings, concatenated or not', () => {
    const built = ['4f1c', '-', '9a2e', ':', '5432'].reduce((text, part) => text + part, '')
    for (const text of [built, 'db.internal:5432', 'caf\u00e9', 'таргет:5432', 'emoji \u{1f418}', '']) {
      expect(flatString(text)).toBe(text)
    }
  })
})
