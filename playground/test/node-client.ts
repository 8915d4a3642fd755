/**
 * A node-side `@edgepg/client` connection to the test PostgreSQL as the SCRAM role the playground logs in
 * with: another backend beside the page's, for a playground test to send notifications, read a plan or check
 * an export against the server.
 */
import { type Client, type ConnectionConfig, type ConnectOptions, connect } from '@edgepg/client'
import { nodeSocket } from '@edgepg/client/node'
import { inject } from 'vitest'

/** The connection's client; `close()` ends it and waits for the connection to stop. */
export interface NodeClient {
  client: Client
  close(): Promise<void>
}

/**
 * Connects over TCP; `config` and `options` add to (or override) the server, role and transport.
 * A connection that fails while open rejects `close()`.
 */
export async function connectNodeClient(
  config: Partial<ConnectionConfig> = {},
  options: Partial<ConnectOptions> = {},
): Promise<NodeClient> {
  const pg = inject('pg')
  const [client, connection] = await connect(
    {
      host: pg.host,
      port: pg.port,
      user: pg.roles.scram.user,
      password: pg.roles.scram.password,
      database: pg.database,
      ...config,
    },
    { transport: nodeSocket(), ...options },
  )
  const done = connection.run()
  done.catch(() => {}) // awaited by close(); not an unhandled rejection before that
  return {
    client,
    async close() {
      await client.end()
      await done
    },
  }
}
