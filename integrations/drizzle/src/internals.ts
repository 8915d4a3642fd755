/**
 * Members of drizzle-orm's classes that its own drivers use but its published types strip (`@internal`): the
 * query-cache wrapper that turns driver errors into `DrizzleQueryError`, the join nullability map, row mapping,
 * and a transaction's dialect and config SQL. Typed here once; drizzle-orm's tested range pins them.
 */
import type {
  PgDialect,
  PgPreparedQuery,
  PgTransaction,
  PgTransactionConfig,
  SelectedFieldsOrdered,
} from 'drizzle-orm/pg-core'
import type { SQL } from 'drizzle-orm/sql/sql'
import * as utils from 'drizzle-orm/utils'

interface PreparedQueryInternals {
  queryWithCache<R>(queryString: string, params: unknown[], query: () => Promise<R>): Promise<R>
  joinsNotNullableMap?: Record<string, boolean>
}

interface TransactionInternals {
  dialect: PgDialect
  getTransactionConfigSQL(config: PgTransactionConfig): SQL
}

/** The `@internal` side of a prepared query. */
// biome-ignore lint/suspicious/noExplicitAny: any PgPreparedQuery
export function preparedInternals(query: PgPreparedQuery<any>): PreparedQueryInternals {
  return query as unknown as PreparedQueryInternals
}

/** The `@internal` side of a transaction. */
// biome-ignore lint/suspicious/noExplicitAny: any PgTransaction
export function transactionInternals(tx: PgTransaction<any, any, any>): TransactionInternals {
  return tx as unknown as TransactionInternals
}

/** Drizzle's `mapResultRow`: one array row to the selected fields' shape, through each column's mapper. */
export const mapResultRow = (
  utils as unknown as {
    mapResultRow<T>(
      columns: SelectedFieldsOrdered,
      row: unknown[],
      joinsNotNullableMap: Record<string, boolean> | undefined,
    ): T
  }
).mapResultRow
