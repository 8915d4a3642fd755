/**
 * The messages a PostgreSQL server sends, as a discriminated union on `type` (PostgreSQL's own names).
 * Byte payloads (`DataRow` bytes, `CopyData` data) are views into the bytes handed to the parser.
 */
import type { DatabaseErrorFields } from '../errors.ts'

/** One column of a RowDescription. */
export interface FieldDescription {
  name: string
  /** OID of the table the column comes from, or 0. */
  tableOid: number
  /** Attribute number of the column in that table, or 0. */
  columnId: number
  typeOid: number
  /** `pg_type.typlen`: negative for variable-length types. */
  typeSize: number
  /** `pg_attribute.atttypmod`, type-specific (e.g. varchar length + 4); -1 when none. */
  typeModifier: number
  /** 0 for text, 1 for binary. */
  format: number
}

export interface AuthenticationOk {
  type: 'AuthenticationOk'
}
export interface AuthenticationCleartextPassword {
  type: 'AuthenticationCleartextPassword'
}
export interface AuthenticationMD5Password {
  type: 'AuthenticationMD5Password'
  /** The 4-byte salt (a copy). */
  salt: Uint8Array
}
export interface AuthenticationSASL {
  type: 'AuthenticationSASL'
  /** Mechanisms in the server's order of preference, e.g. `SCRAM-SHA-256-PLUS`, `SCRAM-SHA-256`. */
  mechanisms: string[]
}
export interface AuthenticationSASLContinue {
  type: 'AuthenticationSASLContinue'
  data: Uint8Array
}
export interface AuthenticationSASLFinal {
  type: 'AuthenticationSASLFinal'
  data: Uint8Array
}
/** KerberosV5 (2), SCMCredential (6), GSS (7), GSSContinue (8) or SSPI (9): methods edgepg does not speak. */
export interface AuthenticationUnsupported {
  type: 'AuthenticationUnsupported'
  code: number
}
export interface BackendKeyData {
  type: 'BackendKeyData'
  processId: number
  /** 4 bytes in protocol 3.0; up to 256 bytes in 3.2 (PostgreSQL 18). A copy. */
  secretKey: Uint8Array
}
export interface BindComplete {
  type: 'BindComplete'
}
export interface CloseComplete {
  type: 'CloseComplete'
}
export interface ParseComplete {
  type: 'ParseComplete'
}
export interface NoData {
  type: 'NoData'
}
export interface EmptyQueryResponse {
  type: 'EmptyQueryResponse'
}
export interface PortalSuspended {
  type: 'PortalSuspended'
}
export interface CopyDone {
  type: 'CopyDone'
}
export interface CommandComplete {
  type: 'CommandComplete'
  /** e.g. `SELECT 3`, `INSERT 0 1`. */
  tag: string
}
export interface CopyInResponse {
  type: 'CopyInResponse'
  /** 0 text, 1 binary: the overall COPY format. */
  format: number
  columnFormats: number[]
}
export interface CopyOutResponse {
  type: 'CopyOutResponse'
  format: number
  columnFormats: number[]
}
export interface CopyBothResponse {
  type: 'CopyBothResponse'
  format: number
  columnFormats: number[]
}
export interface CopyData {
  type: 'CopyData'
  /** A view into the parser's input. */
  data: Uint8Array
}
/**
 * A row, left where it lies: `RowDecoder` reads the columns in place, without a view per column.
 * `dataRowColumns` gives them as views when a caller wants them one by one.
 */
export interface DataRow {
  type: 'DataRow'
  columnCount: number
  /** The bytes the message lies in: the parser's input (or a joined copy), which holds other messages too. */
  bytes: Uint8Array
  /**
   * Index in `bytes` of the first column. Each column is an int32 length (-1 for SQL NULL) and that many bytes;
   * the parser checked that all `columnCount` of them fill the message exactly.
   */
  start: number
  /** Index in `bytes` just past the last column: `end - start` is the size of the row's columns. */
  end: number
}
export interface ErrorResponse {
  type: 'ErrorResponse'
  fields: DatabaseErrorFields
}
export interface NoticeResponse {
  type: 'NoticeResponse'
  fields: DatabaseErrorFields
}
export interface NegotiateProtocolVersion {
  type: 'NegotiateProtocolVersion'
  /** Newest minor protocol version the server supports for the major version requested. */
  newestMinor: number
  /** Protocol options (`_pq_.…`) the server did not recognize. */
  unrecognized: string[]
}
export interface NotificationResponse {
  type: 'NotificationResponse'
  processId: number
  channel: string
  payload: string
}
export interface ParameterDescription {
  type: 'ParameterDescription'
  typeOids: number[]
}
export interface ParameterStatus {
  type: 'ParameterStatus'
  name: string
  value: string
}
export interface ReadyForQuery {
  type: 'ReadyForQuery'
  /** Transaction status: idle, in a transaction block, or in a failed transaction block. */
  status: 'I' | 'T' | 'E'
}
export interface RowDescription {
  type: 'RowDescription'
  fields: FieldDescription[]
}

/** Every message the server may send after the SSL negotiation. */
export type BackendMessage =
  | AuthenticationOk
  | AuthenticationCleartextPassword
  | AuthenticationMD5Password
  | AuthenticationSASL
  | AuthenticationSASLContinue
  | AuthenticationSASLFinal
  | AuthenticationUnsupported
  | BackendKeyData
  | BindComplete
  | CloseComplete
  | ParseComplete
  | NoData
  | EmptyQueryResponse
  | PortalSuspended
  | CopyDone
  | CommandComplete
  | CopyInResponse
  | CopyOutResponse
  | CopyBothResponse
  | CopyData
  | DataRow
  | ErrorResponse
  | NoticeResponse
  | NegotiateProtocolVersion
  | NotificationResponse
  | ParameterDescription
  | ParameterStatus
  | ReadyForQuery
  | RowDescription
