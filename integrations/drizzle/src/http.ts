/**
 * `@edgepg/drizzle/http`: Drizzle over edgepg's HTTP client (`@edgepg/client/http`), for functions that cannot
 * keep a connection open. Each Drizzle query is one HTTP request; `db.batch([...])` is one request run as one
 * transaction (`http.transaction`). There is no session, so `db.transaction()` is refused with
 * {@link HTTP_TRANSACTION_MESSAGE}.
 *
 * @packageDocumentation
 */
import type { QueryResult, Row } from '@edgepg/client'
import type { HttpClient } from '@edgepg/client/http'
import type { BatchItem, BatchResponse } from 'drizzle-orm/batch'
import { type Cache, NoopCache } from 'drizzle-orm/cache/core'
import type { WithCacheConfig } from 'drizzle-orm/cache/core/types'
import { entityKind } from 'drizzle-orm/entity'
import { type Logger, NoopLogger } from 'drizzle-orm/logger'
import {
  PgDatabase,
  PgDialect,
  PgPreparedQuery,
  PgSession,
  PgTransaction,
  type PreparedQueryConfig,
  type SelectedFieldsOrdered,
} from 'drizzle-orm/pg-core'
import type { RelationalSchemaConfig, TablesRelationalConfig } from 'drizzle-orm/relations'
import { fillPlaceholders, type Query, type SQL } from 'drizzle-orm/sql/sql'
import type { DrizzleConfig } from 'drizzle-orm/utils'
import { relationalSchema, resolveLogger } from './driver.ts'
import { mapResultRow, preparedInternals } from './internals.ts'
import type { EdgePgQueryResultHKT } from './session.ts'
import { drizzleTypes } from './types.ts'

export { drizzleTypes } from './types.ts'

/** Why a transaction cannot run over HTTP, and what to use instead. */
export const HTTP_TRANSACTION_MESSAGE =
  'interactive transactions are not supported over http: each query is its own request with no session; ' +
  'use drizzle() from @edgepg/drizzle over an edgepg pool (TCP or the WebSocket relay) for db.transaction(), ' +
  'or db.batch([...]) for a one-shot batch run as one transaction'

type QueryMetadata = { type: 'select' | 'update' | 'delete' | 'insert'; tables: string[] } | undefined

/** One Drizzle query as one HTTP request. */
export class EdgePgHttpPreparedQuery<T extends PreparedQueryConfig> extends PgPreparedQuery<T> {
  static override readonly [entityKind]: string = 'EdgePgHttpPreparedQuery'

  readonly #http: HttpClient
  readonly #logger: Logger
  readonly #fields: SelectedFieldsOrdered | undefined
  readonly #isArrayMode: boolean
  readonly #customResultMapper: ((rows: unknown[][]) => T['execute']) | undefined

  constructor(
    http: HttpClient,
    query: Query,
    logger: Logger,
    cache: Cache,
    queryMetadata: QueryMetadata,
    cacheConfig: WithCacheConfig | undefined,
    fields: SelectedFieldsOrdered | undefined,
    isResponseInArrayMode: boolean,
    customResultMapper?: (rows: unknown[][]) => T['execute'],
  ) {
    super(query, cache, queryMetadata, cacheConfig)
    this.#http = http
    this.#logger = logger
    this.#fields = fields
    this.#isArrayMode = isResponseInArrayMode
    this.#customResultMapper = customResultMapper
  }

  /** Runs the query: edgepg's whole result without selected fields (`db.execute`), else Drizzle's rows. */
  override async execute(placeholderValues: Record<string, unknown> = {}): Promise<T['execute']> {
    const params = fillPlaceholders(this.query.params, placeholderValues)
    this.#logger.logQuery(this.query.sql, params)
    const isRaw = !this.#fields && !this.#customResultMapper
    const result = await preparedInternals(this).queryWithCache(this.query.sql, params, () =>
      this.#run(params, isRaw ? 'object' : 'array'),
    )
    return isRaw ? result : this.#mapRows(result.rows as unknown[][])
  }

