/**
 * One error class with a closed set of kinds, built by internal factories (as tokio-postgres's `Error`).
 * Users test errors with the predicates at the bottom of this file, never by constructing them.
 * Messages are lower-case, say what was expected and what was found, and never contain a password.
 */
import type { QueryResult } from './result.ts'

/** Every way an edgepg operation can fail. */
export type PgErrorKind =
  /** The client or connection was closed (by `end()`, by the server, or by a previous fatal error). */
  | 'closed'
  /** The transport failed: socket error, reset, relay went away. */
  | 'io'
  /** The peer sent bytes that are not valid PostgreSQL protocol; the connection is destroyed. */
  | 'protocol'
  /** The server answered with an ErrorResponse; see {@link DatabaseError}. */
  | 'db'
  /** Authentication could not proceed (unsupported method, bad server signature, missing password). */
  | 'auth'
  /** The connection string or options are invalid; raised before any I/O. */
  | 'config'
  /** A connect or query deadline passed. */
  | 'timeout'
  /** A request was made but `connection.run()` was never called to drive the connection. */
  | 'not-driven'
  /** The caller aborted the request through an `AbortSignal`. */
  | 'aborted'
  /** A value could not be encoded as a parameter, or a result could not be decoded. */
  | 'encode'
  /** The API was used in a way its state does not allow (wrong argument, finished transaction, …). */
  | 'usage'
  /** `queryOne`/`queryOpt` found a number of rows it does not allow. */
  | 'row-count'
  /** A result was larger than the request's `maxResultBytes`; the statement was cancelled. */
  | 'limit'

export class PgError extends Error {
  override readonly name: string = 'PgError'
  readonly kind: PgErrorKind

  /** @internal use the factories below */
  constructor(kind: PgErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.kind = kind
  }
}

/** Every field of a PostgreSQL ErrorResponse or NoticeResponse, by its documented name. */
export interface DatabaseErrorFields {
  severity: string
  /** Severity that is never localized (PostgreSQL ≥ 9.6). */
  severityNonLocalized?: string | undefined
  /** The SQLSTATE code, e.g. `23505`. */
  code: string
  message: string
  detail?: string | undefined
  hint?: string | undefined
  /** 1-based character position in the query text. */
  position?: number | undefined
  internalPosition?: number | undefined
  internalQuery?: string | undefined
  where?: string | undefined
  schema?: string | undefined
  table?: string | undefined
  column?: string | undefined
  dataType?: string | undefined
  constraint?: string | undefined
  file?: string | undefined
  line?: number | undefined
  routine?: string | undefined
}

/** An ErrorResponse from the server. `code` is the SQLSTATE. */
export class DatabaseError extends PgError implements DatabaseErrorFields {
  override readonly name = 'DatabaseError'
  readonly severity!: string
  readonly severityNonLocalized?: string | undefined
  readonly code!: string
  readonly detail?: string | undefined
  readonly hint?: string | undefined
  readonly position?: number | undefined
  readonly internalPosition?: number | undefined
  readonly internalQuery?: string | undefined
  readonly where?: string | undefined
  readonly schema?: string | undefined
  readonly table?: string | undefined
  readonly column?: string | undefined
  readonly dataType?: string | undefined
  readonly constraint?: string | undefined
  readonly file?: string | undefined
  readonly line?: number | undefined
  readonly routine?: string | undefined
  /**
   * From `simpleQuery`: the results of the statements that completed before this error, in order (psql shows
   * them above the error). Not enumerable, so logging the error does not print their rows.
   */
  declare readonly results?: QueryResult[]

  /** @internal */
  constructor(fields: DatabaseErrorFields) {
    super('db', fields.message)
    // Fills the fields declared above; declaring them keeps every key present and in this order.
    Object.assign(this, fields)
  }
}

// ---- internal factories -------------------------------------------------------------------------------

/** @internal */
export const closedError = (message: string, cause?: unknown) => new PgError('closed', message, { cause })
/** @internal */
export const ioError = (message: string, cause?: unknown) => new PgError('io', message, { cause })
/** @internal */
export const protocolError = (message: string, cause?: unknown) => new PgError('protocol', message, { cause })
/** @internal */
export const authError = (message: string, cause?: unknown) => new PgError('auth', message, { cause })
/** @internal */
export const configError = (message: string, cause?: unknown) => new PgError('config', message, { cause })
/** @internal */
export const timeoutError = (message: string, cause?: unknown) => new PgError('timeout', message, { cause })
/** @internal */
export const notDrivenError = (message: string) => new PgError('not-driven', message)
/** @internal */
export const abortedError = (message: string, cause?: unknown) => new PgError('aborted', message, { cause })
/** @internal */
export const encodeError = (message: string, cause?: unknown) => new PgError('encode', message, { cause })
/** @internal */
export const rowCountError = (message: string) => new PgError('row-count', message)
/** @internal */
export const limitError = (message: string) => new PgError('limit', message)
/** @internal */
export const usageError = (message: string, cause?: unknown) => new PgError('usage', message, { cause })

// ---- predicates ---------------------------------------------------------------------------------------

/** True when `error` is any edgepg error; with `kind`, only that kind. */
export function isPgError(error: unknown, kind?: PgErrorKind): error is PgError {
  return error instanceof PgError && (kind === undefined || error.kind === kind)
}

/** True when `error` is a server ErrorResponse; with `code`, only that SQLSTATE. */
export function isDatabaseError(error: unknown, code?: string): error is DatabaseError {
  return error instanceof DatabaseError && (code === undefined || error.code === code)
}

/** Used at the end of exhaustive switches over discriminated unions. */
export function assertNever(value: never, what = 'value'): never {
  throw protocolError(`unexpected ${what}: ${JSON.stringify(value)}`)
}
