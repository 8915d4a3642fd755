import { Oid } from '@edgepg/client'
import { describe, expect, it } from 'vitest'
import { displayValue, positionRange, typeName } from './format.ts'

describe('typeName', () => {
  it('names built-in types and arrays the way PostgreSQL writes them', () => {
    expect(typeName(Oid.int4)).toBe('int4')
    expect(typeName(Oid.timestamptz)).toBe('timestamptz')
    expect(typeName(Oid._text)).toBe('text[]')
  })

  it('shows the OID of a type it does not know', () => {
    expect(typeName(987654)).toBe('oid 987654')
  })
})

describe('displayValue', () => {
  it('keeps SQL NULL apart from the text "NULL" and from the empty string', () => {
    expect(displayValue(null)).toBeNull()
    expect(displayValue('NULL')).toBe('NULL')
    expect(displayValue('')).toBe('')
  })

  it('writes bytea as hex, bigints exactly and arrays and JSON as JSON', () => {
    expect(displayValue(Uint8Array.of(0xde, 0xad, 0x01))).toBe('\\xdead01')
    expect(displayValue(9007199254740993n)).toBe('9007199254740993')
    expect(displayValue([1, null, 3])).toBe('[1,null,3]')
    expect(displayValue({ big: 1n })).toBe('{"big":"1"}')
    expect(displayValue(false)).toBe('false')
  })
})

describe('positionRange', () => {
  it('maps a 1-based character position to the character it points at', () => {
    const sql = 'select * frm t'
    const range = positionRange(sql, 10)
    expect(range && sql.slice(range.start, range.end)).toBe('f')
  })

  it('counts characters, not UTF-16 units, as PostgreSQL does', () => {
    const sql = "select '😀😀', bad"
    const range = positionRange(sql, 14)
    expect(range && sql.slice(range.start, range.end)).toBe('b')
  })

  it('allows the position just past the end and refuses anything further', () => {
    expect(positionRange('select (', 9)).toEqual({ start: 8, end: 8 })
    expect(positionRange('select (', 10)).toBeUndefined()
    expect(positionRange('select (', 0)).toBeUndefined()
  })
})
