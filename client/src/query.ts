/**
 * `query`: one extended-protocol round trip. Unprepared SQL is sent as Parse + Bind + Describe + Execute + Sync
 * on the unnamed statement, with text results (the column types are not known before the answer). A prepared
 * {@link Statement} skips Parse and Describe and asks for binary results where edgepg has a binary decoder.
 */

import { refuseCopyIn } from './copy-guard.ts'
import type { ConnectionCore } from './core.ts'
import { encodeError, isPgError, type PgError, protocolError, usageError } from './errors.ts'
import { type Plan, unnamedPlan } from './plan.ts'
import { Statement } from './prepare.ts'
import type { BackendMessage, FrontendWriter } from './protocol/index.ts'
import { checkTypeOptions, isArrayRowMode, typesOnStatementError } from './query-checks.ts'
import type { Request } from './request.ts'
import { type QueryResult, ResultCollector, type Row, type RowMode } from './result.ts'
import { type RequestOptions, send } from './send.ts'
import {
  isCacheClose,
  StaleStatementError,
  type StatementCache,
  statementCacheOf,
} from './statement-cache.ts'
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
  const plan = planOf(core, statement, types, false)
  // A cached text: a stale failure prepares it again, and a DISCARD ALL closes the cache behind itself.
  const text = typeof statement === 'string' ? statement : undefined
  const cache = text === undefined ? undefined : statementCacheOf(core)
  const promise = run<R>(core, plan, values, options, types, cache, cache && text)
  if (text !== undefined) cache?.sending(core, text)
  return promise
}

/**
 * How `statement` is written: bound by name when prepared, from the statement cache, or on the unnamed
 * statement. `isRetry` prepares a cached text anew (after the server said its statement is stale).
 */
export function planOf(
  core: ConnectionCore,
  statement: string | Statement,
  types: TypeRegistry,
  isRetry: boolean,
): Plan {
  if (statement instanceof Statement) return preparedPlan(statement)
  const cache = statementCacheOf(core)
  return cache ? cache.plan(core, statement, isRetry, types) : unnamedPlan(statement)
}

const preparedPlan = (statement: Statement): Plan => ({
  decoder: statement.decoder,
  encode: (w, values) => w.bind('', statement.name, values, statement.resultFormats).execute('', 0),
})

function run<R>(
  core: ConnectionCore,
  plan: Plan,
  values: readonly (string | Uint8Array | null)[],
  options: QueryOptions | undefined,
  types: TypeRegistry,
  cache?: StatementCache,
  text?: string,
): Promise<QueryResult<R>> {
  // Past maxResultBytes the query aborts itself: the send path cancels the statement it is running.
  // (A signal that is not an AbortSignal is left for send() to refuse.)
  const signal = options?.signal as unknown
  const hasBadSignal = signal !== undefined && typeof (signal as AbortSignal)?.addEventListener !== 'function'
  const overflow = options?.maxResultBytes === undefined || hasBadSignal ? undefined : withOverflow(options)
  const collector = new ResultCollector(
    types,
    plan.decoder,
    options?.rowMode === undefined && overflow === undefined
      ? undefined
      : { rowMode: options?.rowMode, maxResultBytes: options?.maxResultBytes, onOverflow: overflow?.abort },
  )
  const request = new QueryRequest<R>(core, plan, values, collector, overflow, options, types, cache, text)
  const promise = new Promise<QueryResult<R>>((resolve, reject) => {
    request.resolve = resolve
    request.reject = reject
  })
  send(core, request, overflow?.options ?? options)
  return promise
}

/**
 * One query in the FIFO. A class rather than a literal of closures: the pipelined path allocates one object
 * per query here, not one per handler (issue 14's allocation profile).
 */
class QueryRequest<R> implements Request {
  resolve!: (result: QueryResult<R> | Promise<QueryResult<R>>) => void
  reject!: (error: unknown) => void
  readonly #core: ConnectionCore
  readonly #plan: Plan
  readonly #values: readonly (string | Uint8Array | null)[]
  readonly #collector: ResultCollector
  readonly #overflow: Overflow | undefined
  /** What a stale cached statement is prepared again with (a retry has none: it does not retry). */
  readonly #options: QueryOptions | undefined
  readonly #types: TypeRegistry
  /** Set when a stale failure may be retried (a retry itself has none). */
  readonly #cache: StatementCache | undefined
  /** The cached text it runs (a retry keeps it, so later stale copies of it may still retry behind it). */
  readonly #text: string | undefined

