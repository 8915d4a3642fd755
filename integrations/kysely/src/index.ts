/**
 * `@edgepg/kysely`: a Kysely dialect over an edgepg pool. The dialect over the HTTP client is in
 * `@edgepg/kysely/http` (`EdgePgHttpDialect`).
 *
 * @packageDocumentation
 */

export { EdgePgConnection } from './connection.ts'
export { EdgePgDialect, type EdgePgDialectConfig } from './dialect.ts'
export { EdgePgDriver } from './driver.ts'
