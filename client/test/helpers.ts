/** Helpers for integration tests against the embedded PostgreSQL started by the root global setup. */
import { type Client, type Connection, type ConnectOptions, connect, type Transport } from '@edgepg/client'
import { nodeSocket } from '@edgepg/client/node'
import { webSocket } from '@edgepg/client/websocket'
import { afterEach, inject } from 'vitest'
import { admin, waitFor } from '../../test/pg-admin.ts'

export { admin, waitFor }

export const server = inject('pg')

/** Which transport this project runs the suite over: TCP, or a WebSocket through the test relay. */
export const transportKind = inject('transport') ?? 'tcp'

/** A fresh transport of this project's kind. */
export function transport(): Transport {
  return transportKind === 'websocket' ? webSocket({ url: inject('relayUrl') }) : nodeSocket()
}

export type Role = { user: string; password: string }

export function url(role: Role = server.roles.scram, host = server.host, port = server.port): string {
  const auth = role.password
    ? `${encodeURIComponent(role.user)}:${encodeURIComponent(role.password)}`
    : encodeURIComponent(role.user)
  return `postgres://${auth}@${host}:${port}/${server.database}`
}

export interface Opened {
  client: Client
  connection: Connection
  /** `connection.run()`, already observed so a failure never becomes an unhandled rejection. */
  done: Promise<void>
}

/** Connects over TCP and drives the connection. */
export async function open(
  options: Partial<ConnectOptions> & { role?: Role; url?: string } = {},
): Promise<Opened> {
  const { role, url: target, ...rest } = options
  const [client, connection] = await connect(target ?? url(role), { transport: transport(), ...rest })
  const done = connection.run()
  done.catch(() => {})
  return { client, connection, done }
}

/**
 * `open` for a test file: every connection it opens is ended after each test (ending one a test already
 * ended or broke is fine).
 */
export function openEach(): (options?: Parameters<typeof open>[0]) => Promise<Opened> {
  const opened: Opened[] = []
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((db) => db.client.end().catch(() => {})))
  })
  return async (options = {}) => {
    const result = await open(options)
    opened.push(result)
    return result
  }
}

/** Collects unhandled rejections while `body` runs (and one macrotask after). */
export async function unhandledRejections(body: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = []
  const listener = (reason: unknown) => seen.push(reason)
  process.on('unhandledRejection', listener)
  try {
    await body()
    await new Promise((r) => setTimeout(r, 50))
  } finally {
    process.off('unhandledRejection', listener)
  }
  return seen
}
