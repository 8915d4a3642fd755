/** `drizzle(pool)`: a Drizzle `PgDatabase` over an edgepg pool or client. */
import type { Cache } from 'drizzle-orm/cache/core'
import { entityKind } from 'drizzle-orm/entity'
import { DefaultLogger, type Logger } from 'drizzle-orm/logger'
import { PgDatabase, PgDialect } from 'drizzle-orm/pg-core'
import {
  createTableRelationsHelpers,
  extractTablesRelationalConfig,
  type RelationalSchemaConfig,
  type TablesRelationalConfig,
} from 'drizzle-orm/relations'
import type { DrizzleConfig } from 'drizzle-orm/utils'
import { type EdgePgClient, type EdgePgQueryResultHKT, EdgePgSession } from './session.ts'

/** The Drizzle database `drizzle()` returns; `$client` is the pool or client it runs on. */
export class EdgePgDatabase<
  TSchema extends Record<string, unknown> = Record<string, never>,
> extends PgDatabase<EdgePgQueryResultHKT, TSchema> {
  static override readonly [entityKind]: string = 'EdgePgDatabase'
}

/** The logger Drizzle's config asks for: `true` for Drizzle's default (console) logger. */
export function resolveLogger(logger: boolean | Logger | undefined): Logger | undefined {
  if (logger === true) return new DefaultLogger()
  return logger === false ? undefined : logger
}

/** The relational schema of `config.schema`, as `db.query` needs it. */
export function relationalSchema<TSchema extends Record<string, unknown>>(
  schema: TSchema | undefined,
): RelationalSchemaConfig<TablesRelationalConfig> | undefined {
  if (!schema) return undefined
  const tables = extractTablesRelationalConfig(schema, createTableRelationsHelpers)
  return { fullSchema: schema, schema: tables.tables, tableNamesMap: tables.tableNamesMap }
}

/**
 * A Drizzle database over an edgepg `Pool` (each query on a pooled connection, each transaction on one leased
 * connection), a `PoolClient` leased from one, or a connected `Client`, made with any `types`: Drizzle's
 * queries are decoded with `drizzleTypes`, so its date, timestamp and interval modes read PostgreSQL's text.
 *
 * @example
 * ```ts
 * const pool = createPool(url, { transport: nodeSocket() })
 * const db = drizzle(pool, { schema, casing: 'snake_case', logger: true })
 * const rows = await db.query.users.findMany({ with: { posts: true } })
 * ```
 */
export function drizzle<
  TSchema extends Record<string, unknown> = Record<string, never>,
  TClient extends EdgePgClient = EdgePgClient,
>(client: TClient, config: DrizzleConfig<TSchema> = {}): EdgePgDatabase<TSchema> & { $client: TClient } {
  const candidate = client as Partial<EdgePgClient> | null | undefined
  if (!candidate || typeof candidate.query !== 'function') {
    throw new TypeError(
      `drizzle expects an edgepg Pool, PoolClient or Client (from @edgepg/client); found ${candidate === null ? 'null' : typeof candidate}`,
    )
  }
  const dialect = new PgDialect({ casing: config.casing })
  const schema = relationalSchema(config.schema)
  const session = new EdgePgSession(client, dialect, schema, {
    logger: resolveLogger(config.logger),
    cache: config.cache as Cache | undefined,
  })
  const db = new EdgePgDatabase<TSchema>(
    dialect,
    session as EdgePgSession<TSchema, never>,
    schema as RelationalSchemaConfig<never> | undefined,
  ) as EdgePgDatabase<TSchema> & { $client: TClient }
  db.$client = client
  if (config.cache) {
    // As Drizzle's drivers do: `db.$cache.invalidate(...)` is the cache's own onMutate.
    const cache = config.cache as Cache & { invalidate?: Cache['onMutate'] }
    cache.invalidate = cache.onMutate
    ;(db as unknown as { $cache: Cache }).$cache = cache
  }
  return db
}
