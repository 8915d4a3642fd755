/**
 * The Prisma driver adapter over an edgepg pool: queries pipelined on the pool, interactive transactions on
 * one leased connection (with isolation levels and savepoints for nested transactions), scripts through the
 * simple protocol, and results converted from PostgreSQL's text as `@prisma/adapter-pg` converts them.
 */
import {
  type ConnectionConfig,
  createPool,
  type Pool,
  type PoolClient,
  type PoolOptions,
  type QueryResult,
} from '@edgepg/client'
import {
  DriverAdapterError,
  type IsolationLevel,
  type SqlDriverAdapter,
  type SqlDriverAdapterFactory,
  type SqlQuery,
  type SqlResultSet,
  type Transaction,
  type TransactionOptions,
} from '@prisma/driver-adapter-utils'
import { mapArgs } from './args.ts'
import { columnTypeOf, parserOf, UnsupportedNativeDataType } from './conversion.ts'
import { rethrowAsPrisma } from './errors.ts'

const ADAPTER_NAME = '@edgepg/prisma'

/** Options of {@link PrismaEdgePg}. */
export interface PrismaEdgePgOptions {
  /** The schema Prisma's queries name (`getConnectionInfo().schemaName`); default: Prisma's default, `public`. */
  schema?: string
  /**
   * Whether `prisma.$disconnect()` ends the pool. Default: `false` for a pool given as it is (it is yours, as
   * adapter-pg leaves an external pool open, and Prisma may connect again after `$disconnect`); `true` for the
   * pools the adapter makes (from a connection string, or by calling the function given), so a Worker that
   * makes its pool per request leaves nothing open.
   */
  endPoolOnDispose?: boolean
}

/** A pool, or a function that makes one when Prisma connects (a Worker makes its pool per request). */
export type PoolSource = Pool | (() => Pool | Promise<Pool>)

/**
 * Prisma's driver adapter factory for edgepg, over a pool made with any `types` (Prisma's queries ask for
 * PostgreSQL's text, which Prisma converts, as their own `types`), a function that makes one, or a connection
 * string or config with pool options.
 *
 * @example
 * ```ts
 * const pool = createPool(process.env.DATABASE_URL, { transport: nodeSocket() })
 * const prisma = new PrismaClient({ adapter: new PrismaEdgePg(pool) })
 * // or: new PrismaEdgePg(process.env.DATABASE_URL, { transport: nodeSocket() })
 * ```
 */
export class PrismaEdgePg implements SqlDriverAdapterFactory {
  readonly provider = 'postgres'
  readonly adapterName = ADAPTER_NAME
  readonly #source: PoolSource
  readonly #options: PrismaEdgePgOptions
  /** Whether `$disconnect()` ends the pool (see {@link PrismaEdgePgOptions.endPoolOnDispose}). */
  readonly #endsPool: boolean

  constructor(pool: PoolSource, options?: PrismaEdgePgOptions)
  constructor(config: string | ConnectionConfig, options: PoolOptions & PrismaEdgePgOptions)
  constructor(
    source: PoolSource | string | ConnectionConfig,
    options: PrismaEdgePgOptions & Partial<PoolOptions> = {},
  ) {
    if (source === null || source === undefined) {
      throw new TypeError(
        `expected an edgepg Pool, a function returning one, or a connection string, found ${String(source)}`,
      )
    }
    this.#options = options
    if (typeof source === 'string' || !isPoolSource(source)) {
      const { schema: _schema, endPoolOnDispose: _end, ...poolOptions } = options
      if (typeof poolOptions.transport !== 'function') {
        throw new TypeError(
          'expected options.transport with a connection string (e.g. { transport: nodeSocket() }), found none',
        )
      }
      const config = source
      const transport = poolOptions.transport
      this.#source = () => createPool(config, { ...poolOptions, transport })
    } else {
      this.#source = source
    }
    this.#endsPool = options.endPoolOnDispose ?? typeof this.#source === 'function'
  }

  /** Called by Prisma Client on its first query (and again after `$disconnect()`): the adapter over the pool. */
  async connect(): Promise<SqlDriverAdapter> {
    const pool = typeof this.#source === 'function' ? await this.#source() : this.#source
    if (pool.isEnded) {
      throw new Error(
        'the pool given to PrismaEdgePg is ended: prisma connects again after $disconnect(), so give it an ' +
          'open pool, or a function that makes one (new PrismaEdgePg(() => createPool(…)))',
      )
    }
    return new EdgePgAdapter(pool, this.#options, this.#endsPool)
  }
}

function isPoolSource(value: unknown): value is PoolSource {
  return typeof value === 'function' || (typeof value === 'object' && value !== null && 'connect' in value)
}

/** What queries run on: the pool (pipelined) or a leased client (a transaction). */
type Runner = Pool | PoolClient

/** Every value as PostgreSQL's text: what Prisma converts (see conversion.ts), whatever the pool's `types`. */
const RAW_TYPES = { raw: true }

class EdgePgQueryable {
  readonly provider = 'postgres'
  readonly adapterName = ADAPTER_NAME
  protected readonly runner: Runner

