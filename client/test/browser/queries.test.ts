// Types, pipelining and errors in a real page, through the relay.
import { isDatabaseError } from '@edgepg/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Opened, open } from './page.ts'

let db: Opened
beforeAll(async () => {
  db = await open()
})
afterAll(async () => {
  await db.client.end()
  await db.done
})

type Case = [type: string, value: unknown]

const cases: Case[] = [
  ['bool', true],
  ['int4', -2147483648],
  ['int8', 9223372036854775807n],
  ['float8', 0.1 + 0.2],
  ['float8', Number.NaN],
  ['numeric', '12345678901234567890.000000000123456789'],
  ['text', 'héllo wörld 👋🏽 — 日本語'],
  ['bytea', new Uint8Array([0, 1, 2, 253, 254, 255])],
  ['jsonb', { z: 1, a: [1.5, 'x', null] }],
  ['uuid', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'],
  ['date', '2024-02-29'],
  ['timestamptz', new Date('1999-12-31T23:59:59.999Z')],
  ['interval', { months: 14, days: -3, microseconds: 14706789000 }],
  ['int4[]', [1, null, 3]],
  ['text[]', ['a', 'b,c', 'd"e', 'f\\g', '', 'NULL', null]],
]

describe('types round-trip in the page', () => {
  it('returns every value in text format (plain query)', async () => {
    for (const [type, value] of cases) {
      const row = await db.client.queryOne<{ v: unknown }>(`select $1::${type} as v`, [value])
      expect(row.v, type).toEqual(value)
    }
  })

  it('returns every value in binary format (prepared statement)', async () => {
    for (const [type, value] of cases) {
      const statement = await db.client.prepare(`select $1::${type} as v`)
      const row = await db.client.queryOne<{ v: unknown }>(statement, [value])
      expect(row.v, type).toEqual(value)
      await db.client.closeStatement(statement)
    }
  })

  it('reports field names and type OIDs', async () => {
    const result = await db.client.query('select 1::int4 as a, $1::text as b', ['x'])
    expect(result.fields.map((f) => [f.name, f.typeOid])).toEqual([
      ['a', 23],
      ['b', 25],
    ])
    expect(result.rows).toEqual([{ a: 1, b: 'x' }])
  })
})

describe('pipelining in the page', () => {
  it('answers 500 queries in flight at once in FIFO order, errors on their own promises', async () => {
    const settled = await Promise.allSettled(
      Array.from({ length: 500 }, (_, i) =>
        i % 5 === 4
          ? db.client.query('select $1::int / 0', [i])
          : db.client.queryOne<{ i: number }>('select $1::int as i', [i]).then((r) => r.i),
      ),
    )
    settled.forEach((outcome, i) => {
      if (i % 5 === 4) {
        expect(outcome.status).toBe('rejected')
        expect(isDatabaseError((outcome as PromiseRejectedResult).reason, '22012')).toBe(true)
      } else expect(outcome).toEqual({ status: 'fulfilled', value: i })
    })
  })
})

describe('errors in the page', () => {
  it('rejects with the SQLSTATE and fields and leaves the connection usable', async () => {
    const missing = await db.client.query('select * from no_such_table').catch((e) => e)
    expect(isDatabaseError(missing, '42P01')).toBe(true)
    expect(missing.message).toMatch(/no_such_table/)
    expect(missing.position).toBe(15)
    const syntax = await db.client.query('selec 1').catch((e) => e)
    expect(isDatabaseError(syntax, '42601')).toBe(true)
    expect((await db.client.queryOne<{ n: number }>('select 7 as n')).n).toBe(7)
  })
})
