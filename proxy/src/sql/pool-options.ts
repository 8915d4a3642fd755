/** The limits of a {@link SqlPool}, their defaults and checks, and the errors it refuses an acquire with. */

/** Limits of a {@link SqlPool}; each is optional and has the default given. */
export interface SqlPoolOptions {
  /** Connections (open, opening or closing) per key. Default 10. */
  maxPerKey?: number
  /** Connections across all keys; an idle connection of another key is closed to make room. Default 100. */
  maxTotal?: number
  /** An idle connection is closed after this many ms. Default 60 000. */
  idleTimeout?: number
  /** A waiter rejects with code `pool-timeout` after this many ms. Default 5 000. */
  acquireTimeout?: number
  /** Waiters beyond this many reject at once with code `pool-full`. Default 1 000. */
  maxWaiting?: number
  /** Bound in ms on `DISCARD ALL` and on a Terminate; past it the connection is destroyed. Default 5 000. */
  resetTimeout?: number
}

/** The defaults of {@link SqlPoolOptions}. */
export const SQL_POOL_DEFAULTS: Readonly<Required<SqlPoolOptions>> = Object.freeze({
  maxPerKey: 10,
  maxTotal: 100,
  idleTimeout: 60_000,
  acquireTimeout: 5_000,
  maxWaiting: 1_000,
  resetTimeout: 5_000,
})

/** Why the pool refused an acquire: waited too long, too many waiting, or closed. */
export type SqlPoolErrorCode = 'pool-timeout' | 'pool-full' | 'pool-closed'

/** An acquire the pool itself refused (not a login failure: those reject with the server's error). */
export class SqlPoolError extends Error {
  override readonly name = 'SqlPoolError'
  readonly code: SqlPoolErrorCode

  constructor(code: SqlPoolErrorCode, message: string) {
    super(message)
    this.code = code
  }
}

/** Counts of one key or of the pool; `size` counts open, opening and closing connections (all hold slots). */
export type SqlPoolCounts = { size: number; idle: number; inUse: number; waiting: number }

/** {@link SqlPoolCounts} of the whole pool, and per key. */
export type SqlPoolStats = SqlPoolCounts & { perKey: Map<string, SqlPoolCounts> }

const MAX_TIMER_MS = 2 ** 31 - 1

/** The options with defaults filled in; a bad value throws a TypeError naming the option. */
export function checkOptions(options: SqlPoolOptions): Readonly<Required<SqlPoolOptions>> {
  const merged = { ...SQL_POOL_DEFAULTS }
  for (const name of Object.keys(SQL_POOL_DEFAULTS) as (keyof SqlPoolOptions)[]) {
    const value = options[name]
    if (value === undefined) continue
    const isTimeout = name.endsWith('Timeout')
    const min = name === 'maxWaiting' ? 0 : 1
    const max = isTimeout ? MAX_TIMER_MS : Number.MAX_SAFE_INTEGER
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new TypeError(
        `sql pool ${name} must be an integer from ${min} to ${max}${isTimeout ? ' (ms)' : ''}, found ${JSON.stringify(value)}`,
      )
    }
    merged[name] = value
  }
  return Object.freeze(merged)
}
