/**
 * The example Worker (examples/worker) in real workerd: it imports @edgepg/client by its package exports and
 * reaches the test PostgreSQL over cloudflare:sockets and through the test relay over a WebSocket.
 */
import { fileURLToPath } from 'node:url'
import type { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { bundleWorker, startWorker } from './helpers.ts'

const pg = inject('pg')
const { user, password } = pg.roles.scram
const databaseUrl = `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${pg.host}:${pg.port}/${pg.database}`

let mf: Miniflare

beforeAll(async () => {
  const script = await bundleWorker(
    fileURLToPath(new URL('../../examples/worker/src/index.ts', import.meta.url)),
  )
  ;({ mf } = await startWorker(script, {
    bindings: { DATABASE_URL: databaseUrl, RELAY_URL: inject('relayUrl') },
  }))
})

afterAll(async () => {
  await mf?.dispose()
})

/** What the example Worker answers: rows, or an error with its kind (and SQLSTATE for server errors). */
interface Answer {
  rows?: Record<string, unknown>[]
  error?: { kind: string; code?: string; message: string }
}

async function get(path: string): Promise<{ status: number; body: Answer }> {
  const response = await mf.dispatchFetch(`http://worker.test${path}`)
  return { status: response.status, body: (await response.json()) as Answer }
}

describe('the example Worker', () => {
  it('logs in with SCRAM over cloudflare:sockets and answers a parameterised query with rows', async () => {
    expect(await get('/tcp?n=41')).toEqual({
      status: 200,
      body: { rows: [{ answer: 42, user: `scram-sha-256:${user}`, database: pg.database }] },
    })
  })

  it('logs in with SCRAM through the relay over a WebSocket and answers a parameterised query', async () => {
    expect(await get('/ws?n=6')).toEqual({
      status: 200,
      body: { rows: [{ answer: 7, user: `scram-sha-256:${user}`, database: pg.database }] },
    })
  })

  it('answers a failing statement with its SQLSTATE over both transports', async () => {
    for (const via of ['tcp', 'ws']) {
      const { status, body } = await get(`/error?via=${via}`)
      expect({ via, status, kind: body.error?.kind, code: body.error?.code }).toEqual({
        via,
        status: 400,
        kind: 'db',
        code: '22012',
      })
      expect(body.error?.message).toBe('division by zero')
    }
  })

  it('rejects a query on a connection nobody drives with the not-driven error instead of hanging', async () => {
    const { status, body } = await get('/not-driven')
    expect(status).toBe(500)
    expect(body.error?.kind).toBe('not-driven')
    expect(body.error?.message).toContain('connection.run()')
  })

  it('runs a pool made per request over both transports, with a transaction, ended through waitUntil', async () => {
    for (const via of ['tcp', 'ws']) {
      const response = await mf.dispatchFetch(`http://worker.test/pool?via=${via}`)
      const body = (await response.json()) as { rows: { n: number }[]; total: number; size: number }
      expect({ via, status: response.status, rows: body.rows, total: body.total }).toEqual({
        via,
        status: 200,
        rows: [10, 20, 30, 40, 50, 60].map((n) => ({ n })),
        total: 10,
      })
      expect(body.size).toBeLessThanOrEqual(3)
    }
  })
})
