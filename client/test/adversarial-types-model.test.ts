// Adversarial model test of per-query types: random batches of queries (SQL from a fixed set, types from a fixed
// set, sent at once so they pipeline on one connection, directly or through pool.query), with DEALLOCATE ALL and
// DISCARD ALL mixed in, compared with the oracle: a connection made with the query's types as its own.
import { type Client, createPool, Oid, type TypeOptions } from '@edgepg/client'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Opened, open, transport, url } from './helpers.ts'

/** The connection's own types under test: differ from every per-query kind, so a mix-up shows. */
const OWN: TypeOptions = { parsers: { [Oid.int8]: (text: string) => `own8:${text}` } }
const RAW: TypeOptions = { raw: true }
const DATES: TypeOptions = { dates: 'string' }
const PARSERS: TypeOptions = {
  parsers: { [Oid.int4]: (text: string) => `int4:${text}`, [Oid.numeric]: Number },
}
const MIXED: TypeOptions = {
  dates: 'string',
  parsers: { [Oid.timestamptz]: (text: string) => `tz:${text}`, [Oid.bytea]: (text: string) => text.length },
}
const EMPTY: TypeOptions = {}
/** undefined: the connection's own (oracle: a connection made with OWN). */
const KINDS: (TypeOptions | undefined)[] = [undefined, RAW, DATES, PARSERS, MIXED, EMPTY]

const SQLS = [
  'select $1::int4 as i, ($1::int8 * 1000000000000) as big, ($1::numeric / 3)::numeric(12,4) as n, ' +
    '($1::float4 / 3) as f4, ($1::float8 / 7) as f8, ($1::int4 % 2 = 0) as b',
  "select date '2024-01-02' + $1::int4 as d, timestamp '2024-01-02 03:04:05.678' + make_interval(secs => $1::int4) as ts, " +
    "timestamptz '2024-01-02 03:04:05+02' + make_interval(days => $1::int4) as tz, make_interval(hours => $1::int4, mins => 3) as iv",
  "select array[$1::int4, 2, null] as ia, array[$1::numeric, 1.5] as na, array[timestamptz '2024-01-01 00:00:00Z' + make_interval(days => $1::int4)] as ta, " +
    "array['a', $1::text, null] as sa, decode(lpad(to_hex($1::int4), 8, '0'), 'hex') as y, jsonb_build_object('k', $1::int4) as j, " +
    'md5($1::text)::uuid as u, $1::text::json as js',
  'select g as i, g::int8 as l, g::text as t from generate_series(1, $1::int4 % 5) g',
  'select null::int4 as z, $1::text as s, 1.5::numeric as n where $1::int4 >= 0',
]

type Op =
  | { kind: 'query'; sql: number; types: number; value: number; via: 'client' | 'pool' }
  | { kind: 'reset'; text: string }

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record({
      kind: fc.constant('query' as const),
      sql: fc.nat(SQLS.length - 1),
      types: fc.nat(KINDS.length - 1),
      value: fc.integer({ min: 0, max: 40 }),
      via: fc.constantFrom('client' as const, 'pool' as const),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('reset' as const),
      text: fc.constantFrom('deallocate all', 'discard all'),
    }),
  },
)

let oracles: Opened[]
beforeAll(async () => {
  oracles = await Promise.all(KINDS.map((types) => open({ types: types ?? OWN })))
})
afterAll(async () => {
  await Promise.all(oracles.map((o) => o.client.end()))
})

async function expectedOf(sql: number, types: number, value: number) {
  return (await oracles[types]!.client.query(SQLS[sql]!, [value])).rows
}

