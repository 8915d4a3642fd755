/**
 * What both dialects (over a pool, over HTTP) share: Kysely's PostgreSQL compiler, adapter and introspector,
 * the mapping of an edgepg result to Kysely's, and the check of a stream's chunk size.
 */
import {
  type DatabaseIntrospector,
  type DialectAdapter,
  type Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryCompiler,
  type QueryResult,
} from 'kysely'

/** Commands whose row count is the number of rows they changed (Kysely's `numAffectedRows`). */
const COUNTED = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE'])

/** Kysely's result for an edgepg result: its rows, and `numAffectedRows` for the commands that change rows. */
export function kyselyResult<R>(result: {
  rows: R[]
  command: string
  rowCount: number | null
}): QueryResult<R> {
  return COUNTED.has(result.command) && result.rowCount !== null
    ? { rows: result.rows, numAffectedRows: BigInt(result.rowCount) }
    : { rows: result.rows }
}

/** Throws unless `chunkSize` is a positive integer. */
export function checkChunkSize(chunkSize: number): void {
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1)
    throw new RangeError(`stream chunkSize must be a positive integer; found ${String(chunkSize)}`)
}

/** The PostgreSQL parts of a Kysely dialect: each dialect adds its own driver. */
export abstract class PostgresDialectParts {
  /** @internal Called by Kysely. */
  createQueryCompiler(): QueryCompiler {
    return new PostgresQueryCompiler()
  }

  /** @internal Called by Kysely. */
  createAdapter(): DialectAdapter {
    return new PostgresAdapter()
  }

  /** @internal Called by Kysely. */
  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new PostgresIntrospector(db)
  }
}
