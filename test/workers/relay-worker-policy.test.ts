/**
 * The relay Worker with tokens and an Origin allowlist: the same HMAC tokens (WebCrypto in workerd) and exact
 * Origin check as the Node relay, and its startup timeout.
 */

import { fileURLToPath } from 'node:url'
import { connect } from '@edgepg/client'
import { webSocket } from '@edgepg/client/websocket'
import { mintToken } from '@edgepg/proxy'
import { CloseCode, CloseReason, TOKEN_SUBPROTOCOL_PREFIX } from '@edgepg/shared'
import type { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import WebSocket from 'ws'
import { bundleWorker, startWorker } from './helpers.ts'

const pg = inject('pg')
const pgAddress = `${pg.host}:${pg.port}`
const { user, password } = pg.roles.scram
const SECRET = 'a-test-secret-that-is-long-enough-for-hs256'
const ORIGIN = 'https://app.example.test'

let mf: Miniflare
let relayUrl: string

beforeAll(async () => {
  const script = await bundleWorker(
    fileURLToPath(new URL('../../proxy/src/runtime/worker.ts', import.meta.url)),
  )
  const started = await startWorker(script, {
    port: 0,
    bindings: {
      EDGEPG_ALLOW: pgAddress,
      EDGEPG_TOKEN_SECRETS: SECRET,
      EDGEPG_ORIGIN: ORIGIN,
      EDGEPG_STARTUP_TIMEOUT: '300',
      EDGEPG_LOG_LEVEL: 'error',
    },
  })
  mf = started.mf
  relayUrl = `ws://${started.url.host}/v1`
})

afterAll(async () => {
  await mf?.dispose()
})

async function token(target = pgAddress) {
  const now = Math.floor(Date.now() / 1000)
  return mintToken(SECRET, { tgt: target, iat: now, exp: now + 60, jti: crypto.randomUUID() })
}

/** Opens a raw WebSocket; resolves with the close, or with the HTTP status when the upgrade is refused. */
function rawSession(options: { token?: string; origin?: string }) {
  return new Promise<{ status: number } | { code: number; reason: string }>((resolve) => {
    const ws = new WebSocket(
      `${relayUrl}?address=${pgAddress}`,
      options.token ? [`${TOKEN_SUBPROTOCOL_PREFIX}${options.token}`] : [],
      { perMessageDeflate: false, ...(options.origin ? { origin: options.origin } : {}) },
    )
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }))
    ws.on('unexpected-response', (_request, response) => {
      resolve({ status: response.statusCode ?? 0 })
      response.resume()
    })
    ws.on('error', () => {})
  })
}

describe('the relay Worker with tokens and origins', () => {
  it('relays a client that presents a valid token for the target', async () => {
    const [client, connection] = await connect(
      `postgres://${user}:${encodeURIComponent(password)}@${pgAddress}/${pg.database}`,
      { transport: webSocket({ url: relayUrl, token: () => token() }) },
    )
    const done = connection.run()
    expect((await client.query('select $1::int as n', [5])).rows).toEqual([{ n: 5 }])
    await client.end()
    await done
  })

  it('refuses a missing token with 401, and a token signed with another secret or for another target', async () => {
    expect(await rawSession({})).toEqual({ status: 401 })
    const now = Math.floor(Date.now() / 1000)
    const forged = await mintToken('another-secret-that-is-long-enough-to-sign', {
      tgt: pgAddress,
      exp: now + 60,
    })
    expect(await rawSession({ token: forged })).toEqual({ status: 401 })
    expect(await rawSession({ token: await token('127.0.0.1:1') })).toEqual({ status: 403 })
  })

  it('refuses a browser Origin that is not exactly on the list, even with a valid token', async () => {
    expect(await rawSession({ token: await token(), origin: 'https://evil.example.test' })).toEqual({
      status: 403,
    })
    expect(await rawSession({ token: await token(), origin: `${ORIGIN}.evil.test` })).toEqual({ status: 403 })
  })

  it('closes with the policy code when no startup packet arrives in time', async () => {
    expect(await rawSession({ token: await token(), origin: ORIGIN })).toEqual({
      code: CloseCode.policy,
      reason: CloseReason.startupTimeout,
    })
  })
})
