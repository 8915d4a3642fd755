import type { Pool } from '@edgepg/client'
import type { Dialect, Driver } from 'kysely'
import { EdgePgDriver } from './driver.ts'
import { PostgresDialectParts } from './postgres.ts'

/** Configuration of {@link EdgePgDialect}. */
export interface EdgePgDialectConfig {
  /**
   * The edgepg pool (`createPool(...)`) Kysely leases its connections from, or an async function returning
   * one; the function is called once, when Kysely first needs a connection (a Worker creates its pool per
   * request this way). `db.destroy()` ends the pool.
   */
  pool: Pool | (() => Promise<Pool>)
}

/**
 * Kysely's PostgreSQL dialect over edgepg:
 *
 * ```ts
 * const db = new Kysely<DB>({ dialect: new EdgePgDialect({ pool: createPool(url, { transport: nodeSocket() }) }) })
 * ```
 */
export class EdgePgDialect extends PostgresDialectParts implements Dialect {
  readonly #config: EdgePgDialectConfig

  constructor(config: EdgePgDialectConfig) {
    super()
    const pool = (config as Partial<EdgePgDialectConfig> | undefined)?.pool
    if (pool === undefined || pool === null || (typeof pool !== 'function' && typeof pool !== 'object')) {
      throw new TypeError(
        `EdgePgDialect expects { pool }, an edgepg Pool or an async function returning one; found ${pool === null ? 'null' : typeof pool}`,
      )
    }
    this.#config = { pool }
  }

  /** @internal Called by Kysely. */
  createDriver(): Driver {
    return new EdgePgDriver(this.#config.pool)
  }
}
