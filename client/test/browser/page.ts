/**
 * Helpers for the client tests that run inside headless Chromium (the `browser` project). Only the public
 * entries a web page would import: `@edgepg/client` and `@edgepg/client/websocket`, through the test relay.
 */
import { type Client, type Connection, type ConnectOptions, connect } from '@edgepg/client'
import { webSocket } from '@edgepg/client/websocket'
import { inject } from 'vitest'

export const server = inject('pg')
export const relayUrl = inject('relayUrl')

export type Role = { user: string; password: string }

export function url(role: Role = server.roles.scram): string {
  const auth = role.password
    ? `${encodeURIComponent(role.user)}:${encodeURIComponent(role.password)}`
    : encodeURIComponent(role.user)
  return `postgres://${auth}@${server.host}:${server.port}/${server.database}`
}

export interface Opened {
  client: Client
  connection: Connection
  /** `connection.run()`, already observed so a failure never becomes an unhandled rejection. */
  done: Promise<void>
}

/** Connects through the relay with the page's own `WebSocket` and drives the connection. */
export async function open(options: Partial<ConnectOptions> & { role?: Role } = {}): Promise<Opened> {
  const { role, ...rest } = options
  const [client, connection] = await connect(url(role), { transport: webSocket({ url: relayUrl }), ...rest })
  const done = connection.run()
  done.catch(() => {})
  return { client, connection, done }
}

/** Resolves when `check` returns true, polling every 20 ms; rejects after `timeout` ms. */
export async function waitFor(check: () => Promise<boolean>, timeout = 5000): Promise<void> {
  const deadline = Date.now() + timeout
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeout} ms`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
