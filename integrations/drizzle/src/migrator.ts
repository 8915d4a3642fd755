/**
 * `@edgepg/drizzle/migrator`: applies the migrations drizzle-kit generated (`drizzle-kit generate`) to a
 * database from `@edgepg/drizzle` or `@edgepg/drizzle/http`. Reads the folder with `node:fs` (as Drizzle's own
 * migrators do): run it from Node, a deploy script or CI, not from a Worker.
 *
 * @packageDocumentation
 */
import type { MigrationConfig } from 'drizzle-orm/migrator'
import { readMigrationFiles } from 'drizzle-orm/migrator'
import type { PgDialect, PgSession } from 'drizzle-orm/pg-core'
import { sql } from 'drizzle-orm/sql/sql'
import type { EdgePgDatabase } from './driver.ts'
import { EdgePgHttpDatabase, type EdgePgHttpSession } from './http.ts'

export type { MigrationConfig }

/** Why a migration of several commands in one chunk fails over HTTP, and what to do. */
export const HTTP_SEVERAL_COMMANDS_MESSAGE =
  'a migration chunk holds several sql commands: over http each chunk is one query, which postgresql runs ' +
  'as one statement; separate the commands with --> statement-breakpoint (drizzle-kit writes them), ' +
  'or migrate over a pool'

/**
 * Applies every migration of `config.migrationsFolder` newer than the last one recorded in
 * `drizzle.__drizzle_migrations` (or `migrationsSchema`.`migrationsTable`), all in one transaction. Over a
 * pool this is Drizzle's own migration routine on one leased connection; over HTTP the pending migrations
 * and their records are one `http.transaction` batch.
 */
export async function migrate<TSchema extends Record<string, unknown>>(
  db: EdgePgDatabase<TSchema> | EdgePgHttpDatabase<TSchema>,
  config: MigrationConfig,
): Promise<void> {
  if (config === null || typeof config !== 'object' || typeof config.migrationsFolder !== 'string')
    throw new TypeError(
      `migrate expects { migrationsFolder: string, … }, found ${config === null ? 'null' : typeof config}` +
        (config && typeof config === 'object' ? ` without a migrationsFolder string` : ''),
    )
  const migrations = readMigrationFiles(config)
  const { dialect, session } = db as unknown as { dialect: PgDialect; session: PgSession }
  if (!(db instanceof EdgePgHttpDatabase)) {
    await dialect.migrate(migrations, session, config)
    return
  }
  const table = sql`${sql.identifier(config.migrationsSchema ?? 'drizzle')}.${sql.identifier(config.migrationsTable ?? '__drizzle_migrations')}`
  await session.execute(
    sql`create schema if not exists ${sql.identifier(config.migrationsSchema ?? 'drizzle')}`,
  )
  await session.execute(
    sql`create table if not exists ${table} (id serial primary key, hash text not null, created_at bigint)`,
  )
  const [last] = await session.all<{ created_at: string | null }>(
    sql`select created_at from ${table} order by created_at desc limit 1`,
  )
  const pending = migrations.filter((m) => !last || Number(last.created_at) < m.folderMillis)
  if (pending.length === 0) return
  const statements = pending.flatMap((m) => [
    ...m.sql.filter((s) => s.trim() !== '').map((s) => dialect.sqlToQuery(sql.raw(s))),
    dialect.sqlToQuery(
      sql`insert into ${table} ("hash", "created_at") values (${m.hash}, ${m.folderMillis})`,
    ),
  ])
  const http = (session as unknown as EdgePgHttpSession<TSchema, never>).http
  try {
    await http.transaction(statements.map((q) => [q.sql, q.params] as const))
  } catch (error) {
    const { code, message } = error as { code?: unknown; message?: unknown }
    if (code === '42601' && typeof message === 'string' && message.includes('multiple commands'))
      throw new Error(HTTP_SEVERAL_COMMANDS_MESSAGE, { cause: error })
    throw error
  }
}
