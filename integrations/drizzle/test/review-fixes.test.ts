/**
 * What an adversarial review found (each failed before its fix), against Drizzle on node-postgres where it
 * runs the same: a parameterless text of several statements (a custom migration, `sql.raw`), nested
 * transactions started side by side, a bytea custom type's Buffer, and an unclear migrate() error.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { http } from '@edgepg/client/http'
import { type RunningRelay, silentLogger, startRelay } from '@edgepg/proxy'
import { sql } from 'drizzle-orm'
import { DrizzleError } from 'drizzle-orm/errors'
import { drizzle as nodePgDrizzle } from 'drizzle-orm/node-postgres'
import { migrate as nodePgMigrate } from 'drizzle-orm/node-postgres/migrator'
import { customType, pgSchema, serial } from 'drizzle-orm/pg-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { drizzle as httpDrizzle } from '../src/http.ts'
import { drizzle, NESTED_SIDE_BY_SIDE_MESSAGE } from '../src/index.ts'
import { HTTP_SEVERAL_COMMANDS_MESSAGE, migrate } from '../src/migrator.ts'
import { admin, createSchema, pgPool, pool, server, TRANSPORTS, url } from './helpers.ts'
import { tables } from './schema.ts'

let relay: RunningRelay
let folder: string
beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), 'edgepg-drizzle-fixes-'))
  await admin(`grant create on database "${server.database}" to "${server.roles.scram.user}"`)
  relay = await startRelay(
    { port: 0, allow: [`${server.host}:${server.port}`], allowMissingOrigin: 'always', shutdownGrace: 1000 },
    { logger: silentLogger },
  )
})
afterAll(async () => {
  rmSync(folder, { recursive: true, force: true })
  await relay?.shutdown()
})

/** A custom migration as Drizzle's docs show one (`drizzle-kit generate --custom`): several statements, no breakpoint. */
function customMigration(dir: string, table: string): string {
  mkdirSync(join(dir, 'meta'), { recursive: true })
  const entry = { idx: 0, version: '7', when: 1700000000000, tag: '0000_seed', breakpoints: true }
  writeFileSync(
    join(dir, 'meta/_journal.json'),
    JSON.stringify({ version: '7', dialect: 'postgresql', entries: [entry] }),
  )
  writeFileSync(
    join(dir, '0000_seed.sql'),
    `create table ${table} (id int);\ninsert into ${table} values (1);\ninsert into ${table} values (2);\n`,
  )
  return dir
}

describe('a parameterless text of several statements', () => {
  it.each(TRANSPORTS)(
    'is applied by migrate over %s as a custom migration, as on node-postgres',
    async (kind) => {
      const oracle = pgPool()
      await nodePgMigrate(nodePgDrizzle(oracle), {
        migrationsFolder: customMigration(join(folder, `pg-${kind}`), `public.fix_seed_pg_${kind}`),
        migrationsSchema: `fix_seed_pg_${kind}`,
      })
      await oracle.end()
      const edgepg = pool(kind)
      try {
        await migrate(drizzle(edgepg), {
          migrationsFolder: customMigration(join(folder, kind), `public.fix_seed_${kind}`),
          migrationsSchema: `fix_seed_${kind}`,
        })
      } finally {
        await edgepg.end()
      }
      for (const table of [`fix_seed_pg_${kind}`, `fix_seed_${kind}`])
        expect(await admin(`select count(*)::int as n from public.${table}`)).toEqual([{ n: 2 }])
    },
  )

  it('over HTTP is refused with what to do instead, and nothing is applied', async () => {
    const db = httpDrizzle(http(url(), { url: `${relay.url}/sql` }))
    const error = await migrate(db, {
      migrationsFolder: customMigration(join(folder, 'http'), 'public.fix_seed_http'),
      migrationsSchema: 'fix_seed_http',
    }).catch((e: unknown) => e)
    expect((error as Error).message).toBe(HTTP_SEVERAL_COMMANDS_MESSAGE)
    expect(await admin(`select to_regclass('public.fix_seed_http') as t`)).toEqual([{ t: null }])
  })

  it.each(TRANSPORTS)(
    'runs in db.execute over %s, resolving with the last statement as its result',
    async (kind) => {
      const edgepg = pool(kind)
      try {
        const db = drizzle(edgepg)
        const result = await db.execute(
          sql.raw(`select 1 as a; select '2024-02-29 01:02:03+00'::timestamptz as at`),
        )
        expect(result.rows.map((row) => ({ ...row }))).toEqual([{ at: '2024-02-29 01:02:03+00' }])
        // Inside a transaction too, on its connection.
        await db.transaction(async (tx) => {
          await tx.execute(sql.raw(`create temp table fix_t (x int); insert into fix_t values (1)`))
          expect((await tx.execute(sql`select count(*)::int as n from fix_t`)).rows).toEqual([{ n: 1 }])
        })
      } finally {
        await edgepg.end()
      }
    },
  )
})

