/**
 * The half of a connection that sends requests. Each method is a line or three that calls its flow; the
 * flows live one per file (`query.ts`, `prepare.ts`, `simple-query.ts`).
 */
import { type BatchOptions, type BatchQuery, batch } from './batch.ts'
import { CancelToken, destroyAndCancel } from './cancel.ts'
import { type CopySource, copyIn, copyOut } from './copy.ts'
import type { ConnectionCore } from './core.ts'
import { type PgError, rowCountError, timeoutError, usageError } from './errors.ts'
import { queryRaw, type StreamOptions } from './portal-stream.ts'
import { closeStatement, prepare, type Statement } from './prepare.ts'
import { type QueryOptions, query } from './query.ts'
import type { QueryResult, Row } from './result.ts'
import { type RequestOptions, timeoutProblem } from './send.ts'
import { type SimpleQueryOptions, simpleQuery } from './simple-query.ts'
import { begin, run, type Transaction, type TransactionOptions } from './transaction.ts'

/**
 * Builds requests and hands them to the connection. Cheap to share between concurrent callers: requests
 * pipeline, and each gets its own response.
 *
 * @example
 * ```ts
 * const { rows } = await client.query('select $1::int + 1 as n', [41])
 * const user = await client.queryOne('select * from users where id = $1', [id])
 * const count = await client.execute('delete from sessions where expires < now()')
 * const people = await client.sql`select * from people where name = ${name}`
 * ```
 */
export class Client {
  readonly #core: ConnectionCore
  #revoked: PgError | undefined
  /** The transaction begun through this client (one at a time), and whether a BEGIN is on its way. */
  #transaction: Transaction | undefined
  #isBeginning = false

  /** @internal */
  constructor(core: ConnectionCore) {
    this.#core = core
  }

  /** @internal The pool revokes a leased client on release: every later call rejects with `error`. */
  revoke(error: PgError): void {
    this.#revoked = error
  }

