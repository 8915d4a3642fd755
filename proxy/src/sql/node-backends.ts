/**
 * The Node relay's `/sql` connections: a {@link SqlPool} keyed by {@link backendKey}, whose connections are
 * opened with `@edgepg/client` over TCP to the address the policy admitted (DNS pinned; the CancelRequest of
 * a cancelled statement goes there too), text results, no statement cache (a pooled session keeps no
 * prepared statements a `DISCARD ALL` would have to find).
 *
 * A connection destroyed while busy (a statement ignored its CancelRequest, and the client gave up on it)
 * may leave its backend running: before its slot frees, the backend is terminated with
 * `pg_terminate_backend` over a second connection with the same login to the same address (a role may
 * terminate its own backends), and watched until it is gone from `pg_stat_activity`, for up to
 * {@link TERMINATE_WINDOW_MS}.
 */
import { type Client, type ConnectOptions, connect, isDatabaseError, type Transport } from '@edgepg/client'
import { nodeSocket } from '@edgepg/client/node'
import type { RelayConfig } from '../config.ts'
import { type Logger, silentLogger } from '../log.ts'
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

/** How long the relay tries to terminate a backend it gave up on; past it the slot frees anyway (logged). */
export const TERMINATE_WINDOW_MS = 10_000
/** The pause between two looks at `pg_stat_activity`, and between two attempts to connect. */
const TERMINATE_RETRY_MS = 100
/** How the terminating connection shows in `pg_stat_activity`. */
export const TERMINATOR_APPLICATION_NAME = 'edgepg-relay-terminate'

/** The login and address a pooled connection was opened with (it holds the password: memory only). */
interface Login {
  connectionString: string
  dial: { host: string; port: number }
}

/** {@link SqlBackends} with the pool's counts and shutdown. */
export interface NodeSqlBackends extends SqlBackends {
  stats(): SqlPoolStats
  /** Ends every pooled connection; resolves once all backends are gone. */
  close(): Promise<void>
}

/**
 * Builds the pool. `transport` opens the TCP connections (tests inject one that records each dial); it is
 * called with the admitted address. `logger` hears of a backend that could not be terminated.
 */
export function createNodeBackends(
  config: RelayConfig,
  metrics: RelayMetrics,
  transport: Transport = nodeSocket(),
  logger: Logger = silentLogger,
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
      const login: Login = { connectionString: opener.connectionString, dial: opener.dial }
      return openConnection(login, config.connectTimeout).then(([client, connection]) => ({
        client,
        connection,
        async ensureGone() {
          const pid = connection.processId
          if (pid === 0) return
          const address = `${login.dial.host}:${login.dial.port}`
          if (await terminateBackend(pid, login)) {
            logger.log('info', 'sql backend terminated', { pid, address })
          } else {
            logger.log('warn', 'sql backend not terminated', { pid, address, window: TERMINATE_WINDOW_MS })
          }
        },
      }))
    },
  )

  /** Room above `sqlMaxResponseBytes` for a message's own framing. */
  const MESSAGE_MARGIN = 64 * 1024

  /** A connection with `login`, to exactly its address. */
  function openConnection(login: Login, connectTimeout: number) {
    const { dial } = login
    const options: ConnectOptions = {
      transport: (target) => transport({ ...target, host: dial.host, port: dial.port }),
      connectTimeout,
      statementCacheSize: 0,
      types: { raw: true },
      // One message (a row, an error) that could not fit in an answer is refused from its header, before
      // its body is buffered: the request gets the 507 and the relay never holds it.
      maxMessageSize: config.sqlMaxResponseBytes + MESSAGE_MARGIN,
    }
    return connect(login.connectionString, options).then(([client, connection]) => {
      // Neon's API returns no notices or notifications, and they may carry the request's data: drop them
      // rather than let the client print them to the relay's output.
      connection.on('notice', ignore)
      connection.on('notification', ignore)
      connection.on('error', ignore)
      return [client, connection] as const
    })
  }

  /**
   * Terminates backend `pid` and resolves true once `pg_stat_activity` no longer shows it; false when that
   * did not happen within {@link TERMINATE_WINDOW_MS}, or the server refused (the pid is not the role's).
   */
  async function terminateBackend(pid: number, login: Login): Promise<boolean> {
    const until = performance.now() + TERMINATE_WINDOW_MS
    const left = () => Math.max(1, Math.ceil(until - performance.now()))
    const terminator = { ...login, connectionString: renamed(login.connectionString) }
    while (performance.now() < until) {
      let opened: Awaited<ReturnType<typeof openConnection>>
      try {
        opened = await openConnection(terminator, Math.min(config.connectTimeout, left()))
      } catch {
        await sleep(Math.min(TERMINATE_RETRY_MS, left()))
        continue
      }
      const [client, connection] = opened
      const running = connection.run().catch(ignore)
      try {
        // Every name schema-qualified: the request's own search_path cannot put a look-alike in front.
        await client.query('select pg_catalog.pg_terminate_backend($1::pg_catalog.int4)', [pid], {
          timeout: left(),
        })
        while (performance.now() < until) {
          const { rows } = await client.query(
            'select 1 from pg_catalog.pg_stat_activity where pid operator(pg_catalog.=) $1::pg_catalog.int4',
            [pid],
            { timeout: left() },
          )
          if (rows.length === 0) return true
          await sleep(Math.min(TERMINATE_RETRY_MS, left()))
        }
        return false
      } catch (error) {
        // 42501 (another role's backend by now) will not change: stop asking. Any other error: try again
        // within the window, the slot stays held.
        if (isDatabaseError(error) && error.code === '42501') return false
      } finally {
        await client.end({ timeout: 1000 }).catch(ignore)
        await running
      }
      await sleep(Math.min(TERMINATE_RETRY_MS, left()))
    }
    return false
  }
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

/**
 * `connectionString` for the terminating connection: its own `application_name`, and without the request's
 * `options` (`-c search_path=…` and any other setting the request chose); unchanged if it is no URL.
 */
function renamed(connectionString: string): string {
  try {
    const url = new URL(connectionString)
    url.searchParams.delete('options')
    url.searchParams.set('application_name', TERMINATOR_APPLICATION_NAME)
    return url.href
  } catch {
    return connectionString
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
