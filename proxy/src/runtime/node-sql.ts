/**
 * `/sql` on Node, loaded on first use: the handler (../sql/route.ts) and the pool of connections
 * (../sql/node-backends.ts, which brings `@edgepg/client`) are imported when the first `/sql` request comes,
 * not at start-up. A relay that only relays WebSockets never loads them (about 11 MB of RSS).
 */
import type { Transport } from '@edgepg/client'
import type { RelayConfig } from '../config.ts'
import type { Gate } from '../gate.ts'
import type { Logger } from '../log.ts'
import type { RelayMetrics } from '../metrics.ts'
import type { OriginCheck } from '../policy/index.ts'
import type { NodeSqlBackends } from '../sql/node-backends.ts'
import type { SqlPoolStats } from '../sql/pool-options.ts'
import type { SqlHandler } from '../sql/route.ts'

export interface LazySqlDeps {
  config: RelayConfig
  gate: Gate
  origin: OriginCheck
  metrics: RelayMetrics
  logger: Logger
  /** Opens the pool's TCP connections (default `nodeSocket()` of `@edgepg/client/node`). */
  transport: Transport | undefined
}

/** The `/sql` handler and its pool, both loading themselves on first use. */
export interface LazySql {
  /** The pool: counts are 0 and `close()` resolves at once while nothing is loaded. */
  readonly backends: NodeSqlBackends
  readonly handle: SqlHandler
}

/** `/sql` whose modules are imported by its first request (or its first `acquire`). */
export function lazySql(deps: LazySqlDeps): LazySql {
  let loading: Promise<{ backends: NodeSqlBackends; handle: SqlHandler }> | undefined
  let loaded: NodeSqlBackends | undefined
  const load = () => {
    loading ??= (async () => {
      const [{ createNodeBackends }, { createSqlHandler }] = await Promise.all([
        import('../sql/node-backends.ts'),
        import('../sql/route.ts'),
      ])
      const { config, gate, origin, metrics, logger } = deps
      const backends = createNodeBackends(config, metrics, deps.transport, logger)
      loaded = backends
      return { backends, handle: createSqlHandler({ config, gate, origin, metrics, logger, backends }) }
    })()
    loading.catch(() => {
      loading = undefined
    })
    return loading
  }
  return {
    backends: {
      acquire: async (connection, signal) => (await load()).backends.acquire(connection, signal),
      stats: () => loaded?.stats() ?? NOTHING_LOADED(),
      close: async () => {
        if (loading !== undefined) await (await loading).backends.close()
      },
    },
    handle: async (request, peer) => (await load()).handle(request, peer),
  }
}

const NOTHING_LOADED = (): SqlPoolStats => ({ size: 0, idle: 0, inUse: 0, waiting: 0, perKey: new Map() })
