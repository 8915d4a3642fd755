import type { PoolClient } from '@edgepg/client'
import type { AbortableOperationOptions, CompiledQuery, DatabaseConnection, QueryResult } from 'kysely'
import { checkChunkSize, hasSeveralStatements, kyselyResult } from './postgres.ts'

/**
 * Kysely's `DatabaseConnection` over one leased edgepg `PoolClient`. Queries run through `client.query`
 * (extended protocol, parameters bound); `streamQuery` runs through `client.queryRaw`, a portal fetched
 * `chunkSize` rows at a time. Errors are edgepg's own (`DatabaseError` with `code`, …), as thrown.
 */
export class EdgePgConnection implements DatabaseConnection {
  readonly #client: PoolClient
  #discarded = false
  #released = false

  constructor(client: PoolClient) {
    this.#client = client
  }

  /** The leased edgepg client (for what Kysely does not cover, e.g. COPY or LISTEN). */
  get client(): PoolClient {
    return this.#client
  }

  /** Runs one compiled query. */
  async executeQuery<R>(
    compiled: CompiledQuery,
    options?: AbortableOperationOptions,
  ): Promise<QueryResult<R>> {
    this.#assertUsable()
    const requestOptions = options?.signal ? { signal: options.signal } : undefined
    if (compiled.parameters.length === 0 && hasSeveralStatements(compiled.sql)) {
      // `sql.raw('create …; insert …')`, as migrations write it: the last statement's result, as pg gives it.
      const results = await this.#client.simpleQuery(compiled.sql, requestOptions)
      const last = results.at(-1)
      return last ? kyselyResult(last as typeof last & { rows: R[] }) : { rows: [] }
    }
    const result = await this.#client.query<R>(compiled.sql, compiled.parameters, requestOptions)
    return kyselyResult(result)
  }

  /** Streams the rows of one compiled query in chunks of at most `chunkSize` rows. */
  async *streamQuery<R>(
    compiled: CompiledQuery,
    chunkSize = 1000,
    options?: AbortableOperationOptions,
  ): AsyncIterableIterator<QueryResult<R>> {
    this.#assertUsable()
    checkChunkSize(chunkSize)
    const rows = this.#client.queryRaw<R>(compiled.sql, compiled.parameters, {
      batchSize: chunkSize,
      ...(options?.signal ? { signal: options.signal } : {}),
    })
    let chunk: R[] = []
    try {
      for await (const row of rows) {
        chunk.push(row)
        if (chunk.length >= chunkSize) {
          yield { rows: chunk }
          chunk = []
        }
      }
      if (chunk.length > 0) yield { rows: chunk }
    } finally {
      // A consumer that stops early (break, throw) closes the portal before the lease goes back.
      await rows.return?.()
    }
  }

  /** @internal Runs a control statement and returns its command tag's verb. */
  async command(sql: string): Promise<string> {
    this.#assertUsable()
    return (await this.#client.query(sql)).command
  }

  /** @internal Marks the connection as unusable: it is closed, not pooled, on release. */
  discard(): void {
    this.#discarded = true
  }

  /** @internal Gives the lease back (once). */
  release(): void {
    if (this.#released) return
    this.#released = true
    this.#client.release(this.#discarded)
  }

  #assertUsable(): void {
    if (this.#discarded)
      throw new Error('connection was discarded after a failed rollback: acquire a new one')
  }
}
