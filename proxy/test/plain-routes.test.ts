/**
 * The Node relay answers its own routes with `node:http` alone and hands the rest to the hono app, loaded on
 * first use (proxy/src/runtime/node-http.ts). These tests hold the two paths to the same answers: a relay
 * with a `mount` sends every request through the app, so its raw answers are the reference.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestRelay, type TestRelay } from './helpers.ts'
import { rawExchange } from './relay-process.ts'

/** A raw answer without its Date header (the only part that may differ between two answers). */
async function answer(port: number, request: string): Promise<string> {
  const { response } = await rawExchange(port, request)
  return response.replace(/\r\nDate: [^\r]*/i, '')
}

const get = (target: string, extra = '') =>
  `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${extra}\r\n`

const REQUESTS = [
  get('/healthz'),
  get('/healthz?probe=1&x=%zz'),
  'HEAD /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
  'HEAD /v1 HTTP/1.1\r\nHost: localhost:8080\r\nConnection: close\r\n\r\n',
  get('/v1'),
  get('/v1?address=127.0.0.1:5432'),
  get('/metrics'),
  get('/metrics', 'Authorization: Bearer wrong-token\r\n'),
  get('/'),
  get('/nope'),
  get('/healthz/'),
  get('//healthz'),
  get('/a_b-c~d/e.f'),
  get('/sql'),
  get('/%68ealthz'),
  get('/./healthz'),
  get('/v1/../healthz'),
  get('http://relay.example/healthz'),
  'GET /healthz HTTP/1.1\r\nHost: [::1]:80\r\nConnection: close\r\n\r\n',
  'GET /healthz HTTP/1.1\r\nHost: UPPER.example\r\nConnection: close\r\n\r\n',
  'POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhi',
  'DELETE /v1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
]

describe('the relay routes answered without the app', () => {
  let plain: TestRelay
  let viaApp: TestRelay
  let tokenPlain: TestRelay
  let tokenViaApp: TestRelay

  beforeAll(async () => {
    plain = await startTestRelay({ sql: false })
    viaApp = await startTestRelay({ sql: false }, undefined, { mount: () => {} })
    tokenPlain = await startTestRelay({ metricsToken: 'metrics-secret-token-0123' })
    tokenViaApp = await startTestRelay({ metricsToken: 'metrics-secret-token-0123' }, undefined, {
      mount: () => {},
    })
  })
  afterAll(async () => {
    await Promise.all([plain, viaApp, tokenPlain, tokenViaApp].map((relay) => relay?.shutdown()))
  })

  it('give the same status, headers and body as the hono app, for every request form', async () => {
    for (const request of REQUESTS) {
      const expected = await answer(viaApp.port, request)
      expect(expected).toMatch(/^HTTP\/1\.1 \d{3} /)
      expect({ request, answer: await answer(plain.port, request) }).toEqual({ request, answer: expected })
    }
  })

  it('give the same answers with a metrics token, with and without it', async () => {
    for (const request of [
      get('/metrics'),
      get('/metrics', 'Authorization: Bearer metrics-secret-token-0123\r\n'),
      get('/metrics', 'Authorization: Bearer metrics-secret-token-012X\r\n'),
      get('/healthz'),
    ]) {
      const expected = await answer(tokenViaApp.port, request)
      expect({ request, answer: await answer(tokenPlain.port, request) }).toEqual({
        request,
        answer: expected,
      })
    }
  })
})
