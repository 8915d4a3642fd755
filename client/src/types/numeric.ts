/**
 * numeric in binary format → the exact string PostgreSQL's numeric_out prints (`1.50`, `-0.001`, `NaN`).
 *
 * Wire layout (numeric_send): int16 ndigits, int16 weight, uint16 sign, uint16 dscale, then ndigits int16
 * base-10000 digits. Digit i is worth 10000^(weight − i); dscale is the number of decimal digits printed after
 * the point (trailing zeros included).
 */
import { encodeError } from '../errors.ts'
import { readInt16, readUint16 } from './bytes.ts'

const POSITIVE = 0x0000
const NEGATIVE = 0x4000
const NAN = 0xc000
const PLUS_INFINITY = 0xd000
const MINUS_INFINITY = 0xf000

export function binaryNumeric(bytes: Uint8Array, start: number, end: number): string {
  if (end - start < 8) throw encodeError(`expected at least 8 bytes for binary numeric, found ${end - start}`)
  const ndigits = readInt16(bytes, start)
  const weight = readInt16(bytes, start + 2)
  const sign = readUint16(bytes, start + 4)
  const dscale = readUint16(bytes, start + 6)
  if (sign === NAN) return 'NaN'
  if (sign === PLUS_INFINITY) return 'Infinity'
  if (sign === MINUS_INFINITY) return '-Infinity'
  if ((sign !== POSITIVE && sign !== NEGATIVE) || ndigits < 0 || end - start !== 8 + ndigits * 2) {
    throw encodeError(`expected a binary numeric, found sign 0x${sign.toString(16)} and ${ndigits} digits`)
  }
  const at = start + 8
  const digit = (i: number) => (i >= 0 && i < ndigits ? readInt16(bytes, at + i * 2) : 0)

  let out = sign === NEGATIVE ? '-' : ''
  if (weight < 0) {
    out += '0'
  } else {
    out += digit(0)
    for (let i = 1; i <= weight; i++) out += pad4(digit(i))
  }
  if (dscale > 0) {
    let fraction = ''
    for (let i = weight + 1; fraction.length < dscale; i++) fraction += pad4(digit(i))
    out += '.' + (fraction.length === dscale ? fraction : fraction.slice(0, dscale))
  }
  return out
}

function pad4(n: number): string {
  if (n >= 1000) return `${n}`
  if (n >= 100) return `0${n}`
  if (n >= 10) return `00${n}`
  return `000${n}`
}
