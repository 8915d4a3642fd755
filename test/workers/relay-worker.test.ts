/**
 * The relay as a Worker (proxy/src/runtime/worker.ts) in real workerd, listening on a loopback port: the
 * edgepg client on Node reaches the test PostgreSQL through it, and its policy refuses before dialing.
 */
import { fileURLToPath } from 'node:url'
import { connect } from '@edgepg/client'
import { webSocket } from '@edgepg/client/websocket'
import { CloseCode, CloseReason } from '@edgepg/shared'
import type { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import WebSocket from 'ws'
import { type FaultProxy, startFaultProxy } from '../fault-proxy.ts'
import { bundleWorker, startWorker, type Trap, trap } from './helpers.ts'

const pg = inject('pg')
const { user, password } = pg.roles.scram
const MAX_PAYLOAD = 64 * 1024

let mf: Miniflare
let relayUrl: string
/** Listed in the allowlist, but not PostgreSQL. */
let listed: Trap
/** Not in the allowlist. */
let unlisted: Trap
/** PostgreSQL behind a bandwidth limit: a slow upstream for the backpressure case. */
let slowPg: FaultProxy

beforeAll(async () => {
  ;[listed, unlisted] = await Promise.all([trap(), trap()])
  slowPg = await startFaultProxy({ host: pg.host, port: pg.port }, { bandwidth: 256 * 1024 })
  const script = await bundleWorker(
    fileURLToPath(new URL('../../proxy/src/runtime/worker.ts', import.meta.url)),
  )
  const started = await startWorker(script, {
    port: 0,
    bindings: {
      EDGEPG_ALLOW: `${pg.host}:${pg.port},127.0.0.1:${listed.port},127.0.0.1:${slowPg.port}`,
      EDGEPG_ALLOW_MISSING_ORIGIN: 'always',
      EDGEPG_MAX_PAYLOAD: String(MAX_PAYLOAD),
      EDGEPG_LOG_LEVEL: 'error',
    },
  })
  mf = started.mf
  relayUrl = `ws://${started.url.host}/v1`
})

afterAll(async () => {
  await mf?.dispose()
  listed?.server.close()
  unlisted?.server.close()
  await slowPg?.close()
})

/** Opens a raw WebSocket; resolves with the close, or with the HTTP status when the upgrade is refused. */
function rawSession(
  address: string,
  firstBytes?: Uint8Array,
): Promise<{ status: number; body: string } | { code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${relayUrl}?address=${address}`, { perMessageDeflate: false })
    ws.on('open', () => {
      if (firstBytes) ws.send(firstBytes)
    })
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }))
    ws.on('unexpected-response', (_request, response) => {
      let body = ''
      response.on('data', (chunk: Buffer) => {
        body += chunk.toString()
      })
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }))
    })
    ws.on('error', (error) => {
      if (!error.message.startsWith('Unexpected server response')) reject(error)
    })
  })
}

describe('the relay Worker', () => {
  it('relays the edgepg client to PostgreSQL: SCRAM login, a parameterised query, a clean end', async () => {
    const [client, connection] = await connect(
      `postgres://${user}:${encodeURIComponent(password)}@${pg.host}:${pg.port}/${pg.database}`,
      { transport: webSocket({ url: relayUrl }) },
    )
    const done = connection.run()
    const { rows } = await client.query('select $1::text as greeting, system_user as "user"', ['hello'])
    expect(rows).toEqual([{ greeting: 'hello', user: `scram-sha-256:${user}` }])
    await client.end()
    await expect(done).resolves.toBeUndefined()
  })

  it('refuses a target outside the allowlist before the upgrade, as the Node relay does, and never dials it', async () => {
    expect(await rawSession(`127.0.0.1:${unlisted.port}`)).toEqual({ status: 403, body: 'forbidden' })
    // The same target spelled as an integer IPv4 is the same address, and is refused the same way.
    expect(await rawSession(`2130706433:${unlisted.port}`)).toEqual({ status: 403, body: 'forbidden' })
    expect(unlisted.connections).toBe(0)
  })

  it('closes with the policy close code before dialing when the first bytes are not PostgreSQL', async () => {
    const http = new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n')
    expect(await rawSession(`127.0.0.1:${listed.port}`, http)).toEqual({
      code: CloseCode.policy,
      reason: CloseReason.denied,
    })
    expect(listed.connections).toBe(0)
  })

  it('closes with 1009 when a message is larger than maxPayload', async () => {
    expect(await rawSession(`${pg.host}:${pg.port}`, new Uint8Array(MAX_PAYLOAD + 1))).toEqual({
      code: CloseCode.tooBig,
      reason: CloseReason.tooBig,
    })
  })

  it('serves the same HTTP app: /healthz, and 426 on /v1 without an upgrade', async () => {
    const health = await mf.dispatchFetch('http://relay.test/healthz')
    expect(await health.json()).toEqual({ status: 'ok', openSessions: expect.any(Number) })
    const plain = await mf.dispatchFetch('http://relay.test/v1')
    expect(plain.status).toBe(426)
  })
})

/** A StartupMessage as the trust role. */
function trustStartup(): Uint8Array {
  const body = Buffer.from(`user\0${pg.roles.trust.user}\0database\0${pg.database}\0\0`)
  const head = Buffer.alloc(8)
  head.writeInt32BE(body.length + 8, 0)
  head.writeInt32BE(196608, 4)
  return Buffer.concat([head, body])
}

describe('the relay Worker under backpressure', () => {
  it('bounds what it holds for a slow PostgreSQL, closing with 1009 instead of growing, since it cannot pause its client', async () => {
    const ws = new WebSocket(`${relayUrl}?address=127.0.0.1:${slowPg.port}`, { perMessageDeflate: false })
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    )
    let answered = false
    ws.on('message', () => {
      answered = true
    })
    await new Promise((resolve, reject) => {
      ws.on('open', resolve)
      ws.on('error', reject)
    })
    ws.send(trustStartup())
    await expect.poll(() => answered, { timeout: 10_000 }).toBe(true)
    // CopyData outside COPY is read and ignored by PostgreSQL: 40 MiB of it, far more than the 16 MiB bound
    // and far faster than the 256 KiB/s the upstream drains.
    const frame = Buffer.alloc(MAX_PAYLOAD)
    frame[0] = 0x64
    frame.writeInt32BE(MAX_PAYLOAD - 1, 1)
    let sent = 0
    while (sent < 40 * 1024 * 1024 && ws.readyState === WebSocket.OPEN) {
      await new Promise<void>((resolve) => ws.send(frame, () => resolve()))
      sent += frame.length
    }
    expect(await closed).toEqual({ code: CloseCode.tooBig, reason: CloseReason.tooBig })
    expect(sent).toBeGreaterThan(16 * 1024 * 1024)
  })
})
