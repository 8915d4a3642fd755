/**
 * Transactions: `client.transaction(async tx => …)` commits when the body returns and rolls back when it
 * throws; `client.begin()` gives explicit control; `tx.transaction(…)` nests with savepoints. A finished
 * transaction refuses further queries with a clear error.
 *
 * A transaction owns its connection while it runs: other callers sharing the same client would see their
 * statements run inside it. Borrow a connection from a pool for each transaction when callers are concurrent.
 */

import type { BatchOptions, BatchQuery } from './batch.ts'
import type { Client } from './client.ts'
import type { CopySource } from './copy.ts'
import { usageError } from './errors.ts'
import type { Statement } from './prepare.ts'
import type { QueryResult, Row } from './result.ts'

/** A request's deadline and abort signal, as the Client's methods take them. */
type RequestOptions = Parameters<Client['query']>[2]

export interface TransactionOptions {
  isolation?: 'serializable' | 'repeatable read' | 'read committed' | 'read uncommitted'
  readOnly?: boolean
  /** Only meaningful for serializable read-only transactions. */
  deferrable?: boolean
}

type State = 'open' | 'committed' | 'rolled back'

const ISOLATION = new Set(['serializable', 'repeatable read', 'read committed', 'read uncommitted'])

/** Builds `BEGIN …` from options; every part comes from a fixed list, never from user text. */
export function beginStatement(options: TransactionOptions = {}): string {
  const parts = ['begin']
  if (options.isolation !== undefined) {
    if (!ISOLATION.has(options.isolation)) throw usageError(`unknown isolation level "${options.isolation}"`)
    parts.push(`isolation level ${options.isolation}`)
  }
  if (options.readOnly !== undefined) parts.push(options.readOnly ? 'read only' : 'read write')
  if (options.deferrable !== undefined) parts.push(options.deferrable ? 'deferrable' : 'not deferrable')
  return parts.join(' ')
}

/**
 * An open transaction (or savepoint). Its methods mirror the Client's and refuse to run once it is finished.
 *
 * A transaction and its savepoints form a chain: at most one savepoint of a transaction is open at a time
 * (the newest), and a transaction refuses statements while it is open. Rolling back always works, whatever
 * savepoints are open: it ends them too (they become `rolled back`). Committing refuses while a savepoint is
 * open, because it would commit work that savepoint has not finished.
 */
export class Transaction {
  readonly #client: Client
  readonly #savepoint: string | undefined
  readonly #depth: number
  #state: State = 'open'
  #child: Transaction | undefined

  /** @internal */
  constructor(client: Client, depth = 0) {
    this.#client = client
    this.#depth = depth
    this.#savepoint = depth === 0 ? undefined : `edgepg_savepoint_${depth}`
  }

  /** `open`, `committed` or `rolled back`. */
  get state(): State {
    return this.#state
  }

  query<R = Row>(
    statement: string | Statement,
    params?: readonly unknown[],
    options?: RequestOptions,
  ): Promise<QueryResult<R>> {
    return this.#guard((client) => client.query<R>(statement, params, options))
  }

  queryOne<R = Row>(
    statement: string | Statement,
    params?: readonly unknown[],
    options?: RequestOptions,
  ): Promise<R> {
    return this.#guard((client) => client.queryOne<R>(statement, params, options))
  }

  queryOpt<R = Row>(
    statement: string | Statement,
    params?: readonly unknown[],
    options?: RequestOptions,
  ): Promise<R | null> {
    return this.#guard((client) => client.queryOpt<R>(statement, params, options))
  }

  execute(
    statement: string | Statement,
    params?: readonly unknown[],
    options?: RequestOptions,
  ): Promise<number> {
    return this.#guard((client) => client.execute(statement, params, options))
  }

  sql<R = Row>(strings: TemplateStringsArray, ...values: unknown[]): Promise<R[]> {
    return this.#guard((client) => client.sql<R>(strings, ...values))
  }

  /** See `Client.batch`: the statements run inside this transaction (an error fails it). */
  batch<R = Row>(queries: readonly BatchQuery[], options?: BatchOptions): Promise<QueryResult<R>[]> {
    return this.#guard((client) => client.batch<R>(queries, options))
  }

  batchExecute(text: string): Promise<void> {
    return this.#guard((client) => client.batchExecute(text))
  }

  copyIn(sql: string, source: CopySource, options?: RequestOptions): Promise<number> {
    return this.#guard((client) => client.copyIn(sql, source, options))
  }

  copyOut(sql: string, options?: RequestOptions): Promise<ReadableStream<Uint8Array>> {
    return this.#guard((client) => client.copyOut(sql, options))
  }

  /** Runs `body` in a savepoint: released when it returns, rolled back to when it throws. */
  transaction<T>(body: (tx: Transaction) => Promise<T>): Promise<T> {
    return run(this.savepoint(), body)
  }

