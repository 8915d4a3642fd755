// Adversarial tests of per-query types on the statement cache's harder paths: a result type changed under a
// cached statement (ALTER TABLE, from another session and pipelined on the same one), a Parse that fails with
// queries of other types bound behind it, custom parsers that throw, transactions, and what per-call types
// objects leave behind.
import v8 from 'node:v8'
import vm from 'node:vm'
import { createPool, isPgError, Oid, type TypeOptions } from '@edgepg/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { admin, type Opened, open, transport, url } from './helpers.ts'

const RAW: TypeOptions = { raw: true }
const PARSERS: TypeOptions = {
  parsers: { [Oid.int4]: (t: string) => `int4:${t}`, [Oid.int8]: (t: string) => `int8:${t}` },
}

let db: Opened
beforeAll(async () => {
  db = await open({ statementCacheSize: 100 })
})
afterAll(async () => {
  await db.client.end()
})

describe('a cached statement whose result type changes', () => {
  it('decodes each types with the new column type after ALTER TABLE in another session', async () => {
    await admin(
      'drop table if exists adv_types_alter; create table adv_types_alter (a int4); insert into adv_types_alter values (7)',
    )
    await admin('grant all on adv_types_alter to public')
    const sql = 'select * from adv_types_alter'
    // Every kind has a view (binary int4 for the default, text for the others).
    for (let i = 0; i < 2; i++) {
      expect((await db.client.query(sql)).rows).toEqual([{ a: 7 }])
      expect((await db.client.query(sql, [], { types: RAW })).rows).toEqual([{ a: '7' }])
      expect((await db.client.query(sql, [], { types: PARSERS })).rows).toEqual([{ a: 'int4:7' }])
    }
    await admin('alter table adv_types_alter alter column a type int8')
    const [plain, raw, parsed, again] = await Promise.all([
      db.client.query(sql),
      db.client.query(sql, [], { types: RAW }),
      db.client.query(sql, [], { types: PARSERS }),
      db.client.query(sql),
    ])
    expect(plain.rows).toEqual([{ a: 7n }])
    expect(raw.rows).toEqual([{ a: '7' }])
    expect(parsed.rows).toEqual([{ a: 'int8:7' }])
    expect(again.rows).toEqual([{ a: 7n }])
    expect((await db.client.query(sql, [], { types: PARSERS })).rows).toEqual([{ a: 'int8:7' }])
  })

  it('decodes queries pipelined behind an ALTER TABLE on the same connection with the new type, for each types', async () => {
    await db.client.query('drop table if exists adv_types_alter2')
    await db.client.query('create table adv_types_alter2 (a int4)')
    await db.client.query('insert into adv_types_alter2 values (3)')
    const sql = 'select a, a as b from adv_types_alter2'
    for (const types of [undefined, RAW, PARSERS]) await db.client.query(sql, [], { types })
    for (const types of [undefined, RAW, PARSERS]) await db.client.query(sql, [], { types })
    const results = await Promise.all([
      db.client.query(sql, [], { types: PARSERS }),
      db.client.query('alter table adv_types_alter2 alter column a type text'),
      db.client.query(sql, [], { types: PARSERS }),
      db.client.query(sql),
      db.client.query(sql, [], { types: RAW }),
      db.client.query(sql, [], { types: PARSERS }),
    ])
    expect(results.map((r) => r.rows[0])).toEqual([
      { a: 'int4:3', b: 'int4:3' },
      undefined,
      { a: '3', b: '3' },
      { a: '3', b: '3' },
      { a: '3', b: '3' },
      { a: '3', b: '3' },
    ])
  })
})

it('gives every query bound behind a Parse that fails the real error, whatever its types, and later ones their values', async () => {
  await db.client.query('drop table if exists adv_types_late')
  const sql = 'select $1::int4 as i from adv_types_late'
  const errors = await Promise.all(
    [undefined, RAW, PARSERS, undefined, RAW].map((types) =>
      db.client.query(sql, [1], { types }).then(
        () => 'resolved',
        (e: unknown) => (e as { code?: string }).code,
      ),
    ),
  )
  expect(errors).toEqual(['42P01', '42P01', '42P01', '42P01', '42P01'])
  await db.client.query('create table adv_types_late (x int)')
  await db.client.query('insert into adv_types_late values (1)')
  const rows = await Promise.all(
    [undefined, RAW, PARSERS, undefined].map((types) => db.client.queryOne(sql, [5], { types })),
  )
  expect(rows).toEqual([{ i: 5 }, { i: '5' }, { i: 'int4:5' }, { i: 5 }])
  await db.client.query('drop table adv_types_late')
})

