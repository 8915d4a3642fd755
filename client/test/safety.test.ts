// Attack cases D2d, D3a, D3b (../shared/attack-cases.md): hostile values and names stay data.
import { isDatabaseError, isPgError } from '@edgepg/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Opened, open } from './helpers.ts'

let db: Opened
beforeAll(async () => {
  db = await open()
})
afterAll(async () => {
  await db.client.end()
})

describe('D3a: hostile parameter values round-trip exactly', () => {
  const values: [string, string][] = [
    ['an injection attempt', "'; DROP TABLE t; --"],
    ['a placeholder lookalike', '$1'],
    ['backslashes', 'C:\\path\\to\\file \\x00 \\\\'],
    ['emoji and astral characters', '👩‍👩‍👧‍👦 𝕳𝖊𝖑𝖑𝖔 😀'],
    ['quotes of every kind', `'"\`’“”`],
    ['a 1 MB string', 'x'.repeat(1024 * 1024)],
  ]
  for (const [what, value] of values) {
    it(`returns ${what} unchanged`, async () => {
      const row = await db.client.queryOne<{ v: string }>('select $1::text as v', [value])
      expect(row.v).toBe(value)
    })
  }

  it('sends $n placeholders in Parse, never the values', async () => {
    await db.client.batchExecute('create temp table d3a (v text)')
    const value = "x'); drop table d3a; --"
    await db.client.query('insert into d3a values ($1)', [value])
    expect(await db.client.queryOne('select v from d3a')).toEqual({ v: value })
    const seen = await db.client.queryOne<{ q: string }>(
      `select query as q from pg_stat_activity where pid = pg_backend_pid()`,
    )
    expect(seen.q).toBe('select query as q from pg_stat_activity where pid = pg_backend_pid()')
  })

  it('rejects a NUL byte with the server error 22021 instead of truncating, and stays usable', async () => {
    const error = await db.client.query('select $1::text as v', ['before\0after']).catch((e) => e)
    expect(isDatabaseError(error, '22021')).toBe(true)
    expect((await db.client.queryOne<{ n: number }>('select 1 as n')).n).toBe(1)
  })
})

describe('D3b: misuse is refused before anything is sent', () => {
  it('rejects more than 65535 parameters on the client', async () => {
    const params = Array.from({ length: 65536 }, (_, i) => i)
    const text = `select ${params.map((_, i) => `$${i + 1}`).join(',')}`
    const error = await db.client.query(text, params).catch((e) => e)
    expect(isPgError(error, 'encode')).toBe(true)
    expect(error.message).toMatch(/65536/)
    expect((await db.client.queryOne<{ n: number }>('select 1 as n')).n).toBe(1)
  })

  it('accepts exactly 65535 parameters', async () => {
    const params = Array.from({ length: 65535 }, (_, i) => i)
    const text = `select array_length(array[${params.map((_, i) => `$${i + 1}::int`).join(',')}], 1) as n`
    expect((await db.client.queryOne<{ n: number }>(text, params)).n).toBe(65535)
  })

  it('refuses the sql tag called with a plain string', async () => {
    const sql = db.client.sql.bind(db.client) as unknown as (text: string) => Promise<unknown>
    await expect(sql('select 1')).rejects.toSatisfy((e) => isPgError(e, 'usage'))
  })

  it('refuses a parameter that cannot be encoded and names it', async () => {
    const error = await db.client.query('select $1, $2', [1, Symbol('nope')]).catch((e) => e)
    expect(isPgError(error, 'encode')).toBe(true)
    expect(error.message).toMatch(/\$2/)
  })
})

describe('D2d: hostile column names stay data', () => {
  it('keeps __proto__, constructor and toString as plain columns without touching Object.prototype', async () => {
    const row = await db.client.queryOne<Record<string, unknown>>(
      `select 1 as "__proto__", 2 as "constructor", 3 as "toString", 4 as "hasOwnProperty", '{"polluted":true}'::json as "__proto__x"`,
    )
    expect(Object.getOwnPropertyDescriptor(row, '__proto__')?.value).toBe(1)
    expect(row.constructor).toBe(2)
    expect(row.toString).toBe(3)
    expect(Object.keys(row)).toEqual(['__proto__', 'constructor', 'toString', 'hasOwnProperty', '__proto__x'])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.hasOwn(Object.prototype, 'polluted')).toBe(false)
  })

  it('treats a column name that looks like code as a name', async () => {
    const name = '"};process.exit()//'
    const row = await db.client.queryOne<Record<string, unknown>>(
      `select 1 as "${name.replaceAll('"', '""')}"`,
    )
    expect(row[name]).toBe(1)
  })

  it('does not pollute prototypes through a JSON value', async () => {
    const row = await db.client.queryOne<{ j: Record<string, unknown> }>(
      `select '{"__proto__":{"evil":1}}'::json as j`,
    )
    expect(({} as Record<string, unknown>).evil).toBeUndefined()
    expect(Object.keys(row.j)).toContain('__proto__')
  })
})
