// The HTTP entry against a real relay and PostgreSQL: batches (the same results as client.transaction over this
// project's transport; options honoured; rolled back at the first error) and, once (TCP project), what the
// relay does to a request: deadline and abort cancel the statement on the server, tokens, refusals, limits.
import { DatabaseError, isDatabaseError, isPgError, type PgError } from '@edgepg/client'
import { type BatchQuery, http } from '@edgepg/client/http'
import { mintToken } from '@edgepg/proxy'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { admin, type Opened, open, server, transportKind, url, waitFor } from '../helpers.ts'
import { pgAddress, suiteRelay } from './relay.ts'

const relay = suiteRelay()
const table = `http_batch_${transportKind}`
let wire: Opened
beforeAll(async () => {
  wire = await open({ statementCacheSize: 0 })
  await admin(`drop table if exists ${table}`)
  await admin(`create table ${table} (id int primary key, name text)`)
  await admin(`grant all on ${table} to public`)
})
afterAll(async () => {
  await wire.client.end()
  await admin(`drop table if exists ${table}`)
})

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (error: unknown) => error as PgError,
  )

describe(`a batch over http() (compared with client.transaction over ${transportKind})`, () => {
  const statements: [string, unknown[]?][] = [
    [`insert into ${table} values ($1, $2), ($3, $4) returning *`, [1, 'one', 2, 'two']],
    [`update ${table} set name = upper(name) where id = $1`, [2]],
    [`select * from ${table} order by id`],
    [`delete from ${table}`],
  ]

  it('gives the results the same statements give in one transaction', async () => {
    const over = await relay.db().transaction(statements)
    const expected = await wire.client.transaction(async (tx) => {
      const results = []
      for (const [sql, params] of statements) results.push(await tx.query(sql, params))
      return results
    })
    expect(over).toEqual(expected)
    expect(over.map((r) => [r.command, r.rowCount])).toEqual([
      ['INSERT', 2],
      ['UPDATE', 1],
      ['SELECT', 2],
      ['DELETE', 2],
    ])
  })

  it('refuses query text with a NUL as the wire path does: the same kind and message, nothing sent', async () => {
    const sql = "select 'a\u0000b'"
    const over = (await relay
      .db()
      .query(sql)
      .catch((e: unknown) => e)) as PgError
    const onWire = (await wire.client.query(sql).catch((e: unknown) => e)) as PgError
    expect([over.kind, over.message]).toEqual([onWire.kind, onWire.message])
    expect(over.kind).toBe('encode')
  })

  it('gives the whole command verb of a multi-word tag, as client.query does', async () => {
    const statements: BatchQuery[] = [
      ['create temporary table http_verbs (n int)'],
      ['alter table http_verbs add column m int'],
      ['drop table http_verbs'],
    ]
    const over = await relay.db().transaction(statements)
    const expected = await wire.client.transaction(async (tx) => {
      const results = []
      for (const [sql] of statements) results.push(await tx.query(sql))
      return results
    })
    expect(over).toEqual(expected)
    expect(over.map((r) => r.command)).toEqual(['CREATE TABLE', 'ALTER TABLE', 'DROP TABLE'])
  })

  it('is rolled back at the first error, which rejects it as the wire path would', async () => {
    const error = await failure(
      relay
        .db()
        .transaction([
          [`insert into ${table} values (10, 'kept?')`],
          [`insert into ${table} values (10, 'duplicate')`],
          [`insert into ${table} values (11, 'never run')`],
        ]),
    )
    expect(error).toBeInstanceOf(DatabaseError)
    expect(isDatabaseError(error, '23505')).toBe(true)
    expect((error as DatabaseError).constraint).toBe(`${table}_pkey`)
    expect(await admin(`select id from ${table}`)).toEqual([])
  })

  it('runs with the isolation level, read only and deferrable asked for', async () => {
    const show = [
      ['show transaction_isolation'],
      ['show transaction_read_only'],
      ['show transaction_deferrable'],
    ] as const
    const levels = ['serializable', 'repeatable read', 'read committed', 'read uncommitted'] as const
    for (const isolation of levels) {
      for (const readOnly of [true, false]) {
        const results = await relay.db().transaction(show, { isolation, readOnly, deferrable: readOnly })
        expect(results.map((r) => Object.values(r.rows[0]!)[0])).toEqual([
          isolation,
          readOnly ? 'on' : 'off',
          readOnly ? 'on' : 'off',
        ])
      }
    }
    const refused = await failure(
      relay.db().transaction([[`insert into ${table} values (20, 'x')`]], { readOnly: true }),
    )
    expect(isDatabaseError(refused, '25006')).toBe(true)
  })

  it('in array row mode gives array rows for every statement', async () => {
    const [a, b] = await relay
      .db()
      .transaction([['select 1 as n, 2 as n'], ['select $1::text as t', ['x']]], {
        rowMode: 'array',
      })
    expect([a!.rows, b!.rows]).toEqual([[[1, 2]], [['x']]])
  })
})