it('rejects only the query whose own parser throws, with the parser’s reason, and leaves the others and the statement intact', async () => {
  const THROWS: TypeOptions = {
    parsers: {
      [Oid.int4]: (t: string) => {
        if (t === '3') throw new Error('three is not allowed')
        return Number(t) * 10
      },
    },
  }
  const sql = 'select $1::int4 as i'
  for (let round = 0; round < 3; round++) {
    const settled = await Promise.allSettled([
      db.client.query(sql, [3]),
      db.client.query(sql, [3], { types: THROWS }),
      db.client.query(sql, [4], { types: THROWS }),
      db.client.query(sql, [3], { types: RAW }),
    ])
    expect(settled[0]).toMatchObject({ status: 'fulfilled', value: { rows: [{ i: 3 }] } })
    expect(settled[1].status).toBe('rejected')
    const reason = (settled[1] as PromiseRejectedResult).reason
    expect(isPgError(reason)).toBe(true)
    expect((reason as Error).message).toMatch(/could not decode a column: Error: three is not allowed/)
    expect(settled[2]).toMatchObject({ status: 'fulfilled', value: { rows: [{ i: 40 }] } })
    expect(settled[3]).toMatchObject({ status: 'fulfilled', value: { rows: [{ i: '3' }] } })
  }
})

it('runs pipelined queries of different types inside a transaction each with its own decoders', async () => {
  const pool = createPool(url(), { transport: transport(), max: 1 })
  try {
    const sql = "select 5::int8 as l, $1::int4 as i, '2024-01-02 03:04:05+00'::timestamptz as t"
    for (let round = 0; round < 3; round++) {
      const rows = await pool.transaction((tx) =>
        Promise.all([
          tx.queryOne(sql, [1], { types: RAW }),
          tx.queryOne(sql, [2]),
          tx.queryOne(sql, [3], { types: PARSERS }),
          tx.queryOne(sql, [4], { types: { dates: 'string' } }),
        ]),
      )
      expect(rows).toEqual([
        { l: '5', i: '1', t: '2024-01-02 03:04:05+00' },
        { l: 5n, i: 2, t: new Date('2024-01-02T03:04:05Z') },
        { l: 'int8:5', i: 'int4:3', t: new Date('2024-01-02T03:04:05Z') },
        { l: 5n, i: 4, t: '2024-01-02 03:04:05+00' },
      ])
    }
    expect(await pool.queryOne(sql, [9])).toEqual({ l: 5n, i: 9, t: new Date('2024-01-02T03:04:05Z') })
  } finally {
    await pool.end()
  }
})

describe('a types object changed after its first use', () => {
  it('keeps the decoders it had for the types already decoded: raw, dates and a replaced parser are not followed', async () => {
    const types: TypeOptions & { parsers: Record<number, (t: string) => unknown> } = { parsers: {} }
    const sql = "select 5::int8 as l, '2024-01-02 03:04:05+00'::timestamptz as t"
    for (let i = 0; i < 2; i++)
      expect(await db.client.queryOne(sql, [], { types })).toEqual({
        l: 5n,
        t: new Date('2024-01-02T03:04:05Z'),
      })
    types.raw = true
    types.dates = 'string'
    types.parsers[Oid.int8] = (t: string) => `changed:${t}`
    for (let i = 0; i < 2; i++)
      expect(await db.client.queryOne(sql, [], { types })).toEqual({
        l: 5n,
        t: new Date('2024-01-02T03:04:05Z'),
      })
    // A copy is a new options object: it decodes as it says.
    expect(await db.client.queryOne(sql, [], { types: { ...types } })).toEqual({
      l: 'changed:5',
      t: '2024-01-02 03:04:05+00',
    })
  })
})

it('retains nothing of a new types object per call once the query settled', async () => {
  v8.setFlagsFromString('--expose-gc')
  const gc = vm.runInNewContext('gc') as () => void
  let collected = 0
  const finalizers = new FinalizationRegistry(() => {
    collected++
  })
  const sql = 'select $1::int4 as i, repeat($2::text, 100) as t'
  for (let i = 0; i < 100; i++) {
    const types: TypeOptions = { parsers: { [Oid.int4]: (t: string) => `x${t}` } }
    finalizers.register(types, i)
    expect((await db.client.queryOne(sql, [i, 'y'], { types })).i).toBe(`x${i}`)
  }
  for (let k = 0; k < 10 && collected < 95; k++) {
    gc()
    await new Promise((r) => setTimeout(r, 10))
  }
  // The last few may still be reachable from the connection's last request; none of the rest is.
  expect(collected).toBeGreaterThanOrEqual(95)
})
