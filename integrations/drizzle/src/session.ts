/**
 * Drizzle's pg-core session over edgepg: a {@link EdgePgSession} runs Drizzle's queries on a `Pool`, a
 * `PoolClient` or a `Client`; transactions lease one connection from a pool (or use the client given) and
 * nest as savepoints, as Drizzle's node-postgres driver does.
 */
import type { Client, Pool, PoolClient, QueryResult, Row, SimpleQueryOptions } from '@edgepg/client'
import { type Cache, NoopCache } from 'drizzle-orm/cache/core'
import type { WithCacheConfig } from 'drizzle-orm/cache/core/types'
import { entityKind } from 'drizzle-orm/entity'
import { DrizzleError } from 'drizzle-orm/errors'
import { type Logger, NoopLogger } from 'drizzle-orm/logger'
import {
  type PgDialect,
  PgPreparedQuery,
  type PgQueryResultHKT,
  PgSession,
  PgTransaction,
  type PgTransactionConfig,
  type PreparedQueryConfig,
  type SelectedFieldsOrdered,
} from 'drizzle-orm/pg-core'
import type { RelationalSchemaConfig, TablesRelationalConfig } from 'drizzle-orm/relations'
import { fillPlaceholders, type Query, type SQL, sql } from 'drizzle-orm/sql/sql'
import type { Assume } from 'drizzle-orm/utils'
import { mapResultRow, preparedInternals, transactionInternals } from './internals.ts'
import { drizzleTypes } from './types.ts'

/** What Drizzle can run on: an edgepg pool, a client leased from it, or a connected client. */
export type EdgePgClient = Pool | PoolClient | Client

/** Why a transaction whose `commit` the server answered with ROLLBACK rejects. */
export const TRANSACTION_ABORTED_MESSAGE =
  'transaction was rolled back, not committed: a statement in it failed (its error was caught), ' +
  'so postgresql answered commit with rollback'

/**
 * The transaction's body resolved, but a statement in it had failed (and its error was caught), so the server
 * rolled the transaction back at `commit`. Drizzle's node-postgres driver resolves as if it committed; edgepg's
 * rejects, so lost writes are never silent.
 */
export class TransactionAbortedError extends DrizzleError {
  static override readonly [entityKind]: string = 'EdgePgTransactionAbortedError'

  constructor() {
    super({ message: TRANSACTION_ABORTED_MESSAGE })
  }
}

/** Why a nested transaction started while another nested one of the same transaction runs is refused. */
export const NESTED_SIDE_BY_SIDE_MESSAGE =
  'a nested transaction of this transaction is still running: await it before starting another ' +
  '(savepoints nest, they cannot run side by side: rolling one back would undo the other)'

/** Metadata Drizzle passes for its query cache. */
type QueryMetadata = { type: 'select' | 'update' | 'delete' | 'insert'; tables: string[] } | undefined

/** A pool (it leases connections) rather than one client. */
export function isPool(client: EdgePgClient): client is Pool {
  return (
    typeof (client as Partial<Pool>).connect === 'function' &&
    typeof (client as Partial<PoolClient>).release !== 'function'
  )
}

/** One Drizzle query on edgepg: object rows for raw results, array rows for Drizzle's own mapping. */
export class EdgePgPreparedQuery<T extends PreparedQueryConfig> extends PgPreparedQuery<T> {
  static override readonly [entityKind]: string = 'EdgePgPreparedQuery'

  readonly #client: EdgePgClient
  readonly #logger: Logger
  readonly #fields: SelectedFieldsOrdered | undefined
  readonly #isArrayMode: boolean
  readonly #customResultMapper: ((rows: unknown[][]) => T['execute']) | undefined

  constructor(
    client: EdgePgClient,
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
    this.#client = client
    this.#logger = logger
    this.#fields = fields
    this.#isArrayMode = isResponseInArrayMode
    this.#customResultMapper = customResultMapper
  }

