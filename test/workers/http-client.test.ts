/**
 * `@edgepg/client/http` in real workerd: a Worker makes its queries per request through a relay on a real
 * loopback port (the Node relay's pooled `/sql`), with the same values and errors as the wire client.
 */
import { fileURLToPath } from 'node:url'
import { type RunningRelay, silentLogger, startRelay } from '@edgepg/proxy'
import type { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { bundleWorker, startWorker } from './helpers.ts'

const pg = inject('pg')
const { user, password } = pg.roles.scram

let mf: Miniflare
let relay: RunningRelay

beforeAll(async () => {
  relay = await startRelay(
    { port: 0, allow: [`${pg.host}:${pg.port}`], allowMissingOrigin: 'always', shutdownGrace: 1000 },
    { logger: silentLogger },
  )
  const script = await bundleWorker(fileURLToPath(new URL('./fixtures/http-worker.ts', import.meta.url)))
  ;({ mf } = await startWorker(script, {
    bindings: {
      DATABASE_URL: `postgres://${user}:${encodeURIComponent(password)}@${pg.host}:${pg.port}/${pg.database}`,
      SQL_URL: `${relay.url}/sql`,
    },
  }))
})

afterAll(async () => {
  await mf?.dispose()
  await relay?.shutdown()
})

const call = async (path: string) => {
  const response = await mf.dispatchFetch(`http://worker.test${path}`)
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

describe('http() in a Worker', () => {
  it('queries per request through the relay and decodes as the wire client does', async () => {
    for (const n of [41, 1, -5]) {
      expect(await call(`/?n=${n}`)).toEqual({
        status: 200,
        body: { n: n + 1, big: '9007199254740993', isBigInt: true, at: '2024-01-02T03:04:05.000Z' },
      })
    }
  })

  it('rejects with the DatabaseError of the statement', async () => {
    expect(await call('/error')).toMatchObject({
      status: 500,
      body: { name: 'DatabaseError', code: '22012', message: 'division by zero' },
    })
  })

  it('runs a transaction with its options', async () => {
    expect((await call('/batch')).body).toEqual([[{ a: 1 }], [{ ro: 'on' }]])
  })
})
