/**
 * edgepg errors as Prisma's driver-adapter errors, kind for kind as `@prisma/adapter-pg` maps node-postgres
 * errors, so Prisma Client raises the same `P20xx` codes (a unique violation is `P2002` with its fields).
 */
import { DatabaseError, isPgError } from '@edgepg/client'
import { DriverAdapterError, type Error as PrismaDriverError } from '@prisma/driver-adapter-utils'

/** Throws `error` as a {@link DriverAdapterError} when Prisma has a kind for it; otherwise as it is. */
export function rethrowAsPrisma(error: unknown): never {
  const mapped = toPrismaError(error)
  throw mapped ? new DriverAdapterError(mapped) : error
}

/**
 * The Prisma error for an edgepg error, or undefined for errors Prisma reports as they are (usage errors,
 * encode errors, aborts: Prisma wraps them as a generic JS error).
 */
export function toPrismaError(error: unknown): PrismaDriverError | undefined {
  if (error instanceof DatabaseError) {
    return { originalCode: error.code, originalMessage: error.message, ...databaseError(error) }
  }
  if (!isPgError(error)) return undefined
  switch (error.kind) {
    case 'closed':
      return { kind: 'ConnectionClosed' }
    case 'timeout':
      return { kind: 'SocketTimeout' }
    case 'io':
      return ioError(error)
  }
  if (/\btls\b|ssl|certificate/i.test(error.message))
    return { kind: 'TlsConnectionError', reason: error.message }
  return undefined
}

/** A transport failure by its socket error code (the cause's, as Node reports it), as adapter-pg maps them. */
function ioError(error: Error): PrismaDriverError {
  const cause = error.cause as
    | { code?: unknown; address?: unknown; hostname?: unknown; port?: unknown }
    | undefined
  const code =
    typeof cause?.code === 'string'
      ? cause.code
      : /\b(ECONNREFUSED|ENOTFOUND|ETIMEDOUT)\b/.exec(error.message)?.[1]
  // Through the relay there is no socket error: edgepg's WebSocket transport says the relay could not reach
  // the database (close 1011) or could not itself be reached (its messages, pinned by its own tests).
  if (
    code === undefined &&
    /relay could not reach the database|relay refused the WebSocket upgrade or could not be reached/.test(
      error.message,
    )
  )
    return { kind: 'DatabaseNotReachable' }
  switch (code) {
    case 'ECONNREFUSED':
    case 'ENOTFOUND': {
      const host =
        typeof cause?.address === 'string'
          ? cause.address
          : typeof cause?.hostname === 'string'
            ? cause.hostname
            : undefined
      const port = typeof cause?.port === 'number' ? cause.port : undefined
      return { kind: 'DatabaseNotReachable', host, port }
    }
    case 'ETIMEDOUT':
      return { kind: 'SocketTimeout' }
    default:
      return { kind: 'ConnectionClosed' }
  }
}

/** The fields Prisma reports for the server's error, by SQLSTATE. */
function databaseError(error: DatabaseError): PrismaDriverError {
  const keyFields = () =>
    error.detail
      ?.match(/Key \(([^)]+)\)/)
      ?.at(1)
      ?.split(', ')
  const fieldOrIndex = () =>
    error.column ? { fields: [error.column] } : error.constraint ? { index: error.constraint } : undefined
  switch (error.code) {
    case '22001':
      return { kind: 'LengthMismatch', column: error.column }
    case '22003':
      return { kind: 'ValueOutOfRange', cause: error.message }
    case '22P02':
      return { kind: 'InvalidInputValue', message: error.message }
    case '23505': {
      const fields = keyFields()
      const constraint = error.constraint
        ? { index: error.constraint }
        : fields !== undefined
          ? { fields }
          : undefined
      let table = error.table
      if (table === undefined && fields !== undefined && fields.length > 0) {
        const suffix = `_${fields.join('_')}_key`
        if (error.constraint?.endsWith(suffix)) table = error.constraint.slice(0, -suffix.length)
      }
      return { kind: 'UniqueConstraintViolation', constraint, table }
    }
    case '23502': {
      const fields = keyFields()
      return { kind: 'NullConstraintViolation', constraint: fields !== undefined ? { fields } : undefined }
    }
    case '23503':
      return { kind: 'ForeignKeyConstraintViolation', constraint: fieldOrIndex() }
    case '23001':
      return { kind: 'RestrictViolation', constraint: fieldOrIndex() }
    case '3D000':
      return { kind: 'DatabaseDoesNotExist', db: error.message.split(' ').at(1)?.split('"').at(1) }
    case '28000':
      return {
        kind: 'DatabaseAccessDenied',
        db: error.message
          .split(',')
          .find((s) => s.startsWith(' database'))
          ?.split('"')
          .at(1),
      }
    case '28P01':
      return { kind: 'AuthenticationFailed', user: error.message.split(' ').pop()?.split('"').at(1) }
    case '40001':
    case '40P01':
      return { kind: 'TransactionWriteConflict' }
    case '42P01':
      return { kind: 'TableDoesNotExist', table: error.message.split(' ').at(1)?.split('"').at(1) }
    case '42703': {
      const column = error.message.match(/^column (.+) does not exist$/)?.at(1)
      return {
        kind: 'ColumnNotFound',
        column: column?.replace(/"((?:""|[^"])*)"/g, (_, id: string) => id.replaceAll('""', '"')),
      }
    }
    case '42P04':
      return { kind: 'DatabaseAlreadyExists', db: error.message.split(' ').at(1)?.split('"').at(1) }
    case '53300':
      return { kind: 'TooManyConnections', cause: error.message }
    default:
      return {
        kind: 'postgres',
        code: error.code ?? 'N/A',
        severity: error.severity ?? 'N/A',
        message: error.message,
        detail: error.detail,
        column: error.column,
        hint: error.hint,
      }
  }
}
