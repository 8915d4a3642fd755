/**
 * Kysely on edgepg in real workerd: a Worker makes its pool and Kysely per request, runs an insert … returning
 * and a select in one transaction over cloudflare:sockets and through the relay, and ends the pool inside the
 * request with `db.destroy()`.
 */
import { fileURLToPath } from 'node:url'
import type { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { sessionsNamed, waitFor } from '../pg-admin.ts'
import { bundleWorker, startWorker } from './helpers.ts'

const pg = inject('pg')
const { user, password } = pg.roles.scram
const databaseUrl = `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${pg.host}:${pg.port}/${pg.database}?application_name=kysely_worker`

let mf: Miniflare

beforeAll(async () => {
  const script = await bundleWorker(fileURLToPath(new URL('./fixtures/kysely-worker.ts', import.meta.url)))
  ;({ mf } = await startWorker(script, {
    bindings: { DATABASE_URL: databaseUrl, RELAY_URL: inject('relayUrl') },
  }))
})

afterAll(async () => {
  await mf?.dispose()
})

/** How many pools the Worker's `db.destroy()` calls have ended so far. */
async function destroyedPools(): Promise<number> {
  const response = await mf.dispatchFetch('http://worker.test/destroyed')
  return ((await response.json()) as { destroyed: number }).destroyed
}

describe('kysely in a Worker', () => {
  for (const route of ['/tcp', '/relay']) {
    it(`runs insert … returning and a select in one transaction over ${route}, per request`, async () => {
      const before = await destroyedPools()
      // Two requests in a row: each makes and ends its own pool (a pool kept across requests would fail).
      for (const bodies of ['a,b', 'c']) {
        const response = await mf.dispatchFetch(`http://worker.test${route}?bodies=${bodies}`)
        const body = await response.json()
        const notes = bodies.split(',').map((text, i) => ({ id: i + 1, body: text }))
        expect({ status: response.status, body }).toEqual({
          status: 200,
          body: { inserted: notes, selected: notes, inTransaction: true },
        })
      }
      // db.destroy() ran to its end inside each request, and no session of the Worker's pools stays open.
      await waitFor(async () => (await destroyedPools()) === before + 2)
      await waitFor(async () => (await sessionsNamed('kysely_worker')) === 0)
    })
  }
})