  constructor(runner: Runner) {
    this.runner = runner
  }

  /** Runs `query` and returns its rows as arrays with Prisma's column types. */
  async queryRaw(query: SqlQuery): Promise<SqlResultSet> {
    const { fields, rows } = await this.run(query)
    let columnTypes: SqlResultSet['columnTypes']
    try {
      columnTypes = fields.map((field) => columnTypeOf(field.typeOid))
    } catch (error) {
      if (error instanceof UnsupportedNativeDataType) {
        throw new DriverAdapterError({ kind: 'UnsupportedNativeDataType', type: error.type })
      }
      throw error
    }
    const parsers = fields.map((field) => parserOf(field.typeOid))
    for (const row of rows) {
      for (let i = 0; i < row.length; i++) {
        const value = row[i]
        if (value === null) continue
        const parse = parsers[i]
        if (parse) row[i] = parse(value as string)
      }
    }
    return { columnNames: fields.map((field) => field.name), columnTypes, rows }
  }

  /** Runs `query` and returns the number of rows it affected. */
  async executeRaw(query: SqlQuery): Promise<number> {
    return (await this.run(query)).rowCount ?? 0
  }

  protected async run(query: SqlQuery): Promise<QueryResult<unknown[]>> {
    const values = mapArgs(query.args, query.argTypes)
    try {
      return await this.runner.query<unknown[]>(query.sql, values, { rowMode: 'array', types: RAW_TYPES })
    } catch (error) {
      rethrowAsPrisma(error)
    }
  }
}

class EdgePgTransaction extends EdgePgQueryable implements Transaction {
  // Prisma sends BEGIN … COMMIT/ROLLBACK itself; commit() and rollback() only give the connection back.
  readonly options: TransactionOptions = { usePhantomQuery: false }
  readonly #client: PoolClient

  constructor(client: PoolClient) {
    super(client)
    this.#client = client
  }

  /** Prisma has sent COMMIT: the connection goes back to the pool (closed instead if still in a transaction). */
  async commit(): Promise<void> {
    this.#client.release()
  }

  /** Prisma has sent ROLLBACK: as {@link commit}. */
  async rollback(): Promise<void> {
    this.#client.release()
  }

  async createSavepoint(name: string): Promise<void> {
    await this.executeRaw({ sql: `SAVEPOINT ${name}`, args: [], argTypes: [] })
  }

  async rollbackToSavepoint(name: string): Promise<void> {
    await this.executeRaw({ sql: `ROLLBACK TO SAVEPOINT ${name}`, args: [], argTypes: [] })
  }

  async releaseSavepoint(name: string): Promise<void> {
    await this.executeRaw({ sql: `RELEASE SAVEPOINT ${name}`, args: [], argTypes: [] })
  }
}

const ISOLATION_LEVELS = new Set<string>([
  'READ UNCOMMITTED',
  'READ COMMITTED',
  'REPEATABLE READ',
  'SERIALIZABLE',
])

class EdgePgAdapter extends EdgePgQueryable implements SqlDriverAdapter {
  readonly #pool: Pool
  readonly #options: PrismaEdgePgOptions
  readonly #endsPool: boolean

  constructor(pool: Pool, options: PrismaEdgePgOptions, endsPool: boolean) {
    super(pool)
    this.#pool = pool
    this.#options = options
    this.#endsPool = endsPool
  }

  /** Leases a connection and opens a transaction on it (with `isolationLevel` when given). */
  async startTransaction(isolationLevel?: IsolationLevel): Promise<Transaction> {
    if (isolationLevel !== undefined && !ISOLATION_LEVELS.has(isolationLevel)) {
      throw new DriverAdapterError({ kind: 'InvalidIsolationLevel', level: String(isolationLevel) })
    }
    let client: PoolClient
    try {
      client = await this.#pool.connect()
    } catch (error) {
      rethrowAsPrisma(error)
    }
    const tx = new EdgePgTransaction(client)
    try {
      await tx.executeRaw({ sql: 'BEGIN', args: [], argTypes: [] })
      if (isolationLevel) {
        await tx.executeRaw({
          sql: `SET TRANSACTION ISOLATION LEVEL ${isolationLevel}`,
          args: [],
          argTypes: [],
        })
      }
      return tx
    } catch (error) {
      client.release(true)
      throw error
    }
  }

  /** Runs `script` (several `;`-separated statements) through the simple protocol, on one connection. */
  async executeScript(script: string): Promise<void> {
    try {
      const client = await this.#pool.connect()
      try {
        await client.batchExecute(script)
      } finally {
        client.release()
      }
    } catch (error) {
      rethrowAsPrisma(error)
    }
  }

  getConnectionInfo() {
    return { schemaName: this.#options.schema, supportsRelationJoins: true }
  }

  /** Called by `prisma.$disconnect()`: ends the pool when the adapter owns it (see `endPoolOnDispose`). */
  async dispose(): Promise<void> {
    if (this.#endsPool) await this.#pool.end()
  }
}
