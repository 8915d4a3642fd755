import { connect, createPool, isDatabaseError, isPgError } from '@edgepg/client'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { admin, openEach, transport, transportKind, url } from './helpers.ts'

const db = openEach()

const table = `batch_${transportKind}`
afterAll(() => admin(`drop table if exists ${table}, ${table}_m`))

/** The rows of `name` in insertion key order, read by the test's admin connection (another session). */
async function committed(name: string): Promise<number[]> {
  const rows = (await admin(`select k from ${name} order by k`)) as { k: number }[]
  return rows.map((r) => r.k)
}

describe('client.batch', () => {
  it('runs the statements in order in one round trip and resolves with one result each', async () => {
    const { client } = await db()
    const results = await client.batch([
      ['select $1::int as n', [1]],
      ['select $1::text as t, $2::int8 as b', ['x', 5n]],
      ['select generate_series(1, $1::int) as g', [3]],
      ['select 1 where false'],
    ])
    expect(results.map((r) => r.rows)).toEqual([
      [{ n: 1 }],
      [{ t: 'x', b: 5n }],
      [{ g: 1 }, { g: 2 }, { g: 3 }],
      [],
    ])
    expect(results.map((r) => r.command)).toEqual(['SELECT', 'SELECT', 'SELECT', 'SELECT'])
    expect(results[2]!.rowCount).toBe(3)
    expect(results[1]!.fields.map((f) => f.name)).toEqual(['t', 'b'])
  })

  it('decodes the same values as query, on a first and on a cached (binary) run', async () => {
    const { client } = await db()
    const sql = `select 42::int4 as a, 9007199254740993::int8 as b, 1.50::numeric as c, '2024-02-29 12:34:56.789+00'::timestamptz as d,
      '{"k":[1,2]}'::jsonb as e, '\\xdeadbeef'::bytea as f, array[1,null,3]::int4[] as g, null::int as h`
    const expected = (await client.query(sql)).rows
    for (let i = 0; i < 3; i++) {
      const [result] = await client.batch([[sql]])
      expect(result!.rows).toEqual(expected)
    }
  })

  it('commits every statement when all succeed', async () => {
    const { client } = await db()
    await client.batchExecute(`drop table if exists ${table}; create table ${table} (k int primary key)`)
    const results = await client.batch([
      [`insert into ${table} values ($1)`, [1]],
      [`insert into ${table} values ($1), ($2)`, [2, 3]],
      [`delete from ${table} where k = $1`, [2]],
    ])
    expect(results.map((r) => [r.command, r.rowCount])).toEqual([
      ['INSERT', 1],
      ['INSERT', 2],
      ['DELETE', 1],
    ])
    expect(await committed(table)).toEqual([1, 3])
  })

  it('at the first error rolls back the statements before it, skips the rest and rejects with that error', async () => {
    const { client } = await db()
    await client.batchExecute(`drop table if exists ${table}; create table ${table} (k int primary key)`)
    const error = await client
      .batch([
        [`insert into ${table} values ($1)`, [1]],
        [`insert into ${table} values ($1)`, [1]],
        [`insert into ${table} values ($1)`, [2]],
      ])
      .catch((e: unknown) => e)
    expect(isDatabaseError(error, '23505')).toBe(true)
    expect(await committed(table)).toEqual([])
    // The connection is fine and the statements stay usable.
    expect((await client.batch([[`insert into ${table} values ($1)`, [7]]]))[0]!.rowCount).toBe(1)
    expect(await committed(table)).toEqual([7])
  })

  it('a syntax error in a new statement fails the batch and leaves no cached name behind', async () => {
    const { client } = await db()
    const error = await client
      .batch([['select $1::int as n', [1]], ['selec 2'], ['select 3 as m']])
      .catch((e) => e)
    expect(isDatabaseError(error, '42601')).toBe(true)
    // A statement skipped after the error was never parsed: the cache must not bind its name later. Inside a
    // transaction nothing is retried, so a name left behind would fail here with 26000.
    const again = await client.transaction((tx) =>
      tx.batch([['select $1::int as n', [1]], ['select 3 as m'], ['select 4 as o']]),
    )
    expect(again.map((r) => r.rows[0])).toEqual([{ n: 1 }, { m: 3 }, { o: 4 }])
  })

  it('resolves [] for an empty batch without writing to the server', async () => {
    // Not driven (no run()): anything sent would wait for run() and reject after notDrivenTimeout.
    const [client, connection] = await connect(url(), { transport: transport(), notDrivenTimeout: 200 })
    try {
      expect(await client.batch([])).toEqual([])
      expect(connection.state).toBe('ready')
    } finally {
      await client.end()
    }
  })

  it('refuses bad input before sending anything, naming the statement', async () => {
    const { client } = await db()
    const bad: [unknown, RegExp][] = [
      ['select 1', /batch expects an array of \[text, params\] queries, found string/],
      [['select 1'], /batch query 1 must be a \[text, params\] array, found string/],
      [[['select 1'], ['select $1', [Symbol('x')]]], /batch query 2: parameter \$1 could not be encoded/],
      [
        [['select 1'], [42]],
        /batch query 2: query text must be a string or a prepared Statement, found number/,
      ],
      [[['select 1'], ['select 2', 'x']], /batch query 2: query parameters must be an array, found string/],
    ]
    for (const [queries, message] of bad) {
      const error = await client.batch(queries as never).catch((e: unknown) => e)
      expect(isPgError(error)).toBe(true)
      expect((error as Error).message).toMatch(message)
    }
    const error = await client.batch([['select 1']], { maxResultBytes: 10 } as never).catch((e: unknown) => e)
    expect((error as Error).message).toMatch(/batch does not take maxResultBytes/)
    expect((await client.query('select 1 as ok')).rows).toEqual([{ ok: 1 }])
  })

  it('re-prepares and runs again once when its first statement went stale (nothing ran the first time)', async () => {
    const { client } = await db()
    await client.batchExecute(
      `drop table if exists ${table}; create table ${table} (k int primary key, a int); insert into ${table} values (1, 1)`,
    )
    const queries = [[`select * from ${table}`], [`update ${table} set a = a + 1 where k = 1`]] as const
    await client.batch(queries)
    await client.batch(queries)
    await admin(`alter table ${table} add column b text default 'new'`)
    const [selected, updated] = await client.batch(queries)
    expect(selected!.rows).toEqual([{ k: 1, a: 3, b: 'new' }])
    expect(updated!.rowCount).toBe(1)
    expect(await admin(`select a from ${table}`)).toEqual([{ a: 4 }])
  })

  it('rejects with the server error, not a re-run, when a later statement went stale (earlier ones may have had effects)', async () => {
    const { client } = await db()
    await client.batchExecute(
      `drop table if exists ${table}; create table ${table} (k int primary key, a int); insert into ${table} values (1, 1)`,
    )
    const queries = [[`update ${table} set a = a + 1 where k = 1`], [`select * from ${table}`]] as const
    await client.batch(queries)
    await client.batch(queries)
    await admin(`alter table ${table} add column b text default 'new'`)
    const error = await client.batch(queries).catch((e: unknown) => e)
    expect(isDatabaseError(error, '0A000')).toBe(true)
    expect(await admin(`select a from ${table}`)).toEqual([{ a: 3 }])
    const [, selected] = await client.batch(queries)
    expect(selected!.rows).toEqual([{ k: 1, a: 4, b: 'new' }])
  })

  it('inside a transaction runs in it: a rollback undoes it, and an error fails the transaction', async () => {
    const { client } = await db()
    await client.batchExecute(`drop table if exists ${table}; create table ${table} (k int primary key)`)
    await client
      .transaction(async (tx) => {
        await tx.batch([[`insert into ${table} values (1)`], [`insert into ${table} values (2)`]])
        expect((await tx.query(`select count(*)::int as n from ${table}`)).rows).toEqual([{ n: 2 }])
        throw new Error('roll back')
      })
      .catch(() => {})
    expect(await committed(table)).toEqual([])
    const error = await client
      .transaction(async (tx) => {
        await tx.batch([[`insert into ${table} values (1)`], [`insert into ${table} values (1)`]])
      })
      .catch((e: unknown) => e)
    expect(isDatabaseError(error, '23505')).toBe(true)
    expect(client.isClosed).toBe(false)
    expect((await client.query('select 1 as ok')).rows).toEqual([{ ok: 1 }])
  })

  it('pipelines with queries around it, each answer to its own caller', async () => {
    const { client } = await db()
    const calls = Array.from({ length: 30 }, (_, i) =>
      i % 3 === 0
        ? client
            .batch([
              ['select $1::int as n', [i]],
              ['select $1::int + 1 as n', [i]],
            ])
            .then((rs) => rs.map((r) => r.rows[0]))
        : client.query('select $1::int as n', [i]).then((r) => [r.rows[0]]),
    )
    const answers = await Promise.all(calls)
    answers.forEach((answer, i) => {
      expect(answer).toEqual(i % 3 === 0 ? [{ n: i }, { n: i + 1 }] : [{ n: i }])
    })
  })

  it('takes rowMode and types for every statement', async () => {
    const { client } = await db()
    const types = { raw: true as const }
    const [a, b] = await client.batch([['select 1::int as x, 2::int as x'], ['select 3::int8 as y']], {
      rowMode: 'array',
      types,
    })
    expect(a!.rows).toEqual([['1', '2']])
    expect(b!.rows).toEqual([['3']])
  })

  it('refuses COPY FROM STDIN in a batch with a clear error and keeps the connection', async () => {
    const { client } = await db()
    await client.batchExecute(`drop table if exists ${table}; create table ${table} (k int primary key)`)
    const error = await client.batch([[`copy ${table} from stdin`]]).catch((e: unknown) => e)
    expect(isPgError(error)).toBe(true)
    expect((error as Error).message).toMatch(/copy/i)
    expect((await client.query('select 1 as ok')).rows).toEqual([{ ok: 1 }])
  })

  it('honours a timeout like query (the statement is cancelled and the connection destroyed)', async () => {
    const { client } = await db()
    const error = await client.batch([['select 1'], ['select pg_sleep(5)']], { timeout: 100 }).catch((e) => e)
    expect(isPgError(error, 'timeout')).toBe(true)
  })

  it('matches a model: random batches of inserts, some failing, leave exactly the batches that had no error', async () => {
    const { client } = await db()
    const name = `${table}_m`
    await client.batchExecute(`drop table if exists ${name}; create table ${name} (k int primary key)`)
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 1, maxLength: 6 }), {
          minLength: 1,
          maxLength: 8,
        }),
        async (batches) => {
          await client.query(`truncate ${name}`)
          const model = new Set<number>()
          // All batches are issued at once (pipelined); the server runs them in order.
          const settled = await Promise.allSettled(
            batches.map((keys) =>
              client.batch(keys.map((k) => [`insert into ${name} values ($1)`, [k]] as const)),
            ),
          )
          batches.forEach((keys, i) => {
            const isValid = new Set(keys).size === keys.length && keys.every((k) => !model.has(k))
            expect(settled[i]!.status).toBe(isValid ? 'fulfilled' : 'rejected')
            if (isValid) for (const k of keys) model.add(k)
            else expect(isDatabaseError((settled[i] as PromiseRejectedResult).reason, '23505')).toBe(true)
          })
          expect(await committed(name)).toEqual([...model].sort((a, b) => a - b))
        },
      ),
      { numRuns: 25 },
    )
  })
})

describe('pool.batch', () => {
  it('runs a batch on a pooled connection, and destroys one a batch left in a transaction', async () => {
    const pool = createPool(url(), { transport: transport(), max: 1 })
    try {
      const [a, b] = await pool.batch([['select $1::int as n', [1]], ['select 2 as m']])
      expect([a!.rows, b!.rows]).toEqual([[{ n: 1 }], [{ m: 2 }]])
      const error = await pool.batch([['begin'], ['select 1']]).catch((e: unknown) => e)
      expect(isPgError(error)).toBe(true)
      expect((error as Error).message).toMatch(/left a transaction open/)
      expect((await pool.query('select 3 as n')).rows).toEqual([{ n: 3 }])
    } finally {
      await pool.end()
    }
  })
})
