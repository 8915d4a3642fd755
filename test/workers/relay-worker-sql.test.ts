/**
 * `POST /sql` on the relay Worker (proxy/src/runtime/worker.ts) in real workerd: a connection per request
 * over `cloudflare:sockets` to the test PostgreSQL, the same policy as upgrades (no dial for a refused
 * target), and a Hyperdrive binding that serves its target's requests made with its own login.
 */
import { fileURLToPath } from 'node:url'
import type { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { bundleWorker, startWorker, type Trap, trap } from './helpers.ts'

const pg = inject('pg')
const { user, password } = pg.roles.scram

let mf: Miniflare
let sqlUrl: string
/** The same Worker without EDGEPG_BEHIND_TLS. */
let plainMf: Miniflare
let plainSqlUrl: string
/** Allowed, not PostgreSQL: the Hyperdrive binding's target (only the binding reaches the database). */
let hyperdriveTarget: Trap
/** Not in the allowlist. */
let unlisted: Trap

const dbUrl = (address = `${pg.host}:${pg.port}`, pass = password) =>
  `postgres://${user}:${encodeURIComponent(pass)}@${address}/${pg.database}`

beforeAll(async () => {
  ;[hyperdriveTarget, unlisted] = await Promise.all([trap(), trap()])
  const script = await bundleWorker(
    fileURLToPath(new URL('../../proxy/src/runtime/worker.ts', import.meta.url)),
  )
  const started = await startWorker(script, {
    port: 0,
    bindings: {
      EDGEPG_ALLOW: `${pg.host}:${pg.port},127.0.0.1:${hyperdriveTarget.port}`,
      EDGEPG_ALLOW_MISSING_ORIGIN: 'always',
      EDGEPG_LOG_LEVEL: 'error',
      EDGEPG_SQL_TIMEOUT: '3000',
      // workerd here serves plain http on loopback: say a TLS proxy is in front, as a self-hosted one would.
      EDGEPG_BEHIND_TLS: 'true',
      EDGEPG_HYPERDRIVE: `HYPERDRIVE=127.0.0.1:${hyperdriveTarget.port}`,
    },
    hyperdrives: { HYPERDRIVE: dbUrl() },
  })
  mf = started.mf
  sqlUrl = new URL('/sql', started.url).href
  const plain = await startWorker(script, {
    port: 0,
    bindings: {
      EDGEPG_ALLOW: `${pg.host}:${pg.port}`,
      EDGEPG_ALLOW_MISSING_ORIGIN: 'always',
      EDGEPG_LOG_LEVEL: 'error',
    },
  })
  plainMf = plain.mf
  plainSqlUrl = new URL('/sql', plain.url).href
})

afterAll(async () => {
  await mf?.dispose()
  await plainMf?.dispose()
  hyperdriveTarget?.server.close()
  unlisted?.server.close()
})

function post(connectionString: string, body: unknown, headers: Record<string, string> = {}, url = sqlUrl) {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'neon-connection-string': connectionString,
      'neon-raw-text-output': 'true',
      'neon-array-mode': 'true',
      ...headers,
    },
    body: JSON.stringify(body),
  })
}

describe('POST /sql on the relay Worker', () => {
  it("answers a query with parameters in Neon's format", async () => {
    const response = await post(dbUrl(), {
      query: 'select $1::int + 1 as n, $2::text as t',
      params: ['41', 'x'],
    })
    expect(response.status).toBe(200)
    const result = (await response.json()) as Record<string, unknown>
    expect(result).toMatchObject({ command: 'SELECT', rowCount: 1, rows: [['42', 'x']], rowAsArray: true })
    expect(
      (result.fields as { name: string; dataTypeID: number }[]).map((f) => [f.name, f.dataTypeID]),
    ).toEqual([
      ['n', 23],
      ['t', 25],
    ])
  })

  it('runs a batch in one transaction and answers a PostgreSQL error with 400 and its fields', async () => {
    const batch = await post(
      dbUrl(),
      {
        queries: [
          { query: 'select 1 as a', params: [] },
          { query: "select current_setting('transaction_read_only') as ro", params: [] },
        ],
      },
      { 'neon-batch-read-only': 'true' },
    )
    expect(batch.status).toBe(200)
    const { results } = (await batch.json()) as { results: { rows: unknown[][] }[] }
    expect(results.map((r) => r.rows)).toEqual([[['1']], [['on']]])

    const failed = await post(dbUrl(), { query: 'select 1/0 as x', params: [] })
    expect(failed.status).toBe(400)
    expect(await failed.json()).toMatchObject({
      code: '22012',
      message: 'division by zero',
      severity: 'ERROR',
    })
  })

  it('refuses credentials over plain http without EDGEPG_BEHIND_TLS, whatever cf-connecting-ip claims', async () => {
    for (const ip of [undefined, '127.0.0.1', '::1']) {
      const response = await post(
        dbUrl(),
        { query: 'select 1', params: [] },
        ip ? { 'cf-connecting-ip': ip } : {},
        plainSqlUrl,
      )
      expect(response.status).toBe(403)
      expect(((await response.json()) as { message: string }).message).toContain('behindTls')
    }
  })

  it('refuses a target outside the allowlist as an upgrade is refused, without dialing it', async () => {
    const response = await post(dbUrl(`127.0.0.1:${unlisted.port}`), { query: 'select 1', params: [] })
    expect(response.status).toBe(403)
    expect(await response.text()).toBe('forbidden')
    expect(unlisted.connections).toBe(0)
  })

  it("goes through the Hyperdrive binding for its target with the binding's login, and direct otherwise", async () => {
    const before = hyperdriveTarget.connections
    const response = await post(dbUrl(`127.0.0.1:${hyperdriveTarget.port}`), {
      query: 'select current_user as u',
      params: [],
    })
    expect(response.status).toBe(200)
    expect(((await response.json()) as { rows: unknown[][] }).rows).toEqual([[user]])
    expect(hyperdriveTarget.connections).toBe(before)

    // Another password does not ride the binding's login: it is dialed as named (here: not a database).
    const other = await post(dbUrl(`127.0.0.1:${hyperdriveTarget.port}`, 'not-the-password'), {
      query: 'select 1',
      params: [],
    })
    expect(other.status).toBeGreaterThanOrEqual(400)
    expect(hyperdriveTarget.connections).toBe(before + 1)

    // Settings the binding's login would drop (a role, a search_path) do not ride it either.
    for (const query of ['options=-c%20role%3Dnobody', 'application_name=x']) {
      const withSettings = await post(`${dbUrl(`127.0.0.1:${hyperdriveTarget.port}`)}?${query}`, {
        query: 'select current_user as u',
        params: [],
      })
      expect(withSettings.status).toBeGreaterThanOrEqual(400)
    }
    expect(hyperdriveTarget.connections).toBe(before + 3)
  })
})
