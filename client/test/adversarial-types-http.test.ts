// Adversarial differential test of per-request types over HTTP: concurrent requests and batches with random
// types decode as a wire connection made with those types as its own does, and the client's own types after.
import { Oid, type TypeOptions } from '@edgepg/client'
import fc from 'fast-check'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type Opened, open } from './helpers.ts'
import { suiteRelay } from './http/relay.ts'

const relay = suiteRelay()

const OWN: TypeOptions = { parsers: { [Oid.int8]: (text: string) => `own8:${text}` } }
const KINDS: (TypeOptions | undefined)[] = [
  undefined,
  { raw: true },
  { dates: 'string' },
  { parsers: { [Oid.int4]: (text: string) => `int4:${text}`, [Oid.numeric]: Number } },
  { dates: 'string', parsers: { [Oid.timestamptz]: (text: string) => `tz:${text}` } },
  {},
]
const SQLS = [
  'select $1::int4 as i, ($1::int8 * 1000000000000) as big, ($1::numeric / 3)::numeric(12,4) as n, ($1::int4 % 2 = 0) as b',
  "select date '2024-01-02' + $1::int4 as d, timestamptz '2024-01-02 03:04:05+02' + make_interval(days => $1::int4) as tz, " +
    'make_interval(hours => $1::int4, mins => 3) as iv',
  "select array[$1::int4, 2, null] as ia, array[$1::numeric, 1.5] as na, decode(lpad(to_hex($1::int4), 8, '0'), 'hex') as y, " +
    "jsonb_build_object('k', $1::int4) as j",
]

let oracles: Opened[]
beforeAll(async () => {
  oracles = await Promise.all(KINDS.map((types) => open({ types: types ?? OWN, statementCacheSize: 0 })))
})
afterAll(async () => {
  await Promise.all(oracles.map((o) => o.client.end()))
})

const request = fc.record({
  sql: fc.nat(SQLS.length - 1),
  types: fc.nat(KINDS.length - 1),
  value: fc.integer({ min: 0, max: 30 }),
})

it('decodes concurrent requests and batches each with its own types, as a connection made with them does', async () => {
  const db = relay.db({ types: OWN })
  await fc.assert(
    fc.asyncProperty(
      fc.array(request, { minLength: 1, maxLength: 8 }),
      fc.nat(KINDS.length - 1),
      async (requests, batchKind) => {
        const got = await Promise.all(
          requests.map((r) => {
            const types = KINDS[r.types]
            return db.query(SQLS[r.sql]!, [r.value], types === undefined ? {} : { types })
          }),
        )
        for (const [i, r] of requests.entries())
          expect(got[i]!.rows).toEqual((await oracles[r.types]!.client.query(SQLS[r.sql]!, [r.value])).rows)
        const types = KINDS[batchKind]
        const batch = await db.transaction(
          requests.map((r) => [SQLS[r.sql]!, [r.value]] as [string, unknown[]]),
          types === undefined ? {} : { types },
        )
        for (const [i, r] of requests.entries())
          expect(batch[i]!.rows).toEqual(
            (await oracles[batchKind]!.client.query(SQLS[r.sql]!, [r.value])).rows,
          )
      },
    ),
    { numRuns: 15, seed: 5 },
  )
  expect((await db.query('select 5::int8 as l, 1::int4 as i')).rows).toEqual([{ l: 'own8:5', i: 1 }])
}, 60_000)
