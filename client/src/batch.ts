/**
 * `batch`: several statements in one pipeline ended by one Sync, as libpq's pipeline mode sends them. The
 * server runs them in one implicit transaction: all are committed when every one succeeds; at the first error
 * the rest are skipped and the ones before it are rolled back. One round trip, one ReadyForQuery, and the
 * server does a transaction's work once, not once per statement (what `query` pays for its isolation: each
 * query is its own implicit transaction, so independent promises cannot undo each other).
 *
 * Inside an open transaction the statements simply run in it (an error fails the transaction, as any
 * statement's would). Statements use the statement cache (or a prepared {@link Statement}) as `query` does.
 */
import type { ConnectionCore } from './core.ts'
import { isPgError, PgError, protocolError, usageError } from './errors.ts'
import type { Plan } from './plan.ts'
import type { Statement } from './prepare.ts'
import type { BackendMessage, FrontendWriter } from './protocol/index.ts'
import { encodeParams, planOf, type QueryOptions, refuseBadOptions, skipMessage } from './query.ts'
import type { Request } from './request.ts'
import { type QueryResult, ResultCollector, type Row } from './result.ts'
import { send } from './send.ts'
import { isCacheClose, StaleStatementError, statementCacheOf } from './statement-cache.ts'
import type { TypeRegistry } from './types/index.ts'
import { typeRegistryOf } from './types/registry.ts'

/** One statement of a batch: its text (or a prepared statement) and its parameters. */
export type BatchQuery = readonly [statement: string | Statement, params?: readonly unknown[]]

/** Options of `batch`: those of a query, for every statement in it (no `maxResultBytes`). */
export type BatchOptions = Omit<QueryOptions, 'maxResultBytes'>

type Values = (string | Uint8Array | null)[]

/** Runs `queries` as one pipeline with one Sync; resolves with one result per statement, in order. */
export function batch<R = Row>(
  core: ConnectionCore,
  queries: readonly BatchQuery[],
  options?: BatchOptions,
): Promise<QueryResult<R>[]> {
  let statements: (string | Statement)[]
  let values: Values[]
  let types: TypeRegistry
  try {
    if (!Array.isArray(queries))
      throw usageError(`batch expects an array of [text, params] queries, found ${typeof queries}`)
    if ((options as QueryOptions | undefined)?.maxResultBytes !== undefined)
      throw usageError('batch does not take maxResultBytes: give the statement its own query()')
    statements = []
    values = []
    for (let i = 0; i < queries.length; i++) {
      const query = queries[i] as unknown
      if (!Array.isArray(query))
        throw usageError(`batch query ${i + 1} must be a [text, params] array, found ${typeof query}`)
      const [statement, params = []] = query as [string | Statement, unknown[]?]
      try {
        refuseBadOptions(statement, options)
        values.push(encodeParams(statement, params))
      } catch (error) {
        throw isPgError(error)
          ? new PgError(error.kind, `batch query ${i + 1}: ${error.message}`, { cause: error })
          : error
      }
      statements.push(statement)
    }
    types = options?.types === undefined ? core.types : typeRegistryOf(options.types)
  } catch (error) {
    return Promise.reject(error)
  }
  if (statements.length === 0) return Promise.resolve([])
  return run<R>(core, statements, values, options, types, false)
}

function run<R>(
  core: ConnectionCore,
  statements: (string | Statement)[],
  values: Values[],
  options: BatchOptions | undefined,
  types: TypeRegistry,
  isRetry: boolean,
): Promise<QueryResult<R>[]> {
  // Evictions while the batch is planned close their statements behind it: it may bind them itself.
  const cache = statementCacheOf(core)
  cache?.holdCloses()
  try {
    // A retry prepares each text anew once; a second use of it in the batch binds what the first prepares.
    const renewed = new Set<string | Statement>()
    const plans = statements.map((statement) => {
      const isRenewed = isRetry && !renewed.has(statement)
      renewed.add(statement)
      const plan = planOf(core, statement, types, isRenewed)
      // A DISCARD ALL in the batch: the statements after it prepare anew (the Closes wait for the batch).
      if (typeof statement === 'string') cache?.sending(core, statement)
      return plan
    })
    const request = new BatchRequest<R>(core, plans, values, types, options?.rowMode)
    const promise = new Promise<QueryResult<R>[]>((resolve, reject) => {
      request.resolve = resolve
      request.reject = reject
    })
    // The first statement was a cached one gone stale: nothing ran, so run the batch once more.
    if (!isRetry) request.retry = () => run<R>(core, statements, values, options, types, true)
    send(core, request, options)
    return promise
  } finally {
    cache?.releaseCloses(core)
  }
}

