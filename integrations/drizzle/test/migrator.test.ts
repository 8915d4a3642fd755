/**
 * The migrator, with migrations drizzle-kit generates here from two versions of a schema (drizzle-kit
 * `generate` needs no database): generated per run rather than committed, so a drizzle-kit upgrade that
 * changes its output or its journal is tested as it is, and no fixture goes stale.
 */
import { execFile } from 'node:child_process'
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { http } from '@edgepg/client/http'
import { type RunningRelay, silentLogger, startRelay } from '@edgepg/proxy'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { drizzle as httpDrizzle } from '../src/http.ts'
import { drizzle } from '../src/index.ts'
import { migrate } from '../src/migrator.ts'
import { accounts, notes } from './fixtures/migration-schema-v2.ts'
import { admin, pool, server, url } from './helpers.ts'

const run = promisify(execFile)
const root = resolve(import.meta.dirname, '../../..')
const kit = join(root, 'node_modules/drizzle-kit/bin.cjs')
let work: string
let v1: string
let v2: string
let relay: RunningRelay

/** `drizzle-kit generate` of `schema` into `work/out` (relative: drizzle-kit 0.31 mangles an absolute --out). */
async function generate(schema: string, out: string): Promise<void> {
  const schemaPath = join(import.meta.dirname, 'fixtures', schema)
  await run(
    process.execPath,
    [kit, 'generate', '--dialect', 'postgresql', '--schema', schemaPath, '--out', out],
    {
      cwd: work,
    },
  )
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'edgepg-drizzle-migrations-'))
  v1 = join(work, 'v1')
  v2 = join(work, 'v2')
  await generate('migration-schema-v1.ts', 'v1')
  cpSync(v1, v2, { recursive: true })
  await generate('migration-schema-v2.ts', 'v2')
  await admin(`grant create on database "${server.database}" to "${server.roles.scram.user}"`)
  relay = await startRelay(
    { port: 0, allow: [`${server.host}:${server.port}`], allowMissingOrigin: 'always', shutdownGrace: 1000 },
    { logger: silentLogger },
  )
}, 60_000)
afterAll(async () => {
  if (work) rmSync(work, { recursive: true, force: true })
  await relay?.shutdown()
})

it('drizzle-kit generated one migration for v1 and a second for v2', () => {
  const sqlFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.sql'))
  expect(sqlFiles(v1)).toHaveLength(1)
  expect(sqlFiles(v2)).toHaveLength(2)
})

describe.each(['tcp', 'websocket', 'http'] as const)('migrate over %s', (kind) => {
  const migrationsSchema = `drizzle_migrations_${kind}`

  it('applies the generated migrations in order, records them, and applies nothing twice', async () => {
    await admin('drop schema if exists drizzle_migrated cascade')
    await admin(`drop schema if exists ${migrationsSchema} cascade`)
    const edgepgPool = kind === 'http' ? undefined : pool(kind)
    const db = edgepgPool ? drizzle(edgepgPool) : httpDrizzle(http(url(), { url: `${relay.url}/sql` }))
    try {
      await migrate(db, { migrationsFolder: v1, migrationsSchema })
      const [account] = await db.insert(accounts).values({ name: 'ada' }).returning()
      expect(account).toMatchObject({
        id: 1,
        name: 'ada',
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\d /),
      })
      await migrate(db, { migrationsFolder: v2, migrationsSchema })
      await migrate(db, { migrationsFolder: v2, migrationsSchema })
      const [note] = await db.insert(notes).values({ accountId: 1, body: 'hi' }).returning()
      expect(note).toEqual({ id: 1, accountId: 1, body: 'hi', pinned: false })
      const recorded = await admin<{ n: number }>(
        `select count(*)::int as n from ${migrationsSchema}.__drizzle_migrations`,
      )
      expect(recorded).toEqual([{ n: 2 }])
    } finally {
      await edgepgPool?.end()
    }
  })

  it('rolls a failing migration back whole, leaving nothing half-applied', async () => {
    await admin('drop schema if exists drizzle_migrated cascade')
    await admin(`drop schema if exists ${migrationsSchema} cascade`)
    // The migration's first statement, CREATE SCHEMA, then fails (42P06): nothing of it may remain.
    await admin(`create schema drizzle_migrated authorization "${server.roles.scram.user}"`)
    const edgepgPool = kind === 'http' ? undefined : pool(kind)
    const db = edgepgPool ? drizzle(edgepgPool) : httpDrizzle(http(url(), { url: `${relay.url}/sql` }))
    try {
      const error = await migrate(db, { migrationsFolder: v2, migrationsSchema }).catch((e: unknown) => e)
      const code =
        (error as { code?: string; cause?: { code?: string } }).cause?.code ??
        (error as { code?: string }).code
      expect(code).toBe('42P06')
      expect(await admin(`select count(*)::int as n from ${migrationsSchema}.__drizzle_migrations`)).toEqual([
        { n: 0 },
      ])
      expect(
        await admin(`select count(*)::int as n from pg_tables where schemaname = 'drizzle_migrated'`),
      ).toEqual([{ n: 0 }])
    } finally {
      await edgepgPool?.end()
    }
  })
})
