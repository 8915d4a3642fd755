/**
 * A relay that only relays stays light: Node's fetch implementation (undici, brought by hono and
 * `@hono/node-server`) and the `/sql` modules load with the first request that needs them, not at start-up
 * (proxy/src/runtime/node-http.ts, node-sql.ts), and WebCrypto only when a token is checked. Checked in a child process of its own, as vitest itself
 * loads undici.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'
import { pg, pgAddress, pgUrl } from './helpers.ts'

const CHILD = fileURLToPath(new URL('./lazy-load-child.ts', import.meta.url))

function runChild(): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=source', CHILD], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PG_ADDRESS: pgAddress, PG_URL: pgUrl(pg.roles.scram) },
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString()
    })
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString()
    })
    child.once('error', reject)
    child.once('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`child exited ${code}: ${err}`)),
    )
  })
}

it('loads neither undici, WebCrypto nor the /sql pool for its own routes; undici and the pool with the first /sql request', async () => {
  const report = JSON.parse((await runChild()).trim().split('\n').at(-1)!)
  expect(report).toEqual({
    atStart: { undici: false, webCrypto: false, sqlPool: false },
    routes: [200, 200, 426, 404],
    afterRoutes: { undici: false, webCrypto: false, sqlPool: false },
    sqlStatus: 200,
    // SCRAM logins of the pool may use WebCrypto: not asserted here.
    afterSql: { undici: true, webCrypto: expect.any(Boolean), sqlPool: true },
  })
})
