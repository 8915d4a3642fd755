/**
 * SASLprep (RFC 4013, the stringprep profile of RFC 3454) for SCRAM passwords. Like PostgreSQL
 * (src/common/saslprep.c), a password that SASLprep rejects is used unchanged, so such passwords still work
 * with servers that stored them the same way.
 */

type Ranges = readonly (readonly [number, number])[]

/** B.1: commonly mapped to nothing. */
const MAPPED_TO_NOTHING: Ranges = [
  [0x00ad, 0x00ad],
  [0x034f, 0x034f],
  [0x1806, 0x1806],
  [0x180b, 0x180d],
  [0x200b, 0x200d],
  [0x2060, 0x2060],
  [0xfe00, 0xfe0f],
  [0xfeff, 0xfeff],
]

/** C.1.2: non-ASCII space characters, mapped to U+0020. */
const NON_ASCII_SPACE: Ranges = [
  [0x00a0, 0x00a0],
  [0x1680, 0x1680],
  [0x2000, 0x200b],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
]

/** C.2.1, C.2.2, C.3–C.9: prohibited output (C.4 plane-end non-characters are checked separately). */
const PROHIBITED: Ranges = [
  [0x0000, 0x001f],
  [0x007f, 0x009f],
  [0x0340, 0x0341],
  [0x06dd, 0x06dd],
  [0x070f, 0x070f],
  [0x180e, 0x180e],
  [0x200c, 0x200f],
  [0x2028, 0x202e],
  [0x2060, 0x2063],
  [0x206a, 0x206f],
  [0x2ff0, 0x2ffb],
  [0xd800, 0xdfff],
  [0xe000, 0xf8ff],
  [0xfdd0, 0xfdef],
  [0xfeff, 0xfeff],
  [0xfff9, 0xfffd],
  [0x1d173, 0x1d17a],
  [0xe0001, 0xe0001],
  [0xe0020, 0xe007f],
  [0xf0000, 0xffffd],
  [0x100000, 0x10fffd],
]

/** D.1: characters with bidirectional property R or AL. */
const RAND_AL: Ranges = [
  [0x05be, 0x05be],
  [0x05c0, 0x05c0],
  [0x05c3, 0x05c3],
  [0x05d0, 0x05ea],
  [0x05f0, 0x05f4],
  [0x061b, 0x061b],
  [0x061f, 0x061f],
  [0x0621, 0x063a],
  [0x0640, 0x064a],
  [0x066d, 0x066f],
  [0x0671, 0x06d5],
  [0x06dd, 0x06dd],
  [0x06e5, 0x06e6],
  [0x06fa, 0x06fe],
  [0x0700, 0x070d],
  [0x0710, 0x0710],
  [0x0712, 0x072c],
  [0x0780, 0x07a5],
  [0x07b1, 0x07b1],
  [0x200f, 0x200f],
  [0xfb1d, 0xfb1d],
  [0xfb1f, 0xfb28],
  [0xfb2a, 0xfb36],
  [0xfb38, 0xfb3c],
  [0xfb3e, 0xfb3e],
  [0xfb40, 0xfb41],
  [0xfb43, 0xfb44],
  [0xfb46, 0xfbb1],
  [0xfbd3, 0xfd3d],
  [0xfd50, 0xfd8f],
  [0xfd92, 0xfdc7],
  [0xfdf0, 0xfdfc],
  [0xfe70, 0xfe74],
  [0xfe76, 0xfefc],
]

const inRanges = (code: number, ranges: Ranges) => ranges.some(([lo, hi]) => code >= lo && code <= hi)
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
    const code = char.codePointAt(0)!
    if (code > 0x7f) isAscii = false
    if (inRanges(code, MAPPED_TO_NOTHING)) continue
    mapped += inRanges(code, NON_ASCII_SPACE) ? ' ' : char
  }
  // Pure printable ASCII is its own SASLprep output.
  if (isAscii && isPrintableAscii(mapped)) return mapped
  const normalized = mapped.normalize('NFKC')
  if (normalized === '') return password
  let hasRandAL = false
  let hasL = false
  for (const char of normalized) {
    const code = char.codePointAt(0)!
    if (inRanges(code, PROHIBITED) || isNonCharacter(code) || UNASSIGNED.test(char)) return password
    if (inRanges(code, RAND_AL)) hasRandAL = true
    else if (LETTER.test(char)) hasL = true
  }
  if (hasRandAL) {
    const chars = [...normalized]
    const first = chars[0]!.codePointAt(0)!
    const last = chars[chars.length - 1]!.codePointAt(0)!
    if (hasL || !inRanges(first, RAND_AL) || !inRanges(last, RAND_AL)) return password
  }
  return normalized
}
