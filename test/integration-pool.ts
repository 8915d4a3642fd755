/**
 * What the integrations' tests share: both transports of the `integrations` project, the test role's URL and an
 * edgepg pool over either transport.
 */
import { createPool, type Pool, type PoolOptions, type Transport } from '@edgepg/client'
import { nodeSocket } from '@edgepg/client/node'
import { webSocket } from '@edgepg/client/websocket'
import { inject } from 'vitest'

/** Both transports run in the one `integrations` project. */
export const TRANSPORTS = ['tcp', 'websocket'] as const
export type TransportKind = (typeof TRANSPORTS)[number]

export function transport(kind: TransportKind): Transport {
  return kind === 'websocket' ? webSocket({ url: inject('relayUrl') }) : nodeSocket()
}

/** The test role's connection URL (SCRAM). */
export function url(): string {
  const server = inject('pg')
  const { user, password } = server.roles.scram
  return `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${server.host}:${server.port}/${server.database}`
}

/** A pool as any application makes it, over `kind`. */
export function pool(kind: TransportKind, options: Partial<PoolOptions> = {}): Pool {
  return createPool(url(), { transport: transport(kind), ...options })
}
