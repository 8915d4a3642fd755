/**
 * `npm start`: a real PostgreSQL 18 (embedded, SCRAM) on loopback and the edgepg relay in front of it (only
 * that database allowed), serving the playground at `/`. With DATABASE_URL set, relays to that database
 * instead and starts no PostgreSQL. Ctrl-C stops everything (the embedded data directory is removed).
 */
import { startRelay } from '@edgepg/proxy'
import { createPlayground } from '../playground/server.ts'
import { freePort, type PgServer, startEmbeddedPostgres } from './embedded-pg.ts'

const external = process.env.DATABASE_URL
let server: PgServer | undefined
let databaseUrl: string
if (external) {
  databaseUrl = external
} else {
  server = await startEmbeddedPostgres()
  databaseUrl = server.url(server.roles.scram)
}
const target = new URL(databaseUrl.replace(/^postgres(ql)?:/, 'http:'))
const address = `${target.hostname}:${target.port || 5432}`
const host = process.env.EDGEPG_HOST ?? '127.0.0.1'
// The playground page connects back to this relay, so its Origin must be known before the relay listens.
const port = Number(process.env.EDGEPG_PORT ?? 8080) || (await freePort(host))
const pageUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
const user = decodeURIComponent(target.username)
const mount = await createPlayground({
  server: address,
  user,
  // Only the throwaway embedded database's password goes to the page; a DATABASE_URL's stays in this process.
  password: server ? decodeURIComponent(target.password) : undefined,
  database: decodeURIComponent(target.pathname.slice(1)) || user,
})
const relay = await startRelay(
  {
    host,
    port,
    allow: [address],
    allowedOrigins: host === '127.0.0.1' ? [pageUrl, `http://localhost:${port}`] : [pageUrl],
    // A local development relay: Node and CLI clients send no Origin header.
    allowMissingOrigin: 'always',
    logLevel: 'warn',
  },
  { mount },
)

const version = server ? (await server.admin('show server_version'))[0]?.server_version : undefined
console.log(`${server ? `PostgreSQL ${version} is running (embedded, SCRAM-SHA-256).` : `Relaying to DATABASE_URL (${address}).`}

  playground:   ${pageUrl}/
  DATABASE_URL=${databaseUrl}
  relay:        ${relay.wsUrl}   (allows only ${address})
  HTTP queries: ${relay.url}/sql   (POST, Neon's format, pooled connections)

Connect through the relay, from another shell in this folder:

  RELAY_URL='${relay.wsUrl}' DATABASE_URL='${databaseUrl}' node --conditions=source examples/relay.ts

or in code:

  const [client, connection] = await connect('${databaseUrl}', { transport: webSocket({ url: '${relay.wsUrl}' }) })
  connection.run(); console.log((await client.query('select now()')).rows)

One query over HTTP, one round trip:

  curl -s ${relay.url}/sql -H 'content-type: application/json' -H 'Neon-Connection-String: ${databaseUrl}' \\
    -d '{"query":"select now() as now, $1::int as n","params":[42]}'

or with examples/http.ts:

  SQL_URL='${relay.url}/sql' DATABASE_URL='${databaseUrl}' node --conditions=source examples/http.ts

or in code:

  const db = http('${databaseUrl}', { url: '${relay.url}/sql' })   // from '@edgepg/client/http'
  console.log(await db.query('select now() as now, $1::int as n', [42]))

Press Ctrl-C to stop.`)

let isStopping = false
const stop = async () => {
  if (isStopping) return
  isStopping = true
  await relay.shutdown()
  await server?.stop()
  process.exit(0)
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
