/**
 * Transactions: `client.transaction(async tx => …)` commits when the body returns and rolls back when it
 * throws; `client.begin()` gives explicit control; `tx.transaction(…)` nests with savepoints. A finished
 * transaction refuses further queries with a clear error.
 *
 * A transaction owns its connection while it runs: other callers sharing the same client would see their
 * statements run inside it. Borrow a connection from a pool for each transaction when callers are concurrent.
 */

import type { Client } from './client.ts'
import type { CopySource } from './copy.ts'
import type { RequestOptions } from './deadline.ts'
import { usageError } from './errors.ts'
import type { Statement } from './prepare.ts'
import type { QueryResult, Row } from './result.ts'

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

/** An open transaction (or savepoint). Its methods mirror the Client's and refuse to run once it is finished. */
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
    return this.#check().query<R>(statement, params, options)
  }

  queryOne<R = Row>(
    statement: string | Statement,
    params?: readonly unknown[],
    options?: RequestOptions,
  ): Promise<R> {
    return this.#check().queryOne<R>(statement, params, options)
  }

  queryOpt<R = Row>(
    statement: string | Statement,
    params?: readonly unknown[],
    options?: RequestOptions,
  ): Promise<R | null> {
    return this.#check().queryOpt<R>(statement, params, options)
  }

  execute(
    statement: string | Statement,
    params?: readonly unknown[],
    options?: RequestOptions,
  ): Promise<number> {
    return this.#check().execute(statement, params, options)
  }

  sql<R = Row>(strings: TemplateStringsArray, ...values: unknown[]): Promise<R[]> {
    return this.#check().sql<R>(strings, ...values)
  }

  batchExecute(text: string): Promise<void> {
    return this.#check().batchExecute(text)
  }

  copyIn(sql: string, source: CopySource, options?: RequestOptions): Promise<number> {
    return this.#check().copyIn(sql, source, options)
  }

  copyOut(sql: string, options?: RequestOptions): Promise<ReadableStream<Uint8Array>> {
    return this.#check().copyOut(sql, options)
  }

  /** Runs `body` in a savepoint: released when it returns, rolled back to when it throws. */
  transaction<T>(body: (tx: Transaction) => Promise<T>): Promise<T> {
    return run(this.savepoint(), body)
  }

  /** Opens a savepoint explicitly; commit() releases it, rollback() rolls back to it. */
  async savepoint(): Promise<Transaction> {
    const client = this.#check()
    const child = new Transaction(client, this.#depth + 1)
    await client.query(`savepoint ${child.#savepoint}`)
    this.#child = child
    return child
  }

  /** Commits (or releases the savepoint). Rejects if the server had already rolled the transaction back. */
  async commit(): Promise<void> {
    const client = this.#check()
    this.#state = 'committed'
    if (this.#savepoint) {
      await client.query(`release savepoint ${this.#savepoint}`)
      return
    }
    const { command } = await client.query('commit')
    if (command === 'ROLLBACK') {
      this.#state = 'rolled back'
      throw usageError('transaction was rolled back by the server because a statement in it failed')
    }
  }

  /** Rolls back (or rolls back to the savepoint and releases it). */
  async rollback(): Promise<void> {
    const client = this.#check()
    this.#state = 'rolled back'
    if (this.#savepoint) {
      await client.query(`rollback to savepoint ${this.#savepoint}`)
      await client.query(`release savepoint ${this.#savepoint}`)
    } else {
      await client.query('rollback')
    }
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

/** Runs `body` in `opening` (a transaction or savepoint): commit on return, rollback on throw. */
export async function run<T>(
  opening: Promise<Transaction>,
  body: (tx: Transaction) => Promise<T>,
): Promise<T> {
  const tx = await opening
  let result: T
  try {
    result = await body(tx)
  } catch (error) {
    if (tx.state === 'open') await tx.rollback().catch(() => {})
    throw error
  }
  if (tx.state === 'open') await tx.commit()
  return result
}
