// Interop: `neon()` from @neondatabase/serverless, unchanged, with its fetch endpoint pointed at this relay's
// POST /sql: a query with parameters, a tagged template, full results, a transaction with its options, and
// PostgreSQL errors with their fields.
import { mintToken } from '@edgepg/proxy'
import { neon, neonConfig } from '@neondatabase/serverless'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { admin, pgAddress, pgUrl, startTestRelay, type TestRelay } from './helpers.ts'

let relay: TestRelay
beforeAll(async () => {
  relay = await startTestRelay()
  neonConfig.fetchEndpoint = `${relay.url}/sql`
})
afterAll(() => relay.shutdown())

describe('neon() against the relay', () => {
  it('runs a query with parameters and decodes the types as against Neon', async () => {
    const sql = neon(pgUrl())
    const rows = await sql.query(
      'select $1::int + 1 as n, $2::text as t, true as b, \'{"k": 1}\'::jsonb as j, 9007199254740993::int8 as big, now() as ts',
      [41, 'x'],
    )
    expect(rows).toEqual([
      { n: 42, t: 'x', b: true, j: { k: 1 }, big: '9007199254740993', ts: expect.any(Date) },
    ])
    expect(await sql`select ${'tagged'}::text as v`).toEqual([{ v: 'tagged' }])
    const port = Number(pgAddress.split(':')[1])
    expect(relay.dials.at(-1)).toEqual({ host: '127.0.0.1', port })
  })

  it('gives full results: fields, command and row count', async () => {
    const sql = neon(pgUrl(), { fullResults: true, arrayMode: true })
    const result = await sql.query('select 1::int as a, 2::int as a')
    expect(result).toMatchObject({
      command: 'SELECT',
      rowCount: 1,
      rows: [[1, 2]],
      fields: [
        { name: 'a', dataTypeID: 23 },
        { name: 'a', dataTypeID: 23 },
      ],
      rowAsArray: true,
    })
  })

  it('runs sql.transaction([...]) in one transaction with its isolation level, read-only and deferrable', async () => {
    await admin('create table if not exists sql_neon (n int)')
    await admin('delete from sql_neon')
    const sql = neon(pgUrl())
    const [inserted, settings, listed] = await sql.transaction(
      [
        sql`insert into sql_neon values (1), (2) returning n`,
        sql`select current_setting('transaction_isolation') as i, current_setting('transaction_read_only') as r`,
        sql`select count(*)::int as c from sql_neon`,
      ],
      { isolationLevel: 'RepeatableRead', readOnly: false },
    )
    expect(inserted).toEqual([{ n: 1 }, { n: 2 }])
    expect(settings).toEqual([{ i: 'repeatable read', r: 'off' }])
    expect(listed).toEqual([{ c: 2 }])
    const readOnly = await sql
      .transaction([sql`insert into sql_neon values (3)`], {
        readOnly: true,
        deferrable: true,
        isolationLevel: 'Serializable',
      })
      .catch((error: unknown) => error)
    expect(readOnly).toMatchObject({ code: '25006' })
    expect(await admin('select count(*)::int as c from sql_neon')).toEqual([{ c: 2 }])
  })

  it('rejects with the PostgreSQL error and its fields: code, position, detail', async () => {
    const sql = neon(pgUrl())
    const syntax = await sql`select 1 frm nowhere`.catch((error: unknown) => error)
    expect(syntax).toMatchObject({
      name: 'NeonDbError',
      message: 'syntax error at or near "nowhere"',
      code: '42601',
      position: '14',
      severity: 'ERROR',
    })
    await admin('create table if not exists sql_neon_pk (id int primary key)')
    await admin('insert into sql_neon_pk values (1) on conflict do nothing')
    const duplicate = await sql`insert into sql_neon_pk values (1)`.catch((error: unknown) => error)
    expect(duplicate).toMatchObject({
      code: '23505',
      detail: 'Key (id)=(1) already exists.',
      table: 'sql_neon_pk',
    })
  })

  it('gets the relay’s refusal as an http error for a target outside the allowlist', async () => {
    const sql = neon(pgUrl().replace(pgAddress, '127.0.0.1:1'))
    const refused = await sql`select 1`.catch((error: unknown) => error)
    expect((refused as Error).message).toBe('Server error (HTTP status 403): forbidden')
  })

  it('sends the relay token as its authToken (Authorization: Bearer)', async () => {
    const secret = 'neon-interop-secret-neon-interop-secret'
    const guarded = await startTestRelay({ tokenSecrets: [secret] })
    try {
      neonConfig.fetchEndpoint = `${guarded.url}/sql`
      const token = await mintToken(secret, { tgt: pgAddress, exp: Math.floor(Date.now() / 1000) + 60 })
      expect(await neon(pgUrl(), { authToken: token })`select 1 as n`).toEqual([{ n: 1 }])
      const refused = await neon(pgUrl())`select 1`.catch((error: unknown) => error)
      expect((refused as Error).message).toBe('Server error (HTTP status 401): unauthorized')
    } finally {
      neonConfig.fetchEndpoint = `${relay.url}/sql`
      await guarded.shutdown()
    }
  })
})