  constructor(
    core: ConnectionCore,
    plan: Plan,
    values: readonly (string | Uint8Array | null)[],
    collector: ResultCollector,
    overflow: Overflow | undefined,
    options: QueryOptions | undefined,
    types: TypeRegistry,
    cache: StatementCache | undefined,
    text: string | undefined,
  ) {
    this.#core = core
    this.#plan = plan
    this.#values = values
    this.#collector = collector
    this.#overflow = overflow
    this.#options = options
    this.#types = types
    this.#cache = cache
    this.#text = text
  }

  /** The cached text a stale failure prepares again (undefined for an unnamed or prepared statement). */
  get retryText(): string | undefined {
    return this.#text
  }

  /** The named statement it binds, if any. */
  get boundName(): string | undefined {
    return this.#plan.name
  }

  /** A retry of a stale query (it does not retry again). */
  get isRetry(): boolean {
    return this.#cache === undefined && this.#text !== undefined
  }

  encode(w: FrontendWriter): void {
    this.#plan.encode(w, this.#values)
    w.sync()
  }

  handle(message: BackendMessage): boolean {
    this.#plan.observe?.(message)
    const collector = this.#collector
    if (collector.accept(message)) return false
    if (message.type !== 'ReadyForQuery') return skipMessage(this.#core, message, 'a query')
    this.#overflow?.detach()
    if (collector.error) this.#settle(collector.error, message.status)
    else this.resolve(collector.result() as QueryResult<R>)
    return true
  }

  fail(error: PgError): void {
    this.#overflow?.detach()
    this.#plan.abandon?.()
    this.reject(error)
  }

  #settle(failure: PgError, status: 'I' | 'T' | 'E') {
    const core = this.#core
    const text = this.#text
    // Behind it only the cache's Closes and queries of the same text (stale too, so they changed nothing, and
    // retried in their order): a retry runs after nothing it could see or that could see it.
    const name = this.#plan.name
    const canRetry =
      text !== undefined &&
      core.everyPendingBehind((queued) => {
        const r = queued.inner ?? queued
        if (isCacheClose(r)) return true
        // Copies bound to the same stale statement (they fail too), or retries of earlier ones.
        return r instanceof QueryRequest && r.retryText === text && (r.isRetry || r.boundName === name)
      })
    const error = this.#plan.settle ? this.#plan.settle(failure, status) : failure
    if (!(error instanceof StaleStatementError)) return this.reject(error)
    const cache = this.#cache
    // A cached statement the server no longer has, or whose result type changed: prepare it again, once
    // (the retry has no cache to retry with, so its own stale failure rejects with the server's error) —
    // unless other requests were sent behind it: they already ran, and a retry now would run after them.
    if (cache === undefined || text === undefined || !canRetry) return this.reject(error.original)
    const again = cache.plan(core, text, true, this.#types)
    this.resolve(run<R>(core, again, this.#values, this.#options, this.#types, undefined, text))
  }
}

type Overflow = ReturnType<typeof withOverflow>

/**
 * The messages of a statement's answer that no result collector takes: passed over (a COPY TO STDOUT's data
 * is not a result), a COPY FROM STDIN refused; anything else is a protocol error. Returns false (not done).
 */
export function skipMessage(core: ConnectionCore, message: BackendMessage, what: string): false {
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
    default:
      throw protocolError(`unexpected ${message.type} in response to ${what}`)
  }
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

export function refuseBadOptions(statement: string | Statement, options: QueryOptions | undefined) {
  checkTypeOptions(options?.types)
  if (options?.types !== undefined && statement instanceof Statement) throw typesOnStatementError()
  isArrayRowMode(options?.rowMode)
  const max = options?.maxResultBytes
  if (max !== undefined && !(typeof max === 'number' && Number.isSafeInteger(max) && max > 0))
    throw usageError(`maxResultBytes must be a positive whole number of bytes, found ${String(max)}`)
}

export function encodeParams(
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
