/**
 * One embedded PostgreSQL 18 for the whole test run, shared with every project through provide()/inject().
 * It is stopped and its data directory removed at the end, also when tests fail or the run is interrupted.
 */
import { type RunningRelay, silentLogger, startRelay } from '@edgepg/proxy'
import type { TestProject } from 'vitest/node'
import { type PgServer, type Role, startEmbeddedPostgres } from '../scripts/embedded-pg.ts'

export interface TestPg {
  host: string
  port: number
  database: string
  superuser: Role
  roles: PgServer['roles']
  /** The server's self-signed certificate for `localhost` (TLS is on). */
  ca: string
}

declare module 'vitest' {
  export interface ProvidedContext {
    pg: TestPg
    /** The relay in front of the test PostgreSQL (and any loopback port, for fault proxies). */
    relayUrl: string
    /** Set per project: the transport the client integration suite runs over. */
    transport: 'tcp' | 'websocket'
  }
}

let server: PgServer | undefined
let relay: RunningRelay | undefined

export default async function setup(project: TestProject) {
  const logs: string[] = []
  try {
    server = await startEmbeddedPostgres({ log: (line) => logs.push(line), tls: true })
  } catch (error) {
    console.error(logs.join('\n'))
    throw error
  }
  const { host, port, database, superuser, roles } = server
  project.provide('pg', { host, port, database, superuser, roles, ca: server.tls!.ca })
  // The relay the WebSocket run of the client suite goes through: loopback only, any port (fault proxies).
  relay = await startRelay(
    {
      port: 0,
      allow: ['127.0.0.1/32:*'],
      allowMissingOrigin: 'always',
      maxConnectionsPerIp: 1000,
      shutdownGrace: 1000,
    },
    { logger: silentLogger },
  )
  project.provide('relayUrl', relay.wsUrl)
  const stop = async () => {
    const r = relay
    relay = undefined
    await r?.shutdown()
    const s = server
    server = undefined
    await s?.stop()
  }
  process.once('SIGINT', () => void stop().finally(() => process.exit(130)))
  process.once('SIGTERM', () => void stop().finally(() => process.exit(143)))
  return stop
}
