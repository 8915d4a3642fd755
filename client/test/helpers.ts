/** Helpers for integration tests against the embedded PostgreSQL started by the root global setup. */
import { type Client, type Connection, type ConnectOptions, connect, type Transport } from '@edgepg/client'
import { nodeSocket } from '@edgepg/client/node'
import { webSocket } from '@edgepg/client/websocket'
import pg from 'pg'
import { inject } from 'vitest'

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

/** Runs SQL as the superuser through node-postgres (the reference client). */
export async function admin<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]> {
  const client = new pg.Client({
    host: server.host,
    port: server.port,
    user: server.superuser.user,
    password: server.superuser.password,
    database: server.database,
  })
  await client.connect()
  try {
    return (await client.query(sql, params)).rows as T[]
  } finally {
    await client.end()
  }
}

/** Resolves when `check` returns true, polling every 20 ms; rejects after `timeout` ms. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeout = 5000): Promise<void> {
  const deadline = Date.now() + timeout
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeout} ms`)
    await new Promise((r) => setTimeout(r, 20))
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
