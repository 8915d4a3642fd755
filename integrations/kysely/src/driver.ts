import type { Pool } from '@edgepg/client'
import {
  type AbortableOperationOptions,
  AbortedTransactionError,
  CompiledQuery,
  createQueryId,
  type DatabaseConnection,
  type Driver,
  IdentifierNode,
  type QueryCompiler,
  RawNode,
  type TransactionSettings,
} from 'kysely'
import { EdgePgConnection } from './connection.ts'

/**
 * Kysely's `Driver` over an edgepg pool: each Kysely connection is one leased `PoolClient`, so a transaction
 * and its savepoints run on one server session; `releaseConnection` gives the lease back.
 */
export class EdgePgDriver implements Driver {
  readonly #source: Pool | (() => Promise<Pool>)
  #pool: Pool | undefined
  #destroyed = false

  constructor(pool: Pool | (() => Promise<Pool>)) {
    this.#source = pool
  }

  /** Resolves the pool (calls the pool function once, when one was given). */
  async init(): Promise<void> {
    const pool = typeof this.#source === 'function' ? await this.#source() : this.#source
    if (!pool || typeof (pool as Partial<Pool>).connect !== 'function') {
      throw new TypeError(
        `EdgePgDialect expects its pool function to return an edgepg Pool; found ${pool === null ? 'null' : typeof pool}`,
      )
    }
    this.#pool = pool
  }

  /** Leases a connection from the pool. */
  async acquireConnection(options?: AbortableOperationOptions): Promise<DatabaseConnection> {
    const pool = this.#pool
    if (!pool || this.#destroyed)
      throw new Error('kysely dialect has been destroyed: create a new Kysely instance')
    const client = await pool.connect(options?.signal ? { signal: options.signal } : {})
    if (this.#destroyed) {
      client.release()
      throw new Error('kysely dialect has been destroyed: create a new Kysely instance')
    }
    return new EdgePgConnection(client)
  }

  /** `begin`, or `start transaction` with the isolation level and access mode asked for. */
  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    let sql = 'begin'
    if (settings.isolationLevel || settings.accessMode) {
      sql = 'start transaction'
      if (settings.isolationLevel) sql += ` isolation level ${settings.isolationLevel}`
      if (settings.accessMode) sql += ` ${settings.accessMode}`
    }
    await connection.executeQuery(CompiledQuery.raw(sql))
  }

  /** `commit`; throws Kysely's `AbortedTransactionError` when the server answers ROLLBACK (aborted transaction). */
  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const command = await asEdgePg(connection).command('commit')
    if (command === 'ROLLBACK') throw new AbortedTransactionError()
  }

  /** `rollback`; a connection whose rollback fails is closed on release, never reused. */
  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const edgepg = asEdgePg(connection)
    try {
      await edgepg.command('rollback')
    } catch (error) {
      edgepg.discard()
      throw error
    }
  }

  async savepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']) {
    await connection.executeQuery(compile(savepointCommand('savepoint', name), createQueryId()))
  }

  async rollbackToSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ) {
    await connection.executeQuery(compile(savepointCommand('rollback to', name), createQueryId()))
  }

  async releaseSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ) {
    await connection.executeQuery(compile(savepointCommand('release', name), createQueryId()))
  }

  /** Gives the lease back to the pool (closing it instead when it was discarded). */
  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    asEdgePg(connection).release()
  }

  /** Ends the pool. */
  async destroy(): Promise<void> {
    this.#destroyed = true
    const pool = this.#pool
    this.#pool = undefined
    await pool?.end()
  }
}

/** `savepoint "name"` and the like; the name goes through the compiler's identifier quoting. */
function savepointCommand(command: string, name: string): RawNode {
  return RawNode.createWithChildren([RawNode.createWithSql(`${command} `), IdentifierNode.create(name)])
}

function asEdgePg(connection: DatabaseConnection): EdgePgConnection {
  if (!(connection instanceof EdgePgConnection)) {
    throw new TypeError('expected a connection acquired from EdgePgDriver; found another driver’s connection')
  }
  return connection
}
