import { describe, expect, it } from 'vitest'
import { arrayElementOid, Oid } from './oids.generated.ts'

describe('the generated OID table', () => {
  it('has the OIDs PostgreSQL fixes in its catalog headers', () => {
    expect(Oid.bool).toBe(16)
    expect(Oid.bytea).toBe(17)
    expect(Oid.int8).toBe(20)
    expect(Oid.int4).toBe(23)
    expect(Oid.text).toBe(25)
    expect(Oid.json).toBe(114)
    expect(Oid.float8).toBe(701)
    expect(Oid.timestamptz).toBe(1184)
    expect(Oid.numeric).toBe(1700)
    expect(Oid.uuid).toBe(2950)
    expect(Oid.jsonb).toBe(3802)
  })

  it('names array types with a leading underscore', () => {
    expect(Oid._int4).toBe(1007)
    expect(Oid._text).toBe(1009)
    expect(Oid._box).toBe(1020)
    expect(Oid._jsonb).toBe(3807)
  })

  it('maps every built-in array type to its element type', () => {
    expect(arrayElementOid[Oid._int4]).toBe(Oid.int4)
    expect(arrayElementOid[Oid._timestamptz]).toBe(Oid.timestamptz)
    expect(arrayElementOid[Oid._box]).toBe(Oid.box)
    const oids: Record<string, number> = Oid
    for (const [name, oid] of Object.entries(oids)) {
      const element = oids[name.slice(1)]
      if (name.startsWith('_') && element !== undefined) expect(arrayElementOid[oid], name).toBe(element)
    }
  })

  it('has no element type for scalars or for int2vector and oidvector', () => {
    expect(arrayElementOid[Oid.int4]).toBeUndefined()
    expect(arrayElementOid[Oid.int2vector]).toBeUndefined()
    expect(arrayElementOid[Oid.oidvector]).toBeUndefined()
  })
})
