/**
 * `query`: one extended-protocol round trip. Unprepared SQL is sent as Parse + Bind + Describe + Execute + Sync
 * on the unnamed statement, with text results (the column types are not known before the answer). A prepared
 * {@link Statement} skips Parse and Describe and asks for binary results where edgepg has a binary decoder.
 */

import { refuseCopyIn } from './copy-guard.ts'
import type { ConnectionCore } from './core.ts'
import { encodeError, isPgError, protocolError, usageError } from './errors.ts'
import type { Plan } from './plan.ts'
import { Statement } from './prepare.ts'
import { checkTypeOptions, isArrayRowMode, typesOnStatementError } from './query-checks.ts'
import type { Request } from './request.ts'
import { type QueryResult, ResultCollector, type Row, type RowMode } from './result.ts'
import { type RequestOptions, send } from './send.ts'
import { StaleStatementError, statementCacheOf } from './statement-cache.ts'
import { encodeParam, type TypeOptions, type TypeRegistry } from './types/index.ts'
import { typeRegistryOf } from './types/registry.ts'

/** Options of `query` and its variants (`queryOne`, `queryOpt`, `execute`). */
export interface QueryOptions extends RequestOptions {
  /**
   * `'object'` (default): each row is an object keyed by column name. `'array'`: each row is an array in
   * column order (`query<unknown[]>(…)`), so columns with the same name keep every value.
   */
  rowMode?: RowMode
  /**
   * Largest result accepted, in bytes of its DataRow messages as they came over the wire (each row's values,
   * 4 bytes of length per column and 7 per row). Past it the rows are dropped, a CancelRequest stops the
   * statement, and the query rejects with a PgError of kind `limit`; the connection stays usable. Default: none.
   */
  maxResultBytes?: number
  /**
   * How this query's values are decoded, in place of the connection's `types` (the same shape: `parsers`,
   * `dates`, `raw`). An ORM that maps PostgreSQL's text itself passes its own here, so it can share a pool made
   * for anything. Decoders are built once per options object: pass the same object each time. Not for a
   * prepared {@link Statement}, whose result formats were chosen when it was prepared.
   */
  types?: TypeOptions
}

/** Runs `statement` (SQL text or a prepared statement) with `params`. */
export function query<R = Row>(
  core: ConnectionCore,
  statement: string | Statement,
  params: readonly unknown[] = [],
  options?: QueryOptions,
): Promise<QueryResult<R>> {
  let values: (string | Uint8Array | null)[]
  let types: TypeRegistry
  try {
    values = encodeParams(statement, params)
    refuseBadOptions(statement, options)
    types = options?.types === undefined ? core.types : typeRegistryOf(options.types)
  } catch (error) {
    return Promise.reject(error)
  }
  if (statement instanceof Statement) return run<R>(core, preparedPlan(statement), values, options, types)
  const cache = statementCacheOf(core)
  if (!cache) return run<R>(core, unnamedPlan(statement), values, options, types)
  // A cached statement the server no longer has, or whose result type changed: prepare it again, once.
  // (The retry is a callback, not a catch: no promise more per query on the path where nothing is stale.)
  return run<R>(core, cache.plan(core, statement, false, types), values, options, types, () =>
    run<R>(core, cache.plan(core, statement, true, types), values, options, types).catch((again: unknown) => {
      throw again instanceof StaleStatementError ? again.original : again
    }),
  )
}

const unnamedPlan = (text: string): Plan => ({
  decoder: undefined,
  encode: (w, values) =>
    w.parse('', text, []).bind('', '', values, []).describe('P', '').execute('', 0).sync(),
})

const preparedPlan = (statement: Statement): Plan => ({
  decoder: statement.decoder,
  encode: (w, values) => w.bind('', statement.name, values, statement.resultFormats).execute('', 0).sync(),
})

function run<R>(
  core: ConnectionCore,
  plan: Plan,
  values: readonly (string | Uint8Array | null)[],
  options: QueryOptions | undefined,
  types: TypeRegistry,
  retryStale?: () => Promise<QueryResult<R>>,
): Promise<QueryResult<R>> {
  return new Promise((resolve, reject) => {
    // Past maxResultBytes the query aborts itself: the send path cancels the statement it is running.
    // (A signal that is not an AbortSignal is left for send() to refuse.)
    const signal = options?.signal as unknown
    const hasBadSignal =
      signal !== undefined && typeof (signal as AbortSignal)?.addEventListener !== 'function'
    const overflow = options?.maxResultBytes === undefined || hasBadSignal ? undefined : withOverflow(options)
    const collector = new ResultCollector(types, plan.decoder, {
      rowMode: options?.rowMode,
      maxResultBytes: options?.maxResultBytes,
      onOverflow: overflow?.abort,
    })
    const request: Request = {
      handle(message) {
        plan.observe?.(message)
        if (collector.accept(message)) return false
        switch (message.type) {
          case 'ParseComplete':
          case 'BindComplete':
          case 'CopyOutResponse':
          case 'CopyData':
          case 'CopyDone':
            return false
          case 'CopyInResponse':
            refuseCopyIn(core, true)
            return false
          case 'ReadyForQuery':
            overflow?.detach()
            if (collector.error) {
              const error = plan.settle ? plan.settle(collector.error, message.status) : collector.error
              if (retryStale && error instanceof StaleStatementError) resolve(retryStale())
              else reject(error)
            } else resolve(collector.result() as QueryResult<R>)
            return true
          default:
            throw protocolError(`unexpected ${message.type} in response to a query`)
        }
      },
      fail(error) {
        overflow?.detach()
        plan.abandon?.()
        reject(error)
      },
    }
    send(core, request, overflow?.options ?? options, (w) => plan.encode(w, values))
  })
}

/**
 * The options with a signal that also aborts when the result overflows: the caller's signal (if any) is
 * followed by an inner one the collector can abort.
 */
function withOverflow(options: QueryOptions) {
  const inner = new AbortController()
  const outer = options.signal
  const follow = () => inner.abort(outer?.reason)
  if (outer?.aborted) follow()
  else outer?.addEventListener('abort', follow, { once: true })
  return {
    options: { ...options, signal: inner.signal },
    abort: () => inner.abort(),
    detach: () => outer?.removeEventListener('abort', follow),
  }
}

function refuseBadOptions(statement: string | Statement, options: QueryOptions | undefined) {
  checkTypeOptions(options?.types)
  if (options?.types !== undefined && statement instanceof Statement) throw typesOnStatementError()
  isArrayRowMode(options?.rowMode)
  const max = options?.maxResultBytes
  if (max !== undefined && !(typeof max === 'number' && Number.isSafeInteger(max) && max > 0))
    throw usageError(`maxResultBytes must be a positive whole number of bytes, found ${String(max)}`)
}

function encodeParams(
  statement: string | Statement,
  params: readonly unknown[],
): (string | Uint8Array | null)[] {
  if (!Array.isArray(params)) throw usageError(`query parameters must be an array, found ${typeof params}`)
  if (statement instanceof Statement) {
    if (params.length !== statement.params.length) {
      throw usageError(`statement expects ${statement.params.length} parameters, found ${params.length}`)
    }
  } else if (typeof statement !== 'string') {
    throw usageError(`query text must be a string or a prepared Statement, found ${typeof statement}`)
  }
  const values = new Array<string | Uint8Array | null>(params.length)
  for (let i = 0; i < params.length; i++) {
    try {
      values[i] = encodeParam(params[i])
    } catch (error) {
      const reason = isPgError(error) ? error.message : String(error)
      throw encodeError(`parameter $${i + 1} could not be encoded: ${reason}`, error)
    }
  }
  return values
}
