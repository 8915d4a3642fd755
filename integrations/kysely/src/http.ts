/**
 * `@edgepg/kysely/http`: a Kysely dialect over edgepg's HTTP client (`@edgepg/client/http`), for functions that
 * cannot keep a connection open. Each Kysely query is one HTTP request; there is no session, so interactive
 * transactions and savepoints are refused (use `EdgePgDialect` from `@edgepg/kysely` over a pool for those, or
 * `http.transaction([...])` for a one-shot batch).
 *
 * @packageDocumentation
 */
import type { HttpClient } from '@edgepg/client/http'
import type {
  AbortableOperationOptions,
  CompiledQuery,
  DatabaseConnection,
  Dialect,
  Driver,
  QueryResult,
} from 'kysely'
import { checkChunkSize, kyselyResult, PostgresDialectParts } from './postgres.ts'

/** Commands whose row count Kysely reports as `numAffectedRows`. */

/** Why a transaction or savepoint cannot run over HTTP, and what to use instead. */
export const HTTP_TRANSACTION_MESSAGE =
  'interactive transactions are not supported over http: each query is its own request with no session; ' +
  'use EdgePgDialect over an edgepg pool (TCP or the WebSocket relay) for db.transaction(), ' +
  'or http.transaction([...]) from @edgepg/client/http for a one-shot batch'

/** Configuration of {@link EdgePgHttpDialect}. */
export interface EdgePgHttpDialectConfig {
  /** The HTTP client, `http(connectionString, { url, token })` from `@edgepg/client/http`. */
  http: HttpClient
}

/**
 * Kysely's PostgreSQL dialect over edgepg's HTTP client:
 *
 * ```ts
 * const db = new Kysely<DB>({ dialect: new EdgePgHttpDialect({ http: http(url, { url: 'https://relay.example.com/sql' }) }) })
 * ```
 *
 * Queries, `numAffectedRows` and edgepg's `DatabaseError` are as with the pool dialect. `db.transaction()`
 * (and savepoints) reject with {@link HTTP_TRANSACTION_MESSAGE}. `.stream(chunkSize)` works, but the whole
 * result arrives in one response first and is then yielded in chunks: memory is not bounded.
 */
export class EdgePgHttpDialect extends PostgresDialectParts implements Dialect {
  readonly #http: HttpClient

  constructor(config: EdgePgHttpDialectConfig) {
    super()
    const http = (config as Partial<EdgePgHttpDialectConfig> | undefined)?.http
    if (!http || typeof (http as Partial<HttpClient>).query !== 'function') {
      throw new TypeError(
        `EdgePgHttpDialect expects { http }, a client made by http() from @edgepg/client/http; found ${http === null ? 'null' : typeof http}`,
      )
    }
    this.#http = http
  }

  /** @internal Called by Kysely. */
  createDriver(): Driver {
    return new EdgePgHttpDriver(this.#http)
  }
}

/** Kysely's `Driver` over an `HttpClient`: every "connection" is the same stateless client. */
export class EdgePgHttpDriver implements Driver {
  readonly #connection: EdgePgHttpConnection

  constructor(http: HttpClient) {
    this.#connection = new EdgePgHttpConnection(http)
  }

  /** Nothing to open. */
  async init(): Promise<void> {}

  /** The one stateless connection (concurrent queries are concurrent requests). */
  async acquireConnection(): Promise<DatabaseConnection> {
    return this.#connection
  }

  /** Refused: see {@link HTTP_TRANSACTION_MESSAGE}. */
  async beginTransaction(): Promise<void> {
    throw new Error(HTTP_TRANSACTION_MESSAGE)
  }

  /** Refused: see {@link HTTP_TRANSACTION_MESSAGE}. */
  async commitTransaction(): Promise<void> {
    throw new Error(HTTP_TRANSACTION_MESSAGE)
  }

  /** Refused: see {@link HTTP_TRANSACTION_MESSAGE}. */
  async rollbackTransaction(): Promise<void> {
    throw new Error(HTTP_TRANSACTION_MESSAGE)
  }

  /** Refused: see {@link HTTP_TRANSACTION_MESSAGE}. */
  async savepoint(): Promise<void> {
    throw new Error(HTTP_TRANSACTION_MESSAGE)
  }

  /** Refused: see {@link HTTP_TRANSACTION_MESSAGE}. */
  async rollbackToSavepoint(): Promise<void> {
    throw new Error(HTTP_TRANSACTION_MESSAGE)
  }

  /** Refused: see {@link HTTP_TRANSACTION_MESSAGE}. */
  async releaseSavepoint(): Promise<void> {
    throw new Error(HTTP_TRANSACTION_MESSAGE)
  }

  /** Nothing to give back. */
  async releaseConnection(): Promise<void> {}

  /** Nothing to close: the HTTP client holds no connection. */
  async destroy(): Promise<void> {}
}

/** Kysely's `DatabaseConnection` over an `HttpClient`: one `http.query` per compiled query. */
export class EdgePgHttpConnection implements DatabaseConnection {
  readonly #http: HttpClient

  constructor(http: HttpClient) {
    this.#http = http
  }

  /** Runs one compiled query as one HTTP request. */
  async executeQuery<R>(
    compiled: CompiledQuery,
    options?: AbortableOperationOptions,
  ): Promise<QueryResult<R>> {
    const result = await this.#http.query<R>(
      compiled.sql,
      compiled.parameters,
      options?.signal ? { signal: options.signal } : {},
    )
    return kyselyResult(result)
  }

  /**
   * Runs the query as one request, then yields its rows in chunks of at most `chunkSize`: the whole result
   * is in memory (HTTP answers with all rows at once); use the pool dialect for bounded-memory streaming.
   */
  async *streamQuery<R>(
    compiled: CompiledQuery,
    chunkSize = 1000,
    options?: AbortableOperationOptions,
  ): AsyncIterableIterator<QueryResult<R>> {
    checkChunkSize(chunkSize)
    const { rows } = await this.executeQuery<R>(compiled, options)
    for (let i = 0; i < rows.length; i += chunkSize) yield { rows: rows.slice(i, i + chunkSize) }
  }
}