if (transportKind === 'tcp') {
  /** Active backends running a statement that contains `tag`. */
  const running = async (tag: string) =>
    (
      await admin<{ n: number }>(
        `select count(*)::int as n from pg_stat_activity where state = 'active' and query like $1 and pid <> pg_backend_pid()`,
        [`%${tag}%`],
      )
    )[0]!.n

  describe('a request the caller gives up on', () => {
    it('rejects at its timeout, and the relay cancels the statement on the server', async () => {
      const tag = 'http-timeout-tag'
      const pending = failure(relay.db().query(`select pg_sleep(30) /* ${tag} */`, [], { timeout: 2000 }))
      await waitFor(async () => (await running(tag)) === 1)
      const error = await pending
      expect(isPgError(error, 'timeout')).toBe(true)
      expect(error.message).toBe('query timed out after 2000 ms')
      await waitFor(async () => (await running(tag)) === 0)
      expect((await relay.db().queryOne<{ n: number }>('select 1 as n')).n).toBe(1)
    })

    it('rejects when its signal aborts, and the relay cancels the statement on the server', async () => {
      const tag = 'http-abort-tag'
      const controller = new AbortController()
      const pending = failure(
        relay.db().query(`select pg_sleep(30) /* ${tag} */`, [], { signal: controller.signal }),
      )
      await waitFor(async () => (await running(tag)) === 1)
      controller.abort()
      expect(isPgError(await pending, 'aborted')).toBe(true)
      await waitFor(async () => (await running(tag)) === 0)
    })
  })

  describe('a request the relay or the server refuses', () => {
    const SECRET = 'a-relay-token-secret-of-at-least-32-chars'
    const guarded = suiteRelay({
      tokenSecrets: [SECRET],
      sqlMaxRequestBytes: 2048,
      sqlMaxResponseBytes: 4096,
      sqlTimeout: 300,
    })
    const token = () => mintToken(SECRET, { tgt: pgAddress, exp: Math.floor(Date.now() / 1000) + 60 })

    it('takes a token from an async function, and refuses a missing or wrong one with kind auth', async () => {
      expect((await guarded.db({ token }).queryOne<{ n: number }>('select 1 as n')).n).toBe(1)
      for (const db of [guarded.db(), guarded.db({ token: 'not.a.token' })]) {
        const error = await failure(db.query('select 1'))
        expect(isPgError(error, 'auth'), String(error)).toBe(true)
        expect(error.message).toMatch(/^the relay answered 40[13]: /)
      }
    })

    it('answers a wrong password with the server error 28P01', async () => {
      const db = relay.db({ role: { user: server.roles.scram.user, password: 'wrong' } })
      const error = await failure(db.query('select 1'))
      expect(isDatabaseError(error, '28P01')).toBe(true)
    })

    it('refuses a target the relay does not allow with kind auth', async () => {
      const denied = await failure(
        http(url(undefined, server.host, 1), { url: relay.sqlUrl }).query('select 1'),
      )
      expect(isPgError(denied, 'auth'), String(denied)).toBe(true)
      expect(denied.message).toBe('the relay answered 403: forbidden')
    })

    it('rejects a request or a result over the relay limits with kind limit', async () => {
      const big = await failure(guarded.db({ token }).query('select $1::text', ['x'.repeat(4000)]))
      expect(isPgError(big, 'limit'), String(big)).toBe(true)
      expect(big.message).toMatch(/^the relay answered 413: /)
      const wide = await failure(
        guarded.db({ token }).query(`select repeat('y', 100) from generate_series(1, 100)`),
      )
      expect(isPgError(wide, 'limit'), String(wide)).toBe(true)
      expect(wide.message).toMatch(/^the relay answered 507: /)
    })

    it("rejects a statement past the relay's deadline with the server's 57014", async () => {
      const error = await failure(guarded.db({ token }).query('select pg_sleep(30) /* http-deadline-tag */'))
      expect(isDatabaseError(error, '57014')).toBe(true)
      expect(error.message).toBe("query cancelled: it ran past the relay's deadline of 300 ms")
      await waitFor(async () => (await running('http-deadline-tag')) === 0)
    })
  })
}
