/**
 * The Worker relay's `/sql` connections. A Worker cannot keep a pool across requests (each isolate is
 * short-lived, and there are many), so each request opens one connection over `cloudflare:sockets` to the
 * address the policy admitted, and ends it once answered. What pools on Cloudflare is Hyperdrive: with a
 * Hyperdrive binding configured for a target, a request whose connection string names that target and
 * presents exactly the binding's user, password and database goes through the binding (Hyperdrive keeps the
 * logged-in origin connections warm); any other request — another login, or any connection-string parameter
 * — connects directly and PostgreSQL authenticates it.
 */
import { type ConnectOptions, connect } from '@edgepg/client'
import { type CloudflareConnect, cloudflareSocket } from '@edgepg/client/cloudflare'
import type { RelayConfig } from '../config.ts'
import type { ConnectionTarget } from '../sql/request.ts'
import type { SqlBackends, SqlLease } from '../sql/route.ts'
import type { HyperdriveRoute } from './worker-config.ts'

export interface WorkerBackendOptions {
  config: RelayConfig
  /** Keeps the Worker alive until a connection has ended (the request's `ctx.waitUntil`). */
  waitUntil(promise: Promise<unknown>): void
  hyperdrive?: HyperdriveRoute | undefined
  /** Opens sockets; default `connect` from `cloudflare:sockets`. */
  connect?: CloudflareConnect | undefined
}

/**
 * One connection per request, dialing the admitted address (or the Hyperdrive binding for its target and
 * login). Text results and no statement cache, as on Node; the connection is never reused.
 */
export function createWorkerBackends(options: WorkerBackendOptions): SqlBackends {
  const { config, hyperdrive } = options
  const sockets = cloudflareSocket(options.connect ? { connect: options.connect } : {})
  return {
    async acquire(connection, signal): Promise<SqlLease> {
      const route = hyperdrive && rides(hyperdrive, connection) ? hyperdrive.binding : undefined
      const dial = route ? { host: route.host, port: route.port } : connection.dial
      const connectOptions: ConnectOptions = {
        transport: (target) => sockets({ ...target, host: dial.host, port: dial.port }),
        connectTimeout: config.connectTimeout,
        statementCacheSize: 0,
        types: { raw: true },
      }
      if (signal.aborted) throw signal.reason
      const [client, conn] = await connect(
        route ? route.connectionString : connection.connectionString,
        connectOptions,
      )
      options.waitUntil(conn.run().catch(() => {}))
      let isReleased = false
      return {
        client,
        release() {
          if (isReleased) return
          isReleased = true
          options.waitUntil(client.end({ timeout: 1000 }).catch(() => {}))
        },
      }
    },
  }
}

/** Whether the request names the binding's target with the binding's own login (compared in constant time). */
function rides(route: HyperdriveRoute, connection: ConnectionTarget): boolean {
  if (connection.address.toLowerCase() !== route.address.toLowerCase()) return false
  // The binding logs in with its own settings: a request that asks for others (`options=-c role=…`,
  // `application_name`, `require_auth`, …) would silently lose them there, so it connects directly.
  if (Object.keys(connection.parameters).length > 0) return false
  const { binding } = route
  // Every comparison runs, so the time taken says nothing about which part differed.
  const same =
    equal(connection.user, binding.user) &
    equal(connection.password ?? '', binding.password) &
    equal(connection.database, binding.database)
  return same === 1
}

const encoder = new TextEncoder()

/** 1 when `a` and `b` are the same string, else 0; time depends on the lengths only. */
function equal(a: string, b: string): number {
  const x = encoder.encode(a)
  const y = encoder.encode(b)
  let difference = x.length ^ y.length
  for (let i = 0; i < Math.max(x.length, y.length); i++) difference |= (x[i] ?? 0) ^ (y[i] ?? 0)
  return difference === 0 ? 1 : 0
}
