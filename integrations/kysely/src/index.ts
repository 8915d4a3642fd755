/**
 * `@edgepg/kysely`: a Kysely dialect over an edgepg pool.
 *
 * @packageDocumentation
 */

export { EdgePgConnection } from './connection.ts'
export { EdgePgDialect, type EdgePgDialectConfig } from './dialect.ts'
export { EdgePgDriver } from './driver.ts'
