/**
 * SASLprep (RFC 4013, the stringprep profile of RFC 3454) for SCRAM passwords. Like PostgreSQL
 * (src/common/saslprep.c), a password that SASLprep rejects is used unchanged, so such passwords still work
 * with servers that stored them the same way.
 */

// The RFC 3454 tables are regular-expression character classes: a compact, exact form for code point ranges.

/** B.1: commonly mapped to nothing. */
// biome-ignore lint/suspicious/noMisleadingCharacterClass: each entry is one code point, tested one at a time
const MAPPED_TO_NOTHING = /[\u00ad\u034f\u1806\u180b-\u180d\u200b-\u200d\u2060\ufe00-\ufe0f\ufeff]/u

/** C.1.2: non-ASCII space characters, mapped to U+0020. */
const NON_ASCII_SPACE = /[\u00a0\u1680\u2000-\u200b\u202f\u205f\u3000]/u

/**
 * C.2.1, C.2.2, C.3–C.9: prohibited output (C.4 plane-end non-characters are checked separately). `\p{Cc}` is
 * exactly U+0000–001F and U+007F–009F.
 */
const PROHIBITED =
  // biome-ignore lint/suspicious/noMisleadingCharacterClass: each entry is one code point, tested one at a time
  /[\p{Cc}\u0340-\u0341\u06dd\u070f\u180e\u200c-\u200f\u2028-\u202e\u2060-\u2063\u206a-\u206f\u2ff0-\u2ffb\u{d800}-\u{dfff}\ue000-\uf8ff\ufdd0-\ufdef\ufeff\ufff9-\ufffd\u{1d173}-\u{1d17a}\u{e0001}\u{e0020}-\u{e007f}\u{f0000}-\u{ffffd}\u{100000}-\u{10fffd}]/u

/** D.1: characters with bidirectional property R or AL. */
const RAND_AL =
  /[\u05be\u05c0\u05c3\u05d0-\u05ea\u05f0-\u05f4\u061b\u061f\u0621-\u063a\u0640-\u064a\u066d-\u066f\u0671-\u06d5\u06dd\u06e5-\u06e6\u06fa-\u06fe\u0700-\u070d\u0710\u0712-\u072c\u0780-\u07a5\u07b1\u200f\ufb1d\ufb1f-\ufb28\ufb2a-\ufb36\ufb38-\ufb3c\ufb3e\ufb40-\ufb41\ufb43-\ufb44\ufb46-\ufbb1\ufbd3-\ufd3d\ufd50-\ufd8f\ufd92-\ufdc7\ufdf0-\ufdfc\ufe70-\ufe74\ufe76-\ufefc]/u

const isNonCharacter = (code: number) => (code & 0xfffe) === 0xfffe
const LETTER = /\p{L}/u
const isPrintableAscii = (text: string) => {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x20 || code === 0x7f) return false
  }
  return true
}
const UNASSIGNED = /\p{Cn}/u

/** Prepares a password; returns it unchanged when SASLprep would reject it (PostgreSQL's rule). */
export function saslprep(password: string): string {
  let mapped = ''
  let isAscii = true
  for (const char of password) {
    if (char.codePointAt(0)! > 0x7f) isAscii = false
    if (MAPPED_TO_NOTHING.test(char)) continue
    mapped += NON_ASCII_SPACE.test(char) ? ' ' : char
  }
  // Pure printable ASCII is its own SASLprep output.
  if (isAscii && isPrintableAscii(mapped)) return mapped
  const normalized = mapped.normalize('NFKC')
  if (normalized === '') return password
  let hasRandAL = false
  let hasL = false
  for (const char of normalized) {
    if (PROHIBITED.test(char) || isNonCharacter(char.codePointAt(0)!) || UNASSIGNED.test(char))
      return password
    if (RAND_AL.test(char)) hasRandAL = true
    else if (LETTER.test(char)) hasL = true
  }
  if (hasRandAL) {
    const chars = [...normalized]
    if (hasL || !RAND_AL.test(chars[0]!) || !RAND_AL.test(chars[chars.length - 1]!)) return password
  }
  return normalized
}
