/**
 * `npm start`: a real PostgreSQL 18 (embedded, SCRAM) on loopback, and the connection string to reach it.
 * Stops and removes its data directory on Ctrl-C.
 */
import { startEmbeddedPostgres } from './embedded-pg.ts'

const server = await startEmbeddedPostgres()
const url = server.url(server.roles.scram)
console.log(`PostgreSQL ${(await server.admin('show server_version'))[0]?.server_version} is running (SCRAM-SHA-256).

  DATABASE_URL=${url}

Try it from another shell, in this folder:

  DATABASE_URL='${url}' node --conditions=source examples/quick-start.ts

Press Ctrl-C to stop (the data directory is removed).`)

let isStopping = false
const stop = async () => {
  if (isStopping) return
  isStopping = true
  await server.stop()
  process.exit(0)
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
setInterval(() => {}, 1 << 30)