  /** Runs one statement with parameters `$1…$n`; resolves with rows, fields, command and row count. */
  query<R = Row>(
    statement: string | Statement,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<QueryResult<R>> {
    if (this.#revoked) return Promise.reject(this.#revoked)
    return query<R>(this.#core, statement, params, options)
  }

  /**
   * Runs the statements as one pipeline ended by one Sync, as libpq's pipeline mode does: one round trip and
   * one implicit transaction — all committed when every one succeeds; at the first error the rest are skipped,
   * the ones before it are rolled back, and the call rejects with that error. Resolves with one result per
   * statement. (Separate `query` calls pipeline too, but each is its own transaction.) Inside an open
   * transaction they run in it.
   *
   * @example
   * ```ts
   * const [debit, credit] = await client.batch([
   *   ['update accounts set balance = balance - $1 where id = $2', [10, from]],
   *   ['update accounts set balance = balance + $1 where id = $2', [10, to]],
   * ])
   * ```
   */
  batch<R = Row>(queries: readonly BatchQuery[], options?: BatchOptions): Promise<QueryResult<R>[]> {
    if (this.#revoked) return Promise.reject(this.#revoked)
    return batch<R>(this.#core, queries, options)
  }

  /** Like `query`, but resolves with the only row; rejects (kind `row-count`) unless exactly one row came back. */
  async queryOne<R = Row>(
    statement: string | Statement,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<R> {
    const { rows } = await this.query<R>(statement, params, options)
    if (rows.length !== 1) throw rowCountError(`query returned ${rows.length} rows, expected exactly one`)
    return rows[0]!
  }

  /** Like `query`, but resolves with the row or null; rejects (kind `row-count`) on more than one row. */
  async queryOpt<R = Row>(
    statement: string | Statement,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<R | null> {
    const { rows } = await this.query<R>(statement, params, options)
    if (rows.length > 1) throw rowCountError(`query returned ${rows.length} rows, expected at most one`)
    return rows[0] ?? null
  }

  /** Runs one statement; resolves with the number of rows it affected (0 when the command reports none). */
  async execute(
    statement: string | Statement,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<number> {
    return (await this.query(statement, params, options)).rowCount ?? 0
  }

  /**
   * Streams rows as an async iterator, `batchSize` (1000) at a time from a portal; memory stays bounded
   * however large the result. Breaking out of the loop closes the portal. Requests made while the stream is
   * open wait until it completes. `timeout` applies to each batch, `signal` closes or cancels the stream.
   *
   * @example
   * ```ts
   * for await (const row of client.queryRaw('select * from events where day = $1', [day])) process(row)
   * ```
   */
  queryRaw<R = Row>(
    statement: string | Statement,
    params?: readonly unknown[],
    options?: StreamOptions,
  ): AsyncIterableIterator<R> {
    if (this.#revoked) return failing(this.#revoked)
    return queryRaw<R>(this.#core, statement, params, options)
  }

  /**
   * Runs several `;`-separated statements through the simple protocol; one result per statement. When one
   * fails, the promise rejects with its DatabaseError, whose `results` holds the statements completed before it.
   */
  simpleQuery(text: string, options?: SimpleQueryOptions): Promise<QueryResult[]> {
    if (this.#revoked) return Promise.reject(this.#revoked)
    return simpleQuery(this.#core, text, options)
  }

  /** Runs several `;`-separated statements (migrations, setup) and discards their results. */
  async batchExecute(text: string, options?: RequestOptions): Promise<void> {
    await this.simpleQuery(text, options)
  }

  /**
   * Runs `COPY … FROM STDIN`, streaming `source` (a `ReadableStream` or (async) iterable of bytes or strings);
   * resolves with the number of rows copied. A source that throws aborts the COPY (CopyFail): nothing is
   * copied and the connection stays usable.
   *
   * @example
   * ```ts
   * const rows = await client.copyIn('copy items (id, name) from stdin', ['1\tapple\n', '2\tpear\n'])
   * ```
   */
  copyIn(sql: string, source: CopySource, options?: RequestOptions): Promise<number> {
    if (this.#revoked) return Promise.reject(this.#revoked)
    return copyIn(this.#core, sql, source, options)
  }

  /**
   * Runs `COPY … TO STDOUT`; resolves with a `ReadableStream` of its bytes once the server started it.
   * Reading from the connection pauses while the consumer lags.
   *
   * @example
   * ```ts
   * const stream = await client.copyOut('copy items to stdout (format csv)')
   * for await (const chunk of stream) process(chunk)
   * ```
   */
  copyOut(sql: string, options?: RequestOptions): Promise<ReadableStream<Uint8Array>> {
    if (this.#revoked) return Promise.reject(this.#revoked)
    return copyOut(this.#core, sql, options)
  }

  /** Prepares a named statement; pass it to `query` and friends to skip parsing and get binary results. */
  prepare(text: string, paramTypes?: readonly number[], options?: RequestOptions): Promise<Statement> {
    if (this.#revoked) return Promise.reject(this.#revoked)
    return prepare(this.#core, text, paramTypes, options)
  }

  /** Deallocates a prepared statement on the server. */
  closeStatement(statement: Statement, options?: RequestOptions): Promise<void> {
    if (this.#revoked) return Promise.reject(this.#revoked)
    return closeStatement(this.#core, statement, options)
  }

  /**
   * A tagged template: every `${value}` becomes a parameter, never text in the SQL.
   * Resolves with the rows. Calling it as a plain function is refused.
   */
  sql<R = Row>(strings: TemplateStringsArray, ...values: unknown[]): Promise<R[]> {
    if (!Array.isArray(strings) || !Array.isArray((strings as TemplateStringsArray).raw)) {
      return Promise.reject(
        usageError(
          // biome-ignore lint/suspicious/noTemplateCurlyInString: the message shows the tagged-template syntax
          'sql must be used as a tagged template (client.sql`select ${x}`); use client.query(text, params)',
        ),
      )
    }
    let text = strings[0]!
    for (let i = 1; i < strings.length; i++) text += `$${i}${strings[i]}`
    return this.query<R>(text, values).then((r) => r.rows)
  }

  /**
   * Runs `body` in a transaction: commits when it returns, rolls back when it throws. Nest with
   * `tx.transaction(…)` (savepoints).
   *
   * @example
   * ```ts
   * const id = await client.transaction(async (tx) => {
   *   const { id } = await tx.queryOne<{ id: number }>('insert into orders (total) values ($1) returning id', [42])
   *   await tx.execute('update stock set n = n - 1 where item = $1', ['book'])
   *   return id
   * }, { isolation: 'serializable' })
   * ```
   */
  transaction<T>(body: (tx: Transaction) => Promise<T>, options?: TransactionOptions): Promise<T> {
    return run(this.begin(options), body)
  }

  /**
   * Begins a transaction explicitly; finish it with `commit()` or `rollback()`. One at a time per client: a
   * second one while the first is open would run inside it, so it is refused (kind `usage`).
   */
  begin(options?: TransactionOptions): Promise<Transaction> {
    if (this.#revoked) return Promise.reject(this.#revoked)
    // A closed client says so (the BEGIN is refused as closed); an open transaction is the other refusal.
    if (!this.isClosed && (this.#isBeginning || this.#transaction?.state === 'open')) {
      return Promise.reject(
        usageError(
          'a transaction is already open on this client: its statements would run inside it. Give each ' +
            'concurrent transaction its own connection (pool.transaction(), or a client from pool.connect()), ' +
            'and nest with tx.transaction()',
        ),
      )
    }
    this.#isBeginning = true
    return begin(this, options).then(
      (tx) => {
        this.#isBeginning = false
        this.#transaction = tx
        return tx
      },
      (error: unknown) => {
        this.#isBeginning = false
        throw error
      },
    )
  }

  /**
   * A token that cancels whatever statement this connection is running, from anywhere (it opens a second
   * connection with the same transport and sends a CancelRequest). The statement fails with 57014.
   */
  cancelToken(): CancelToken {
    if (this.#revoked) throw this.#revoked
    const core = this.#core
    return new CancelToken(core.processId, core.secretKey, core.transport, core.target)
  }

  /**
   * Sends Terminate after everything queued; in-flight requests still get their answers, and the socket
   * closes once they have. With `timeout`, whatever is still unanswered by then rejects (kind `timeout`) and
   * the connection is destroyed, so a shutdown never waits on a server that went silent.
   */
  end(options?: { timeout?: number }): Promise<void> {
    if (this.#revoked) return Promise.reject(this.#revoked)
    const problem = timeoutProblem(options?.timeout)
    if (problem) return Promise.reject(usageError(problem))
    const ended = this.#core.end()
    return options?.timeout === undefined ? ended : endWithin(this.#core, ended, options.timeout)
  }

  /** True once the connection is closing or closed. */
  get isClosed(): boolean {
    return this.#core.state === 'closing' || this.#core.state === 'closed'
  }

  /** The server's transaction status after the last response: `idle`, `transaction` or `failed`. */
  get transactionStatus(): 'idle' | 'transaction' | 'failed' {
    return this.#core.transactionStatus
  }
}

/**
 * `end({ timeout })`: what is still unanswered when `timeout` passes is given up, the connection destroyed,
 * and the statement it may still run cancelled (nothing else can run on that backend any more).
 */
function endWithin(core: ConnectionCore, ended: Promise<void>, timeout: number): Promise<void> {
  const timer = setTimeout(() => {
    const waiting = core.pendingCount
    const plural = waiting === 1 ? '' : 's'
    destroyAndCancel(
      core,
      timeoutError(
        `end() gave up after ${timeout} ms with ${waiting} request${plural} still waiting for the server; ` +
          'the connection was destroyed',
      ),
    )
  }, timeout)
  return ended.finally(() => clearTimeout(timer))
}

/** An iterator whose first step rejects with `error`. */
function failing<R>(error: PgError): AsyncIterableIterator<R> {
  return {
    next: () => Promise.reject(error),
    return: () => Promise.resolve({ value: undefined, done: true }),
    [Symbol.asyncIterator]() {
      return this
    },
  }
}