describe.each(TRANSPORTS)('nested transactions over %s', (kind) => {
  const schema = `drizzle_fix_siblings_${kind}`
  const t = tables(schema)
  beforeAll(() => createSchema(schema))

  it('started side by side: the second is refused, so a rollback of one never silently undoes the other', async () => {
    const db = drizzle(pool(kind), { schema: t })
    try {
      const outcomes = await db.transaction(async (tx) =>
        Promise.allSettled([
          tx.transaction(async (a) => {
            await a.insert(t.ledger).values({ tag: 'a' })
            await a.execute(sql`select pg_sleep(0.02)`)
            throw new Error('a fails')
          }),
          tx.transaction(async (b) => {
            await b.insert(t.ledger).values({ tag: 'b' })
          }),
        ]),
      )
      expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected'])
      const second = (outcomes[1] as PromiseRejectedResult).reason
      expect(second).toBeInstanceOf(DrizzleError)
      expect((second as Error).message).toBe(NESTED_SIDE_BY_SIDE_MESSAGE)
      // One after the other, both run (and the outer transaction keeps what they kept).
      await db.transaction(async (tx) => {
        await tx.transaction(async (a) => {
          await a.insert(t.ledger).values({ tag: 'first' })
        })
        await tx.transaction(async (b) => {
          await b.insert(t.ledger).values({ tag: 'second' })
        })
      })
      expect(
        (await admin<{ tag: string }>(`select tag from ${schema}.ledger order by id`)).map((r) => r.tag),
      ).toEqual(['first', 'second'])
    } finally {
      await db.$client.end()
    }
  })
})

describe('a bytea custom type', () => {
  const schema = 'drizzle_fix_bytea'
  const bytea = customType<{ data: Buffer }>({ dataType: () => 'bytea' })
  const blobs = pgSchema(schema).table('blobs', { id: serial('id').primaryKey(), data: bytea('data') })
  beforeAll(async () => {
    const owner = server.roles.scram.user
    await admin(`drop schema if exists ${schema} cascade`)
    await admin(`create schema ${schema} authorization "${owner}"`)
    await admin(`create table ${schema}.blobs (id serial primary key, data bytea);
      alter table ${schema}.blobs owner to "${owner}";
      insert into ${schema}.blobs (data) values ('\\x6869'), (null)`)
  })

  it.each(TRANSPORTS)('reads a Buffer over %s, as on node-postgres', async (kind) => {
    const edgepg = pool(kind)
    const oracle = pgPool()
    try {
      const ours = await drizzle(edgepg).select().from(blobs).orderBy(blobs.id)
      const theirs = await nodePgDrizzle(oracle).select().from(blobs).orderBy(blobs.id)
      expect(ours[0]!.data).toBeInstanceOf(Buffer)
      expect(ours[0]!.data!.toString('hex')).toBe('6869')
      expect(ours.map((row) => ({ ...row }))).toEqual(theirs)
    } finally {
      await edgepg.end()
      await oracle.end()
    }
  })
})

it('migrate() without a config says what it expected', async () => {
  const db = httpDrizzle(http(url(), { url: 'http://127.0.0.1:1/sql' }))
  await expect(migrate(db, undefined as never)).rejects.toThrow(
    'migrate expects { migrationsFolder: string, … }, found undefined',
  )
})
