/**
 * Adversarial: edgepg's per-connection statement cache under Drizzle — statements deallocated or discarded
 * by the user, tables altered under a cached statement — gives what Drizzle on node-postgres gives.
 */
import { sql } from 'drizzle-orm'
import { drizzle as nodePgDrizzle } from 'drizzle-orm/node-postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { drizzle } from '../src/index.ts'
import { admin, pgPool, pool, server, TRANSPORTS } from './helpers.ts'

describe.each(TRANSPORTS)('statement cache under drizzle over %s vs node-postgres', (kind) => {
  const S = `drizzle_adv_stmt_${kind}`
  // One connection, so every statement runs where the cached one was prepared.
  const edge = pool(kind, { max: 1 })
  const ref = pgPool()
  const ours = drizzle(edge)
  const theirs = nodePgDrizzle(ref) as unknown as typeof ours
  beforeAll(async () => {
    const owner = server.roles.scram.user
    await admin(`drop schema if exists ${S} cascade`)
    await admin(`create schema ${S} authorization "${owner}"`)
    await admin(`create table ${S}.items (id int, label text); alter table ${S}.items owner to "${owner}";
      insert into ${S}.items values (1, 'one')`)
  })
  afterAll(async () => {
    await edge.end()
    await ref.end()
  })

  for (const reset of ['deallocate all', 'discard all', 'discard plans']) {
    it(`runs a repeated query after ${reset} on the pool`, async () => {
      const run = async (db: typeof ours) => {
        await db.execute(sql`select ${1}::int as one, ${reset} as r`)
        await db.execute(sql.raw(reset))
        return (await db.execute(sql`select ${1}::int as one, ${reset} as r`)).rows
      }
      const mine = await run(ours)
      expect(mine).toEqual(await run(theirs))
      expect(mine).toEqual([{ one: 1, r: reset }])
    })
  }

  it('runs a repeated query in a transaction after deallocate all', async () => {
    const run = (db: typeof ours) =>
      db.transaction(async (tx) => {
        await tx.execute(sql`select ${2}::int as two`)
        await tx.execute(sql`deallocate all`)
        return (await tx.execute(sql`select ${2}::int as two`)).rows
      })
    expect(await run(ours)).toEqual(await run(theirs))
  })

  it('answers select * with the new column after the table gains one', async () => {
    const q = sql.raw(`select * from ${S}.items`)
    await ours.execute(q)
    await admin(`alter table ${S}.items add column extra int`)
    const names = (await ours.execute(q)).fields.map((f) => f.name)
    expect(names).toEqual(['id', 'label', 'extra'])
    expect((await ours.execute(q)).rows).toEqual((await theirs.execute(q)).rows)
  })

  it('answers with the new type after a selected column changes type', async () => {
    const q = sql.raw(`select label from ${S}.items`)
    await ours.execute(q)
    await admin(`alter table ${S}.items alter column label type varchar(50)`)
    const result = await ours.execute(q)
    expect(result.fields[0]!.typeOid).toBe(1043)
    expect(result.rows).toEqual([{ label: 'one' }])
  })

  it('keeps the last of duplicate column names in db.execute rows, as node-postgres does', async () => {
    const q = sql`select 1 as a, 2 as a, 3 as "A"`
    expect({ ...(await ours.execute(q)).rows[0] }).toEqual((await theirs.execute(q)).rows[0])
  })
})
