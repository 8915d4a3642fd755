/**
 * `@edgepg/drizzle`: Drizzle ORM over edgepg. `drizzle(pool, { schema, casing, logger })` returns a Drizzle
 * `PgDatabase` built on drizzle-orm's pg-core session classes, as Drizzle's own node-postgres driver is.
 * Migrations: `@edgepg/drizzle/migrator`. Over edgepg's HTTP client: `@edgepg/drizzle/http`.
 *
 * @packageDocumentation
 */
export { drizzle, EdgePgDatabase } from './driver.ts'
export {
  type EdgePgClient,
  EdgePgPreparedQuery,
  type EdgePgQueryResultHKT,
  EdgePgSession,
  type EdgePgSessionOptions,
  EdgePgTransaction,
  hasSeveralStatements,
  NESTED_SIDE_BY_SIDE_MESSAGE,
  TRANSACTION_ABORTED_MESSAGE,
  TransactionAbortedError,
} from './session.ts'
export { drizzleTypes, TEXT_DATE_OIDS } from './types.ts'