  /** Runs the query and resolves with its rows as objects. */
  async all(placeholderValues: Record<string, unknown> = {}): Promise<T['all']> {
    const params = fillPlaceholders(this.query.params, placeholderValues)
    this.#logger.logQuery(this.query.sql, params)
    const result = await preparedInternals(this).queryWithCache(this.query.sql, params, () =>
      this.#run(params, 'object'),
    )
    return result.rows
  }

  /**
   * @internal Maps one result of a batch, which arrives with array rows: Drizzle's rows, or for a raw query
   * (`db.execute`) edgepg's result with object rows.
   */
  override mapResult(response: unknown, isFromBatch?: boolean): unknown {
    if (!isFromBatch) return response
    const result = response as QueryResult<unknown[]>
    if (this.#fields || this.#customResultMapper) return this.#mapRows(result.rows)
    return { ...result, rows: result.rows.map((row) => rowObject(result, row)) }
  }

  /** @internal */
  isResponseInArrayMode(): boolean {
    return this.#isArrayMode
  }

  #mapRows(rows: unknown[][]): T['execute'] {
    if (this.#customResultMapper) return this.#customResultMapper(rows)
    const joins = preparedInternals(this).joinsNotNullableMap
    return rows.map((row) => mapResultRow(this.#fields!, row, joins))
  }

  async #run(params: unknown[], rowMode: 'object' | 'array'): Promise<QueryResult<unknown>> {
    // Decoded as Drizzle's column mappers expect, whatever types the client was made with.
    return await this.#http.query<unknown>(this.query.sql, params, { rowMode, types: drizzleTypes })
  }
}

/** A row object as edgepg's object mode builds it (no prototype; a later duplicate name wins). */
function rowObject(result: QueryResult<unknown[]>, row: unknown[]): Row {
  const object: Row = Object.create(null)
  result.fields.forEach((field, i) => {
    object[field.name] = row[i]
  })
  return object
}

/** Drizzle's session over an edgepg `HttpClient`. */
export class EdgePgHttpSession<
  TFullSchema extends Record<string, unknown>,
  TSchema extends TablesRelationalConfig,
> extends PgSession<EdgePgQueryResultHKT, TFullSchema, TSchema> {
  static override readonly [entityKind]: string = 'EdgePgHttpSession'
  readonly #logger: Logger
  readonly #cache: Cache

  /** The HTTP client every query goes through. */
  readonly http: HttpClient

  constructor(
    http: HttpClient,
    dialect: PgDialect,
    _schema: RelationalSchemaConfig<TSchema> | undefined,
    options: { logger?: Logger; cache?: Cache } = {},
  ) {
    super(dialect)
    this.http = http
    this.#logger = options.logger ?? new NoopLogger()
    this.#cache = options.cache ?? new NoopCache()
  }

  /** @internal Called by Drizzle's query builders. */
  prepareQuery<T extends PreparedQueryConfig = PreparedQueryConfig>(
    query: Query,
    fields: SelectedFieldsOrdered | undefined,
    _name: string | undefined,
    isResponseInArrayMode: boolean,
    customResultMapper?: (rows: unknown[][]) => T['execute'],
    queryMetadata?: QueryMetadata,
    cacheConfig?: WithCacheConfig,
  ): PgPreparedQuery<T> {
    return new EdgePgHttpPreparedQuery(
      this.http,
      query,
      this.#logger,
      this.#cache,
      queryMetadata,
      cacheConfig,
      fields,
      isResponseInArrayMode,
      customResultMapper,
    )
  }

  /** Runs the queries in one request as one transaction; resolves with each query's Drizzle result. */
  async batch<U extends BatchItem<'pg'>, T extends Readonly<[U, ...U[]]>>(
    queries: T,
  ): Promise<BatchResponse<T>> {
    const prepared = queries.map((query) => {
      const item = (query as unknown as { _prepare(): PgPreparedQuery<PreparedQueryConfig> })._prepare()
      const built = item.getQuery()
      this.#logger.logQuery(built.sql, built.params)
      return { item, built }
    })
    const results = await this.http.transaction<unknown[]>(
      prepared.map(({ built }) => [built.sql, built.params] as const),
      { rowMode: 'array', types: drizzleTypes },
    )
    return results.map((result, i) => prepared[i]!.item.mapResult(result, true)) as BatchResponse<T>
  }

  /** Refused: see {@link HTTP_TRANSACTION_MESSAGE}. */
  override async transaction<T>(): Promise<T> {
    throw new Error(HTTP_TRANSACTION_MESSAGE)
  }

  /** @internal `select count(*)` helper of Drizzle's `$count`. */
  override async count(query: SQL): Promise<number> {
    const result = (await this.execute(query)) as QueryResult<Row>
    return Number(result.rows[0]!.count)
  }
}

/** A transaction over HTTP cannot exist; this class only satisfies Drizzle's types. */
export class EdgePgHttpTransaction<
  TFullSchema extends Record<string, unknown>,
  TSchema extends TablesRelationalConfig,
> extends PgTransaction<EdgePgQueryResultHKT, TFullSchema, TSchema> {
  static override readonly [entityKind]: string = 'EdgePgHttpTransaction'

  /** Refused: see {@link HTTP_TRANSACTION_MESSAGE}. */
  override async transaction<T>(): Promise<T> {
    throw new Error(HTTP_TRANSACTION_MESSAGE)
  }
}

/** The Drizzle database over HTTP: `db.batch([...])` runs its queries as one transaction in one request. */
export class EdgePgHttpDatabase<
  TSchema extends Record<string, unknown> = Record<string, never>,
> extends PgDatabase<EdgePgQueryResultHKT, TSchema> {
  static override readonly [entityKind]: string = 'EdgePgHttpDatabase'

  /**
   * Runs Drizzle queries (`db.insert(…)`, `db.select(…)`, `db.query.…`, `db.execute(sql…)`) in one HTTP
   * request as one transaction: all commit, or the first error rolls all back and rejects.
   */
  async batch<U extends BatchItem<'pg'>, T extends Readonly<[U, ...U[]]>>(
    batch: T,
  ): Promise<BatchResponse<T>> {
    return (this._.session as unknown as EdgePgHttpSession<TSchema, TablesRelationalConfig>).batch(batch)
  }
}

/**
 * A Drizzle database over edgepg's HTTP client (made with any `types`: Drizzle's requests use {@link drizzleTypes}).
 *
 * @example
 * ```ts
 * const db = drizzle(http(url, { url: 'https://relay.example.com/sql' }), { schema })
 * const [user] = await db.batch([db.insert(users).values({ name }).returning(), db.select().from(users)])
 * ```
 */
export function drizzle<TSchema extends Record<string, unknown> = Record<string, never>>(
  http: HttpClient,
  config: DrizzleConfig<TSchema> = {},
): EdgePgHttpDatabase<TSchema> & { $client: HttpClient } {
  const candidate = http as Partial<HttpClient> | null | undefined
  if (!candidate || typeof candidate.query !== 'function' || typeof candidate.transaction !== 'function') {
    throw new TypeError(
      `drizzle expects a client made by http() from @edgepg/client/http; found ${candidate === null ? 'null' : typeof candidate}`,
    )
  }
  const dialect = new PgDialect({ casing: config.casing })
  const schema = relationalSchema(config.schema)
  const session = new EdgePgHttpSession(http, dialect, schema, {
    logger: resolveLogger(config.logger),
    cache: config.cache as Cache | undefined,
  })
  const db = new EdgePgHttpDatabase<TSchema>(
    dialect,
    session as EdgePgHttpSession<TSchema, never>,
    schema as RelationalSchemaConfig<never> | undefined,
  ) as EdgePgHttpDatabase<TSchema> & { $client: HttpClient }
  db.$client = http
  return db
}
