import { describe, expect, it } from 'vitest'
import { saslprep } from './saslprep.ts'

describe('SASLprep', () => {
  const examples: [string, string, string][] = [
    ['removes a soft hyphen (RFC 4013 example)', 'I\u00ADX', 'IX'],
    ['keeps plain ASCII', 'user', 'user'],
    ['keeps case', 'USER', 'USER'],
    ['normalizes ª to a (NFKC)', '\u00AA', 'a'],
    ['normalizes the Roman numeral nine to IX (NFKC)', '\u2168', 'IX'],
    ['maps a no-break space to a space', 'pass\u00A0word', 'pass word'],
    ['maps an ideographic space to a space', 'a\u3000b', 'a b'],
    ['removes a zero-width joiner', 'a\u200Db', 'ab'],
    ['accepts right-to-left text that starts and ends right-to-left', '\u05D0\u05D1', '\u05D0\u05D1'],
  ]
  for (const [what, input, output] of examples) {
    it(what, () => expect(saslprep(input)).toBe(output))
  }

  const unchanged: [string, string][] = [
    ['a control character (prohibited)', 'ab\u0007c'],
    ['a private-use character (prohibited)', 'x\uE000'],
    ['mixed bidi text (RFC 4013 example)', '\u0627\u0031'],
    ['right-to-left text mixed with Latin letters', '\u05D0a\u05D1'],
  ]
  for (const [what, input] of unchanged) {
    it(`uses the password unchanged when it holds ${what}, as PostgreSQL does`, () => {
      expect(saslprep(input)).toBe(input)
    })
  }
})
