/** The pool's options: what each means, its default, and their validation before any I/O. */
import type { ConnectOptions } from './connect.ts'
import { configError } from './errors.ts'
import { MAX_TIMER_MS } from './send.ts'

export interface PoolOptions extends ConnectOptions {
  /** Most connections open at once. Default 10. */
  max?: number
  /** Close a connection idle this long, in ms; 0 keeps idle connections. Default 10 000. */
  idleTimeout?: number
  /** Close a connection once it is this old and idle, in ms; 0 = no limit. Default 30 minutes. */
  maxLifetime?: number
  /** How long `connect()` or a query waits for a connection before it rejects (kind `timeout`), in ms. Default 10 000. */
  acquireTimeout?: number
  /** Most callers waiting for a connection; the next one is refused at once. Default 10 000. */
  maxWaiting?: number
  /** Most `pool.query()` calls in flight on one connection (pipelining); 1 = one at a time. Default 16. */
  pipeline?: number
  /** A connection idle longer than this, in ms, is checked with an empty query before it is handed out. Default 30 000. */
  healthCheckAfter?: number
  /**
   * After a connection fails to open, the next attempt waits 100 ms, doubling up to this many ms (callers
   * wait for it within `acquireTimeout`); a success resets it. 0 retries at once. Default 5 000.
   */
  openBackoffMax?: number
}

export interface PoolStats {
  /** Open connections. */
  size: number
  /** Open connections with nothing in flight and no lease. */
  idle: number
  /** Connections leased through `pool.connect()` (or released and still finishing their requests). */
  leased: number
  /** Connections being opened. */
  opening: number
  /** Callers waiting for a connection. */
  waiting: number
}

/** Every limit, resolved. */
export type PoolLimits = Required<Omit<PoolOptions, keyof ConnectOptions>>

const DEFAULTS: PoolLimits = {
  max: 10,
  idleTimeout: 10_000,
  maxLifetime: 30 * 60_000,
  acquireTimeout: 10_000,
  maxWaiting: 10_000,
  pipeline: 16,
  healthCheckAfter: 30_000,
  openBackoffMax: 5_000,
}

/** Splits `options` into the pool's limits (validated) and what each connection is opened with. */
export function resolvePoolOptions(options: PoolOptions): {
  limits: PoolLimits
  connectOptions: ConnectOptions
} {
  if (!options || typeof options.transport !== 'function') {
    throw configError(
      'transport is missing: pass { transport: nodeSocket() } or { transport: webSocket({ url }) }',
    )
  }
  const {
    max,
    idleTimeout,
    maxLifetime,
    acquireTimeout,
    maxWaiting,
    pipeline,
    healthCheckAfter,
    openBackoffMax,
    ...connectOptions
  } = options
  const limits: PoolLimits = {
    max: count(max ?? DEFAULTS.max, 'max', 1),
    idleTimeout: count(idleTimeout ?? DEFAULTS.idleTimeout, 'idleTimeout', 0),
    maxLifetime: count(maxLifetime ?? DEFAULTS.maxLifetime, 'maxLifetime', 0),
    acquireTimeout: count(acquireTimeout ?? DEFAULTS.acquireTimeout, 'acquireTimeout', 1),
    maxWaiting: count(maxWaiting ?? DEFAULTS.maxWaiting, 'maxWaiting', 0),
    pipeline: count(pipeline ?? DEFAULTS.pipeline, 'pipeline', 1),
    healthCheckAfter: count(healthCheckAfter ?? DEFAULTS.healthCheckAfter, 'healthCheckAfter', 0),
    openBackoffMax: count(openBackoffMax ?? DEFAULTS.openBackoffMax, 'openBackoffMax', 0),
  }
  return { limits, connectOptions }
}

function count(value: number, field: string, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > MAX_TIMER_MS) {
    throw configError(
      `${field} must be an integer from ${min} to ${MAX_TIMER_MS}, found ${JSON.stringify(value)}`,
    )
  }
  return value
}
