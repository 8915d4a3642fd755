/**
 * Drizzle on edgepg in real workerd: a Worker makes its pool and Drizzle per request, runs an insert … returning
 * and a select in one transaction over cloudflare:sockets and through the relay, and ends the pool inside the
 * request; over `@edgepg/drizzle/http` the same work is one `db.batch` through the relay's `POST /sql`.
 */
import { fileURLToPath } from 'node:url'
import { type RunningRelay, silentLogger, startRelay } from '@edgepg/proxy'
import type { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { sessionsNamed as sessions, waitFor } from '../pg-admin.ts'
import { bundleWorker, startWorker } from './helpers.ts'

const pg = inject('pg')
const { user, password } = pg.roles.scram
const base = `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${pg.host}:${pg.port}/${pg.database}`

let mf: Miniflare
let sqlRelay: RunningRelay

beforeAll(async () => {
  sqlRelay = await startRelay(
    { port: 0, allow: [`${pg.host}:${pg.port}`], allowMissingOrigin: 'always', shutdownGrace: 1000 },
    { logger: silentLogger },
  )
  const script = await bundleWorker(fileURLToPath(new URL('./fixtures/drizzle-worker.ts', import.meta.url)))
  ;({ mf } = await startWorker(script, {
    bindings: {
      DATABASE_URL: `${base}?application_name=drizzle_worker`,
      // The relay's /sql pool keeps its sessions (that is its job): they carry another name.
      HTTP_DATABASE_URL: `${base}?application_name=drizzle_worker_http`,
      RELAY_URL: inject('relayUrl'),
      SQL_URL: `${sqlRelay.url}/sql`,
    },
  }))
})

afterAll(async () => {
  await mf?.dispose()
  await sqlRelay?.shutdown()
})

/** How many pools the Worker has ended so far. */
async function endedPools(): Promise<number> {
  const response = await mf.dispatchFetch('http://worker.test/ended')
  return ((await response.json()) as { ended: number }).ended
}

/** Two requests in a row over `route`: each answers its own notes, written and read in one transaction. */
async function expectTwoRequests(route: string): Promise<void> {
  for (const bodies of ['a,b', 'c']) {
    const response = await mf.dispatchFetch(`http://worker.test${route}?bodies=${bodies}`)
    const body = await response.json()
    const notes = bodies.split(',').map((text, i) => ({ id: i + 1, body: text }))
    expect({ status: response.status, body }).toEqual({
      status: 200,
      body: { inserted: notes, selected: notes, inTransaction: true },
    })
  }
}

describe('drizzle in a Worker', () => {
  for (const route of ['/tcp', '/relay']) {
    it(`runs insert … returning and a select in one transaction over ${route}, with a pool per request`, async () => {
      const before = await endedPools()
      // A pool kept across requests would fail in workerd: each request makes and ends its own.
      await expectTwoRequests(route)
      // pool.end() ran to its end inside each request, and no session of the Worker's pools stays open.
      await waitFor(async () => (await endedPools()) === before + 2)
      await waitFor(async () => (await sessions('drizzle_worker')) === 0)
    })
  }

  it('runs the same work as one db.batch over @edgepg/drizzle/http through the relay’s /sql', async () => {
    await expectTwoRequests('/http')
  })
})
