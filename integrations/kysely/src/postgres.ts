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

/** The most rows one Execute message can ask for (its row limit is a 32-bit signed integer). */
export const MAX_CHUNK_SIZE = 2 ** 31 - 1

/** Throws unless `chunkSize` is a positive integer the protocol can carry. */
export function checkChunkSize(chunkSize: number): void {
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE)
    throw new RangeError(
      `stream chunkSize must be a positive integer up to ${MAX_CHUNK_SIZE}; found ${String(chunkSize)}`,
    )
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
