/**
 * The Node relay's `/sql` connections: a {@link SqlPool} keyed by {@link backendKey}, whose connections are
 * opened with `@edgepg/client` over TCP to the address the policy admitted (DNS pinned; the CancelRequest of
 * a cancelled statement goes there too), text results, no statement cache (a pooled session keeps no
 * prepared statements a `DISCARD ALL` would have to find).
 */
import { type Client, type ConnectOptions, connect, type Transport } from '@edgepg/client'
import { nodeSocket } from '@edgepg/client/node'
import type { RelayConfig } from '../config.ts'
import type { RelayMetrics } from '../metrics.ts'
import { backendKey, newHmacKey } from './backend-key.ts'
import { SqlPool, type SqlPoolStats } from './pool.ts'
import type { SqlBackends, SqlLease } from './route.ts'

/** The connection a waiting request would open for its key (it holds the password: memory only). */
interface Opener {
  connectionString: string
  dial: { host: string; port: number }
  /** Requests waiting with this key; the entry is dropped at 0. */
  waiting: number
}

const ignore = () => {}

/** {@link SqlBackends} with the pool's counts and shutdown. */
export interface NodeSqlBackends extends SqlBackends {
  stats(): SqlPoolStats
  /** Ends every pooled connection; resolves once all backends are gone. */
  close(): Promise<void>
}

/**
 * Builds the pool. `transport` opens the TCP connection (tests inject one that records each dial); it is
 * called with the admitted address.
 */
export function createNodeBackends(
  config: RelayConfig,
  metrics: RelayMetrics,
  transport: Transport = nodeSocket(),
): NodeSqlBackends {
  const hmacKey = newHmacKey()
  const openers = new Map<string, Opener>()
  const pool = new SqlPool(
    {
      maxPerKey: config.sqlPoolMaxPerKey,
      maxTotal: config.sqlPoolMax,
      idleTimeout: config.sqlPoolIdleTimeout,
      acquireTimeout: config.sqlPoolAcquireTimeout,
      maxWaiting: config.sqlPoolMaxWaiting,
    },
    (key) => {
      const opener = openers.get(key)
      if (!opener) return Promise.reject(new Error('no request waits for this sql pool key'))
      metrics.sqlBackendsOpened++
      const { dial } = opener
      const options: ConnectOptions = {
        transport: (target) => transport({ ...target, host: dial.host, port: dial.port }),
        connectTimeout: config.connectTimeout,
        statementCacheSize: 0,
        types: { raw: true },
      }
      return connect(opener.connectionString, options).then(([client, connection]) => {
        // Neon's API returns no notices or notifications, and they may carry the request's data: drop them
        // rather than let the client print them to the relay's output.
        connection.on('notice', ignore)
        connection.on('notification', ignore)
        connection.on('error', ignore)
        return { client, connection }
      })
    },
  )
  metrics.sqlPool = () => pool.stats()

  return {
    async acquire(connection, signal): Promise<SqlLease> {
      const key = backendKey(
        {
          target: connection.target,
          user: connection.user,
          database: connection.database,
          password: connection.password,
          parameters: connection.parameters,
        },
        hmacKey,
      )
      const opener = openers.get(key) ?? { connectionString: '', dial: connection.dial, waiting: 0 }
      // Same key, same login: the latest request's string and pinned address serve any open for it.
      opener.connectionString = connection.connectionString
      opener.dial = connection.dial
      opener.waiting++
      openers.set(key, opener)
      try {
        const backend = await pool.acquire(key, signal)
        let isReleased = false
        return {
          client: backend.client as Client,
          release(reusable) {
            if (isReleased) return
            isReleased = true
            pool.release(backend, reusable)
          },
        }
      } finally {
        if (--opener.waiting === 0) openers.delete(key)
      }
    },
    stats: () => pool.stats(),
    close: () => pool.close(),
  }
}
