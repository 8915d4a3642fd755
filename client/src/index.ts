/**
 * edgepg: a PostgreSQL driver that speaks the wire protocol itself. This entry is runtime-free; transports
 * come from subpaths (`@edgepg/client/node`, `/websocket`, `/cloudflare`).
 */
export type { BatchOptions, BatchQuery } from './batch.ts'
export { CancelToken } from './cancel.ts'
export { Client } from './client.ts'
export type { ConnectionConfig, SslMode } from './config.ts'
export { type ConnectOptions, connect } from './connect.ts'
export {
  Connection,
  type ConnectionEvents,
  type ConnectionState,
  type TransactionStatus,
} from './connection.ts'
export type { CopySource } from './copy.ts'
export {
  DatabaseError,
  type DatabaseErrorFields,
  isDatabaseError,
  isPgError,
  PgError,
  type PgErrorKind,
} from './errors.ts'
export type { Notice, Notification, NotificationsOptions } from './notifications.ts'
export { createPool, Pool, PoolClient, type PoolOptions, type PoolStats } from './pool.ts'
export type { StreamOptions } from './portal-stream.ts'
export { Statement } from './prepare.ts'
export type { QueryOptions } from './query.ts'
export type { FieldDescription, QueryResult, Row, RowMode } from './result.ts'
export type { RequestOptions } from './send.ts'
export type { SimpleQueryOptions } from './simple-query.ts'
export { conditionName, SqlState, type SqlStateCode } from './sqlstate.generated.ts'
export { negotiateTls, type TlsOptions } from './tls.ts'
export { Transaction, type TransactionOptions } from './transaction.ts'
export type {
  ByteStream,
  StreamHandlers,
  TlsRequest,
  Transport,
  TransportTarget,
} from './transport/transport.ts'
export type { Decoder, Interval, TypeOptions } from './types/index.ts'
export { Oid } from './types/oids.generated.ts'
