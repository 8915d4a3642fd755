/** Adversarial: values through Drizzle on edgepg vs Drizzle on node-postgres (the oracle), over TCP and the relay. */

import { asc, inArray, sql } from 'drizzle-orm'
import { drizzle as nodePgDrizzle } from 'drizzle-orm/node-postgres'
import { bigint, customType, json, jsonb, numeric, pgSchema, serial, text } from 'drizzle-orm/pg-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { drizzle } from '../src/index.ts'
import { admin, pgPool, pool, server, TRANSPORTS } from './helpers.ts'

const S = 'drizzle_adv_values'
const s = pgSchema(S)
const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({ dataType: () => 'bytea' })
const things = s.table('things', {
  id: serial('id').primaryKey(),
  j: json('j'),
  jb: jsonb('jb'),
  big: bigint('big', { mode: 'bigint' }),
  bign: bigint('bign', { mode: 'number' }),
  num: numeric('num'),
  raw: bytea('raw'),
  label: text('label'),
})

beforeAll(async () => {
  const owner = server.roles.scram.user
  await admin(`drop schema if exists ${S} cascade`)
  await admin(`create schema ${S} authorization "${owner}"`)
  await admin(`create table ${S}.things (id serial primary key, j json, jb jsonb, big int8, bign int8, num numeric, raw bytea, label text);
    alter table ${S}.things owner to "${owner}"`)
})

describe.each(TRANSPORTS)('values over %s vs node-postgres', (kind) => {
  const edge = pool(kind)
  const ref = pgPool()
  const dbs = { edge: drizzle(edge, { schema: { things } }), pg: nodePgDrizzle(ref, { schema: { things } }) }
  afterAll(async () => {
    await edge.end()
    await ref.end()
  })

  async function both<T>(f: (db: typeof dbs.edge) => Promise<T>): Promise<{ edge: T; pg: T }> {
    const e = await f(dbs.edge)
    const p = await f(dbs.pg as unknown as typeof dbs.edge)
    return { edge: e, pg: p }
  }

  it('sends sql params (arrays, Dates, bigint, booleans, null, objects) as node-postgres does', async () => {
    const d = new Date('2024-02-03T04:05:06.789Z')
    const r = await both(async (db) => {
      const res = await db.execute(
        sql`select ${sql.param([1, 2, 3])}::int[] as arr, ${d}::timestamptz::text as ts, ${123456789012345678n}::int8::text as big,
          ${true}::bool as b, ${null}::text as n, ${'{"a":1}'}::jsonb as jb, ${sql.param([
            [1, 2],
            [3, 4],
          ])}::int[] as listed_first, ${5}::int / ${2} as div, ${1.5}::text as f, ${'5'}::int + 1 as s2i, ${12345678901234567890n}::numeric::text as bn2, ${{ a: '1', b: [1] }}::jsonb as obj, ${sql.param([{ a: 1 }])}::jsonb[] as objarr, ${sql.param(['a,b', 'c"d', null, '', 'NULL', ' x '])}::text[] as tarr, ${sql.param([new Date(0)])}::timestamptz[]::text as darr`,
      )
      return res.rows
    })
    expect(r.edge).toEqual(r.pg)
  })

  it('answers an in-list of 2000 values and an empty inArray as node-postgres does', async () => {
    const r = await both(async (db) => {
      const many = Array.from({ length: 2000 }, (_, i) => i)
      const a = await db.select({ id: things.id }).from(things).where(inArray(things.id, many))
      const b = await db.select({ id: things.id }).from(things).where(inArray(things.id, []))
      return [a, b]
    })
    expect(r.edge).toEqual(r.pg)
  })

  it('reads json strings that look like numbers, big numbers, bigint modes, numeric and bytea as node-postgres does', async () => {
    const values = [
      {
        j: '123',
        jb: '123',
        big: 9223372036854775807n,
        bign: 9007199254740991,
        num: '1.10',
        raw: new Uint8Array([0, 1, 255]),
        label: '0',
      },
      {
        j: { a: '1' },
        jb: [1, '2', null, { x: '3.0' }],
        big: -9223372036854775808n,
        bign: -1,
        num: 'NaN',
        raw: new Uint8Array([]),
        label: '',
      },
      {
        j: 2 ** 70,
        jb: 1.5e300,
        big: 0n,
        bign: 0,
        num: '-0.000001',
        raw: null,
        label: 'ü\u2028',
      },
      { j: 'true', jb: 'null', big: null, bign: null, num: '1e5', raw: null, label: null },
    ]
    const r = await both(async (db) => {
      await db.delete(things)
      const inserted = await db.insert(things).values(values).returning()
      const sel = await db.select().from(things).orderBy(asc(things.id))
      const rel = await db.query.things.findMany({ orderBy: (t, { asc }) => [asc(t.id)] })
      const strip = (rows: typeof sel) =>
        rows.map(({ id: _, ...rest }) => ({ ...rest, raw: rest.raw ? Array.from(rest.raw) : rest.raw }))
      return { inserted: strip(inserted), sel: strip(sel), rel: strip(rel) }
    })
    expect(r.edge).toEqual(r.pg)
  })
})