  /**
   * Opens a savepoint explicitly; commit() releases it, rollback() rolls back to it. The savepoint counts as
   * open from this call on (not from when the server answered), so a commit issued meanwhile refuses.
   */
  savepoint(): Promise<Transaction> {
    let client: Client
    try {
      client = this.#check()
    } catch (error) {
      return Promise.reject(error)
    }
    const child = new Transaction(client, this.#depth + 1)
    this.#child = child
    return client.query(`savepoint ${child.#savepoint}`).then(
      () => child,
      (error: unknown) => {
        // The savepoint never existed: the transaction is free to open another (or to finish).
        child.#finish('rolled back')
        if (this.#child === child) this.#child = undefined
        throw error
      },
    )
  }

  /**
   * Commits (or releases the savepoint). Refuses while a savepoint of this transaction is open. Rejects if
   * the server had already rolled the transaction back, or refuses the commit (a deferred constraint, a
   * serialization failure): the transaction is then `rolled back`. A savepoint the server cannot release
   * (the transaction is aborted) stays `open`, so it can still be rolled back to.
   */
  async commit(): Promise<void> {
    const client = this.#check()
    if (this.#child?.state === 'open') {
      throw usageError('cannot commit: a savepoint of this transaction is still open; finish it first')
    }
    this.#state = 'committed'
    if (this.#savepoint) {
      try {
        await client.query(`release savepoint ${this.#savepoint}`)
      } catch (error) {
        if (!client.isClosed && client.transactionStatus !== 'idle') this.#state = 'open'
        else this.#state = 'rolled back'
        throw error
      }
      return
    }
    let command: string
    try {
      ;({ command } = await client.query('commit'))
    } catch (error) {
      // A COMMIT that fails ends the transaction on the server (or the connection is gone with it).
      this.#state = 'rolled back'
      throw error
    }
    if (command === 'ROLLBACK') {
      this.#state = 'rolled back'
      throw usageError('transaction was rolled back by the server because a statement in it failed')
    }
  }

  /**
   * Rolls back (or rolls back to the savepoint and releases it). Works whatever savepoints are open: they
   * end with it and become `rolled back`. Rejects if the server refuses the rollback (a savepoint ended
   * behind the driver's back) or the connection fails; the transaction is finished either way.
   */
  async rollback(): Promise<void> {
    if (this.#state !== 'open') throw usageError(`transaction is ${this.#state}: start a new one`)
    const client = this.#client
    this.#finish('rolled back')
    if (this.#savepoint) {
      await client.query(`rollback to savepoint ${this.#savepoint}`)
      await client.query(`release savepoint ${this.#savepoint}`)
    } else {
      await client.query('rollback')
    }
  }

  /** @internal True when a savepoint opened in this transaction is still open. */
  get hasOpenSavepoint(): boolean {
    return this.#child?.state === 'open'
  }

  /** Marks this transaction and every savepoint open inside it finished. */
  #finish(state: State) {
    this.#state = state
    let child = this.#child
    while (child !== undefined && child.#state === 'open') {
      child.#state = state
      child = child.#child
    }
  }

  /** Runs `call` on the client, or rejects (never throws) when the transaction cannot take requests. */
  #guard<T>(call: (client: Client) => Promise<T>): Promise<T> {
    let client: Client
    try {
      client = this.#check()
    } catch (error) {
      return Promise.reject(error)
    }
    return call(client)
  }

  #check(): Client {
    if (this.#state !== 'open') throw usageError(`transaction is ${this.#state}: start a new one`)
    if (this.#child?.state === 'open')
      throw usageError('a savepoint of this transaction is still open: finish it first')
    return this.#client
  }
}

/** Begins a transaction on `client`. */
export async function begin(client: Client, options?: TransactionOptions): Promise<Transaction> {
  await client.query(beginStatement(options))
  return new Transaction(client)
}

/**
 * Runs `body` in `opening` (a transaction or savepoint): commit on return, rollback on throw.
 *
 * - A body that returns with a savepoint it opened still open is rolled back entirely, and rejects with a
 *   usage error: committing would keep work the savepoint never finished.
 * - A commit that fails with the transaction still open (a savepoint the server cannot release) is rolled
 *   back, and rejects with the commit's error.
 * - Statements the body started but did not await were written before COMMIT/ROLLBACK (requests pipeline in
 *   order), so they belong to the transaction; one started after the body returned is refused.
 * - When the rollback itself fails, the body's error is still the one thrown (retry logic branches on it,
 *   and it is usually why the rollback failed too); the rollback's error is attached to it as `suppressed`
 *   (as Java's try-with-resources does), or, when the body threw something that cannot carry a property,
 *   both are thrown in an `AggregateError`.
 */
export async function run<T>(
  opening: Promise<Transaction>,
  body: (tx: Transaction) => Promise<T>,
): Promise<T> {
  const tx = await opening
  let result: T
  try {
    result = await body(tx)
  } catch (error) {
    throw await rollbackAfter(tx, error)
  }
  if (tx.state !== 'open') return result
  if (tx.hasOpenSavepoint) {
    throw await rollbackAfter(
      tx,
      usageError(
        'the transaction body returned while a savepoint it opened was still open: rolled back everything. ' +
          'Commit or roll back every savepoint before returning',
      ),
    )
  }
  try {
    await tx.commit()
  } catch (error) {
    if (tx.state === 'open') throw await rollbackAfter(tx, error)
    throw error
  }
  return result
}

/** Rolls `tx` back after `error`; resolves with what to throw: `error`, carrying the rollback's failure. */
async function rollbackAfter(tx: Transaction, error: unknown): Promise<unknown> {
  if (tx.state !== 'open') return error
  try {
    await tx.rollback()
    return error
  } catch (rollbackError) {
    return withSuppressed(error, rollbackError)
  }
}

/** Attaches `suppressed` to `error` (non-enumerable), or wraps both when `error` cannot carry it. */
function withSuppressed(error: unknown, suppressed: unknown): unknown {
  if (
    typeof error === 'object' &&
    error !== null &&
    Object.isExtensible(error) &&
    !Object.hasOwn(error, 'suppressed')
  ) {
    Object.defineProperty(error, 'suppressed', {
      value: suppressed,
      configurable: true,
      writable: true,
      enumerable: false,
    })
    return error
  }
  const reason = suppressed instanceof Error ? suppressed.message : String(suppressed)
  return new AggregateError([error, suppressed], `transaction failed, then its rollback failed: ${reason}`)
}