/** The batch in the FIFO: each statement's messages go to its own collector, up to the one ReadyForQuery. */
class BatchRequest<R> implements Request {
  resolve!: (results: QueryResult<R>[] | Promise<QueryResult<R>[]>) => void
  reject!: (error: unknown) => void
  retry: (() => Promise<QueryResult<R>[]>) | undefined
  readonly #core: ConnectionCore
  readonly #plans: Plan[]
  readonly #values: Values[]
  readonly #collectors: ResultCollector[]
  /** The statement whose answer is being read; past the last once every one completed. */
  #at = 0
  /** The statement the server failed (the rest were skipped), if any. */
  #failedAt = -1

  constructor(
    core: ConnectionCore,
    plans: Plan[],
    values: Values[],
    types: TypeRegistry,
    rowMode: BatchOptions['rowMode'],
  ) {
    this.#core = core
    this.#plans = plans
    this.#values = values
    const limits = rowMode === undefined ? undefined : { rowMode }
    this.#collectors = plans.map((plan) => new ResultCollector(types, plan.decoder, limits))
  }

  encode(w: FrontendWriter): void {
    for (let i = 0; i < this.#plans.length; i++) this.#plans[i]!.encode(w, this.#values[i]!)
    w.sync()
  }

  handle(message: BackendMessage): boolean {
    if (message.type === 'ReadyForQuery') {
      this.#finish(message.status)
      return true
    }
    const at = this.#at
    if (at >= this.#plans.length || this.#failedAt >= 0)
      throw protocolError(`unexpected ${message.type} after the last statement of a batch`)
    this.#plans[at]!.observe?.(message)
    const collector = this.#collectors[at]!
    switch (message.type) {
      case 'ErrorResponse':
        collector.accept(message)
        this.#failedAt = at
        return false
      case 'CommandComplete':
      case 'EmptyQueryResponse':
        collector.accept(message)
        this.#at++
        return false
    }
    if (collector.accept(message)) return false
    return skipMessage(this.#core, message, 'a batch')
  }

  fail(error: PgError): void {
    for (const plan of this.#plans) plan.abandon?.()
    this.reject(error)
  }

  #finish(status: 'I' | 'T' | 'E') {
    const failedAt = this.#failedAt
    // Read before settle(): closing a stale statement queues a request behind this one.
    const isAlone = this.#core.everyPendingBehind((r) => isCacheClose(r.inner ?? r))
    // Statements the server skipped never ran: a Parse among them must not leave a name behind.
    for (let i = failedAt >= 0 ? failedAt + 1 : this.#at; i < this.#plans.length; i++)
      this.#plans[i]!.abandon?.()
    if (failedAt >= 0) {
      const plan = this.#plans[failedAt]!
      const failure = this.#collectors[failedAt]!.error!
      const error = plan.settle ? plan.settle(failure, status) : failure
      if (!(error instanceof StaleStatementError)) return this.reject(error)
      // Only when the stale statement was the first (the ones before it may have done what a rollback does
      // not undo: a COMMIT, an advisory lock, nextval) and nothing was sent behind the batch (it already ran).
      const canRetry = this.retry !== undefined && failedAt === 0 && isAlone
      return canRetry ? this.resolve(this.retry!()) : this.reject(error.original)
    }
    if (this.#at < this.#plans.length)
      return this.reject(
        protocolError(
          `the server ended a batch of ${this.#plans.length} statements after ${this.#at} of them, without an error`,
        ),
      )
    // A column that failed to decode: the server completed (and committed) the batch; the call still rejects.
    const decodeError = this.#collectors.find((c) => c.error)?.error
    if (decodeError) return this.reject(decodeError)
    this.resolve(this.#collectors.map((c) => c.result() as QueryResult<R>))
  }
}
