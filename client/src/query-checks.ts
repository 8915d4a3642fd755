/**
 * The checks of the per-query options every query flow takes (`query`, `simpleQuery`, the HTTP client's): one
 * wording of each refusal, thrown before anything is sent.
 */
import { type PgError, usageError } from './errors.ts'
import type { RowMode } from './result.ts'
import type { TypeOptions } from './types/registry.ts'

/** Whether `rowMode` asks for array rows; throws a usage error for a mode that is not one. */
export function isArrayRowMode(rowMode: RowMode | undefined): boolean {
  if (rowMode !== undefined && rowMode !== 'object' && rowMode !== 'array')
    throw usageError(`rowMode must be 'object' or 'array', found ${String(rowMode)}`)
  return rowMode === 'array'
}

/** Why a query on a prepared statement cannot take `types`. */
export function typesOnStatementError(): PgError {
  return usageError(
    'types is not an option of a query on a prepared statement (its result formats were chosen when it was prepared): query the text instead',
  )
}

/** Throws a usage error when a query's `types` is given and is not an object. */
export function checkTypeOptions(types: TypeOptions | undefined): void {
  if (types !== undefined && (types === null || typeof types !== 'object'))
    throw usageError(
      `types must be an object of type options ({ parsers, dates, raw }), found ${String(types)}`,
    )
}