for (const statementCacheSize of [100, 2, 1, 0]) {
  describe(`statementCacheSize ${statementCacheSize}`, () => {
    it('every pipelined query decodes as a connection made with its types would, whatever ran before it', async () => {
      const under = await open({ types: OWN, statementCacheSize })
      const pool = createPool(url(), { transport: transport(), max: 1, types: OWN, statementCacheSize })
      try {
        await fc.assert(
          fc.asyncProperty(
            fc.array(fc.array(op, { minLength: 1, maxLength: 20 }), { minLength: 1, maxLength: 6 }),
            async (batches) => {
              for (const batch of batches) {
                const runs = batch.map((o) => {
                  if (o.kind === 'reset')
                    return (o.text === 'deallocate all' ? under.client : pool)
                      .query(o.text)
                      .then(() => undefined)
                  const runner: Pick<Client, 'query'> = o.via === 'client' ? under.client : pool
                  const types = KINDS[o.types]
                  return runner
                    .query(SQLS[o.sql]!, [o.value], types === undefined ? {} : { types })
                    .then((r) => r.rows)
                })
                const got = await Promise.all(runs)
                for (const [i, o] of batch.entries()) {
                  if (o.kind !== 'query') continue
                  expect(
                    got[i],
                    `${o.via} sql ${o.sql} types ${JSON.stringify(KINDS[o.types])} value ${o.value}`,
                  ).toEqual(await expectedOf(o.sql, o.types, o.value))
                }
              }
            },
          ),
          { numRuns: 25, seed: 12 + statementCacheSize },
        )
        // The connection's own types are untouched afterwards.
        expect(await under.client.queryOne('select 5::int8 as l, 1::int4 as i')).toEqual({
          l: 'own8:5',
          i: 1,
        })
        expect(await pool.queryOne('select 5::int8 as l, 1::int4 as i')).toEqual({ l: 'own8:5', i: 1 })
      } finally {
        await under.client.end()
        await pool.end()
      }
    }, 120_000)
  })
}

type AbortOp = {
  sql: number
  types: number
  value: number
  array: boolean
  abort: 'none' | 'before' | 'soon'
}

const abortOp: fc.Arbitrary<AbortOp> = fc.record({
  sql: fc.nat(SQLS.length - 1),
  types: fc.nat(KINDS.length - 1),
  value: fc.integer({ min: 0, max: 40 }),
  array: fc.boolean(),
  abort: fc.constantFrom('none' as const, 'none' as const, 'before' as const, 'soon' as const),
})

for (const statementCacheSize of [100, 1]) {
  it(`queries aborted before or while pipelined with others never change another query's values (cache ${statementCacheSize})`, async () => {
    const under = await open({ types: OWN, statementCacheSize })
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.array(abortOp, { minLength: 1, maxLength: 10 }), { minLength: 1, maxLength: 5 }),
          async (batches) => {
            for (const batch of batches) {
              const settled = await Promise.allSettled(
                batch.map((o) => {
                  const controller = new AbortController()
                  if (o.abort === 'before') controller.abort()
                  if (o.abort === 'soon') setTimeout(() => controller.abort(), 0)
                  const types = KINDS[o.types]
                  return under.client.query(SQLS[o.sql]!, [o.value], {
                    ...(types === undefined ? {} : { types }),
                    ...(o.array ? { rowMode: 'array' as const } : {}),
                    ...(o.abort === 'none' ? {} : { signal: controller.signal }),
                  })
                }),
              )
              for (const [i, o] of batch.entries()) {
                const outcome = settled[i]!
                const label = `sql ${o.sql} types ${JSON.stringify(KINDS[o.types])} value ${o.value} ${o.abort}`
                if (outcome.status === 'rejected') {
                  expect(o.abort, `${label}: ${String(outcome.reason)}`).not.toBe('none')
                  // Aborted while it runs, a query is cancelled on the server and fails with 57014 (client README);
                  // aborted before it is sent or while behind others, it rejects with kind 'aborted'.
                  const reason = outcome.reason as { kind?: string; code?: string }
                  const wasCancelled = o.abort === 'soon' && reason.kind === 'db' && reason.code === '57014'
                  if (!wasCancelled) expect(reason.kind, label).toBe('aborted')
                  continue
                }
                const expected = await oracles[o.types]!.client.query(
                  SQLS[o.sql]!,
                  [o.value],
                  o.array ? { rowMode: 'array' } : {},
                )
                expect(outcome.value.rows, label).toEqual(expected.rows)
              }
            }
          },
        ),
        { numRuns: 20, seed: 99 + statementCacheSize },
      )
      expect(await under.client.queryOne('select 5::int8 as l, 1::int4 as i')).toEqual({ l: 'own8:5', i: 1 })
    } finally {
      await under.client.end()
    }
  }, 120_000)
}
