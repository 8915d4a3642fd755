/**
 * The bench's world: one embedded PostgreSQL 18, one relay in a child process, and a cleanup list that runs
 * on every way out (normal end, error, Ctrl-C).
 */
import { type PgServer, startEmbeddedPostgres } from '../scripts/embedded-pg.ts'
import { type Child, killAllChildren, startChild } from './children.ts'
import type { Endpoint } from './drivers.ts'

const cleanups: (() => Promise<void> | void)[] = []

/** Registers `fn` to run at exit, last registered first. */
export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn)
}

export async function cleanup(): Promise<void> {
  while (cleanups.length > 0) {
    const fn = cleanups.pop()!
    try {
      await fn()
    } catch (error) {
      console.error(`cleanup failed: ${String(error)}`)
    }
  }
  killAllChildren()
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping PostgreSQL and the relay`)
    void cleanup().finally(() => process.exit(130))
  })
}

export async function startPostgres(): Promise<PgServer> {
  const logs: string[] = []
  try {
    const server = await startEmbeddedPostgres({ log: (line) => logs.push(line) })
    onCleanup(() => server.stop())
    return server
  } catch (error) {
    console.error(logs.join('\n'))
    throw error
  }
}

/** The relay settings every bench relay shares: loopback only, limits high enough for 10,000 sessions. */
export const RELAY_CONFIG = {
  port: 0,
  allow: ['127.0.0.1/32:*'],
  allowMissingOrigin: 'always',
  maxConnections: 20_000,
  maxConnectionsPerIp: 20_000,
  shutdownGrace: 500,
}

export interface RelayChild {
  child: Child
  port: number
}

/** Starts a relay in its own process (`bench/relay-child.js`, on the built `proxy/dist`). */
export async function startRelayChild(config: Record<string, unknown> = {}): Promise<RelayChild> {
  const { child, ready } = await startChild<{ port: number }>('./relay-child.js', {
    BENCH_RELAY_CONFIG: JSON.stringify({ ...RELAY_CONFIG, ...config }),
  })
  onCleanup(() => child.stop())
  return { child, port: ready.port }
}

/** An endpoint for `role` with TCP and relay routes that may be latency proxies. */
export function endpoint(
  pg: PgServer,
  role: { user: string; password: string },
  routes: { tcpPort?: number; relayPort: number },
): Endpoint {
  return {
    tcp: { host: pg.host, port: routes.tcpPort ?? pg.port },
    relay: `127.0.0.1:${routes.relayPort}`,
    db: { host: pg.host, port: pg.port },
    user: role.user,
    password: role.password,
    database: pg.database,
  }
}