  /**
   * Runs the query. Without selected fields (`db.execute`, an insert without `returning`) it resolves with
   * edgepg's whole result (`rows` as objects, `fields`, `command`, `rowCount`); otherwise with Drizzle's rows.
   * The statement name of `.prepare(name)` is not sent: edgepg's statement cache prepares each SQL text once
   * per connection by itself.
   */
  override async execute(placeholderValues: Record<string, unknown> = {}): Promise<T['execute']> {
    const params = fillPlaceholders(this.query.params, placeholderValues)
    this.#logger.logQuery(this.query.sql, params)
    const internals = preparedInternals(this)
    const fields = this.#fields
    const customResultMapper = this.#customResultMapper
    if (!fields && !customResultMapper) {
      return internals.queryWithCache(this.query.sql, params, () => this.#run(params, 'object'))
    }
    const result = await internals.queryWithCache(this.query.sql, params, () => this.#run(params, 'array'))
    const rows = result.rows as unknown[][]
    if (customResultMapper) return customResultMapper(rows)
    return rows.map((row) => mapResultRow(fields!, row, internals.joinsNotNullableMap))
  }

  /** Runs the query and resolves with its rows as objects. */
  async all(placeholderValues: Record<string, unknown> = {}): Promise<T['all']> {
    const params = fillPlaceholders(this.query.params, placeholderValues)
    this.#logger.logQuery(this.query.sql, params)
    const internals = preparedInternals(this)
    const result = await internals.queryWithCache(this.query.sql, params, () => this.#run(params, 'object'))
    return result.rows
  }

  /** @internal */
  isResponseInArrayMode(): boolean {
    return this.#isArrayMode
  }

  async #run(params: unknown[], rowMode: 'object' | 'array'): Promise<QueryResult<unknown>> {
    // Decoded as Drizzle's column mappers expect, whatever types the pool was made with.
    const options = { rowMode, types: drizzleTypes }
    if (params.length === 0 && hasSeveralStatements(this.query.sql)) {
      // A custom migration or `sql.raw('create …; insert …')`: pg runs it through the simple protocol.
      const results = await runStatements(this.#client, this.query.sql, options)
      return results.at(-1) ?? { rows: [], fields: [], command: '', rowCount: null }
    }
    return await this.#client.query<unknown>(this.query.sql, params, options)
  }
}

/**
 * Whether `text` holds more than one statement: a `;` with more than whitespace and `;` after it. Such text
 * without parameters runs through the simple protocol, as `pg` runs every parameterless query (the extended
 * protocol refuses several commands in one statement). A `;` inside a string literal counts too; the simple
 * protocol runs that text all the same.
 */
export function hasSeveralStatements(text: string): boolean {
  const semicolon = text.indexOf(';')
  return semicolon >= 0 && /[^\s;]/.test(text.slice(semicolon + 1))
}

/** Runs several statements through the simple protocol, on a connection leased for them from a pool. */
async function runStatements(
  client: EdgePgClient,
  text: string,
  options: SimpleQueryOptions,
): Promise<QueryResult<unknown>[]> {
  if (!isPool(client)) return await client.simpleQuery(text, options)
  const leased = await client.connect()
  try {
    return await leased.simpleQuery(text, options)
  } finally {
    leased.release()
  }
}

/** Options of {@link EdgePgSession}. */
export interface EdgePgSessionOptions {
  logger?: Logger
  cache?: Cache
}

/** Drizzle's session over an edgepg pool or client. */
export class EdgePgSession<
  TFullSchema extends Record<string, unknown>,
  TSchema extends TablesRelationalConfig,
> extends PgSession<EdgePgQueryResultHKT, TFullSchema, TSchema> {
  static override readonly [entityKind]: string = 'EdgePgSession'
  /** The pool or client queries run on. */
  readonly client: EdgePgClient
  readonly #schema: RelationalSchemaConfig<TSchema> | undefined
  readonly #options: EdgePgSessionOptions
  readonly #logger: Logger
  readonly #cache: Cache

  constructor(
    client: EdgePgClient,
    dialect: PgDialect,
    schema: RelationalSchemaConfig<TSchema> | undefined,
    options: EdgePgSessionOptions = {},
  ) {
    super(dialect)
    this.client = client
    this.#schema = schema
    this.#options = options
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
    return new EdgePgPreparedQuery(
      this.client,
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

  /**
   * Runs `transaction` between `begin` (with the isolation level, access mode and deferrable asked for) and
   * `commit`, on one connection: leased from the pool for the whole transaction and released after, or the
   * client given. A throw (`tx.rollback()` included) rolls back and rethrows; a connection whose rollback
   * fails is closed, not pooled again. A commit the server turns into a rollback (a statement of the
   * transaction failed) rejects with {@link TransactionAbortedError}.
   */
  override async transaction<T>(
    transaction: (tx: EdgePgTransaction<TFullSchema, TSchema>) => Promise<T>,
    config?: PgTransactionConfig,
  ): Promise<T> {
    const leased = isPool(this.client) ? await this.client.connect() : undefined
    const session = leased ? new EdgePgSession(leased, this.dialect, this.#schema, this.#options) : this
    const tx = new EdgePgTransaction<TFullSchema, TSchema>(this.dialect, session, this.#schema)
    let broken: unknown
    try {
      await tx.execute(
        sql`begin${config ? sql` ${transactionInternals(tx).getTransactionConfigSQL(config)}` : undefined}`,
      )
      let result: T
      try {
        result = await transaction(tx)
      } catch (error) {
        try {
          await tx.execute(sql`rollback`)
        } catch (rollbackError) {
          broken = rollbackError
        }
        throw error
      }
      const committed = (await tx.execute(sql`commit`)) as QueryResult<Row>
      if (committed.command === 'ROLLBACK') throw new TransactionAbortedError()
      return result
    } catch (error) {
      broken ??= leased?.transactionStatus === 'idle' ? undefined : error
      throw error
    } finally {
      // A connection left inside a transaction (begin, commit or rollback failed) is closed, not reused.
      leased?.release(broken === undefined ? undefined : true)
    }
  }

  /** @internal `select count(*)` helper of Drizzle's `$count`. */
  override async count(query: SQL): Promise<number> {
    const result = (await this.execute(query)) as QueryResult<Row>
    return Number(result.rows[0]!.count)
  }
}

/** A Drizzle transaction on one edgepg connection; `tx.transaction()` nests as a savepoint. */
export class EdgePgTransaction<
  TFullSchema extends Record<string, unknown>,
  TSchema extends TablesRelationalConfig,
> extends PgTransaction<EdgePgQueryResultHKT, TFullSchema, TSchema> {
  static override readonly [entityKind]: string = 'EdgePgTransaction'
  /** A nested transaction of this one is running: savepoints nest, they cannot run side by side. */
  #isNesting = false

  /**
   * Runs `transaction` inside `savepoint spN`: released when it resolves, rolled back to when it throws. One
   * at a time per transaction: a second one started while another runs rejects with
   * {@link NESTED_SIDE_BY_SIDE_MESSAGE} (rolling one back would undo the other's work; on node-postgres that
   * work is lost silently).
   */
  override async transaction<T>(
    transaction: (tx: EdgePgTransaction<TFullSchema, TSchema>) => Promise<T>,
  ): Promise<T> {
    if (this.#isNesting) throw new DrizzleError({ message: NESTED_SIDE_BY_SIDE_MESSAGE })
    this.#isNesting = true
    try {
      return await this.#savepoint(transaction)
    } finally {
      this.#isNesting = false
    }
  }

  async #savepoint<T>(transaction: (tx: EdgePgTransaction<TFullSchema, TSchema>) => Promise<T>): Promise<T> {
    const name = `sp${this.nestedIndex + 1}`
    const tx = new EdgePgTransaction<TFullSchema, TSchema>(
      transactionInternals(this).dialect,
      this._.session,
      this.schema,
      this.nestedIndex + 1,
    )
    await tx.execute(sql.raw(`savepoint ${name}`))
    try {
      const result = await transaction(tx)
      await tx.execute(sql.raw(`release savepoint ${name}`))
      return result
    } catch (error) {
      await tx.execute(sql.raw(`rollback to savepoint ${name}`))
      throw error
    }
  }
}

/** What `db.execute()` resolves with: edgepg's `QueryResult` (`rows`, `fields`, `command`, `rowCount`). */
export interface EdgePgQueryResultHKT extends PgQueryResultHKT {
  type: QueryResult<Assume<this['row'], Row>>
}
