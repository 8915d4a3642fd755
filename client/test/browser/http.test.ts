// `@edgepg/client/http` in a real page: the page's own fetch, a CORS preflight answered for the page's Origin
// only, the same values as the WebSocket path, and PostgreSQL errors as DatabaseError.
import { isDatabaseError } from '@edgepg/client'
import { http } from '@edgepg/client/http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Opened, open, relayUrl, url } from './page.ts'

const sqlUrl = relayUrl.replace(/^ws/, 'http').replace(/\/v1$/, '/sql')

let db: Opened
beforeAll(async () => {
  db = await open()
})
afterAll(async () => {
  await db.client.end()
  await db.done
})

describe('http() in the page, through the relay', () => {
  it('gives the values the WebSocket path gives, for parameters of every kind', async () => {
    const sql =
      'select $1::int8 as big, $2::bytea as bytes, $3::timestamptz as at, $4::int4[] as list, ' +
      '$5::jsonb as doc, $6::text as text, $7::numeric as n, null::int as none'
    const params = [
      9223372036854775807n,
      new Uint8Array([0, 1, 254, 255]),
      new Date('1999-12-31T23:59:59.999Z'),
      [1, null, 3],
      { z: 1, a: [1.5, 'x', null] },
      'héllo 👋🏽',
      '12345678901234567890.5',
    ]
    const db2 = http(url(), { url: sqlUrl })
    const overHttp = await db2.query(sql, params)
    const overWs = await db.client.query(sql, params)
    expect(overHttp.rows).toEqual(overWs.rows)
    expect(Object.getPrototypeOf(overHttp.rows[0])).toBe(Object.getPrototypeOf(overWs.rows[0]))
    expect(overHttp.command).toBe('SELECT')
    expect(overHttp.rowCount).toBe(1)
  })

  it('rejects with a DatabaseError carrying the SQLSTATE and position', async () => {
    const error = await http(url(), { url: sqlUrl })
      .query('select nonexistent_column from pg_class')
      .catch((e: unknown) => e)
    expect(isDatabaseError(error)).toBe(true)
    expect((error as { code: string }).code).toBe('42703')
    expect((error as { position?: number }).position).toBe(8)
  })

  it('runs a transaction of several statements', async () => {
    const [first, second] = await http(url(), { url: sqlUrl }).transaction(
      [['select 1 as a'], ["select current_setting('transaction_isolation') as level"]],
      { isolation: 'serializable' },
    )
    expect(first!.rows).toEqual([{ a: 1 }])
    expect(second!.rows).toEqual([{ level: 'serializable' }])
  })
})
