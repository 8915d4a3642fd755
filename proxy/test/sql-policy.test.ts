// Relay attack cases Q5 and Q6 (../shared/attack-cases.md) on POST /sql, against a real relay on loopback:
// a denied target, a missing or bad token, a disallowed Origin (also on the preflight) get the same status
// and body as a refused WebSocket upgrade, and nothing is dialed; CORS echoes only listed origins; plain
// HTTP from a non-loopback peer is refused unless behindTls.
import { mintToken } from '@edgepg/proxy'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pgAddress, pgUrl, postSql, sleep, startTestRelay, type TestRelay, upgrade } from './helpers.ts'

const SECRET = 'q5-secret-q5-secret-q5-secret-q5-secret'
const ORIGIN = 'https://app.example.com'
const now = () => Math.floor(Date.now() / 1000)
const withAddress = (address: string) => pgUrl().replace(pgAddress, address)

describe('Q5: refusals are the WebSocket gate’s, and nothing is dialed', () => {
  let relay: TestRelay
  beforeAll(async () => {
    relay = await startTestRelay({
      tokenSecrets: [SECRET],
      allowedOrigins: [ORIGIN],
      allowMissingOrigin: 'with-token',
    })
  })
  afterAll(() => relay.shutdown())
  const token = (claims: { tgt?: string; jti?: string } = {}) =>
    mintToken(SECRET, { tgt: pgAddress, exp: now() + 60, ...claims })
  const bearer = async (claims?: { tgt?: string; jti?: string }) => ({
    authorization: `Bearer ${await token(claims)}`,
    origin: ORIGIN,
  })

  it('a target outside the allowlist: 403 forbidden, as the upgrade for that address', async () => {
    for (const address of [
      `127.0.0.1:1`,
      '10.0.0.1:5432',
      '[::1]:5432',
      'example.com:5432',
      '169.254.169.254:80',
    ]) {
      const tokenFor = await bearer({ tgt: address })
      const answer = await postSql(
        relay,
        { query: 'select 1' },
        { connectionString: withAddress(address), headers: tokenFor },
      )
      const ws = await upgrade(`${relay.wsUrl}?address=${encodeURIComponent(address)}`, {
        origin: ORIGIN,
        protocols: [`edgepg.token.${await token({ tgt: address })}`],
      })
      expect({ status: answer.status, body: answer.text }, address).toEqual(ws)
      expect(answer).toMatchObject({ status: 403, text: 'forbidden' })
    }
    expect(relay.dials).toEqual([])
  })

  it('no token, a bad token, a token for another target: the upgrade’s 401 and 403', async () => {
    const cases: [Record<string, string>, number, string][] = [
      [{ origin: ORIGIN }, 401, 'unauthorized'],
      [{ origin: ORIGIN, authorization: 'Bearer not.a.token' }, 401, 'unauthorized'],
      [
        {
          origin: ORIGIN,
          authorization: `Bearer ${await mintToken('x'.repeat(40), { tgt: pgAddress, exp: now() + 60 })}`,
        },
        401,
        'unauthorized',
      ],
      [{ origin: ORIGIN, authorization: `Basic ${btoa('a:b')}` }, 401, 'unauthorized'],
      [{ origin: ORIGIN, authorization: `Bearer ${await token({ tgt: '127.0.0.1:2' })}` }, 403, 'forbidden'],
    ]
    for (const [headers, status, text] of cases) {
      const answer = await postSql(relay, { query: 'select 1' }, { headers })
      expect({ status: answer.status, text: answer.text }, JSON.stringify(headers)).toEqual({ status, text })
    }
    expect(await upgrade(`${relay.wsUrl}?address=${pgAddress}`, { origin: ORIGIN })).toEqual({
      status: 401,
      body: 'unauthorized',
    })
    expect(relay.dials).toEqual([])
  })

  it('a disallowed Origin: the upgrade’s 403, on the request and on its preflight', async () => {
    for (const origin of ['https://evil.example.com', 'null', 'https://app.example.com.evil.io']) {
      const answer = await postSql(relay, { query: 'select 1' }, { headers: { ...(await bearer()), origin } })
      expect({ status: answer.status, body: answer.text }).toEqual(
        await upgrade(`${relay.wsUrl}?address=${pgAddress}`, {
          origin,
          protocols: [`edgepg.token.${await token()}`],
        }),
      )
      expect(answer).toMatchObject({ status: 403, text: 'forbidden' })
      expect(answer.headers.get('access-control-allow-origin')).toBeNull()
      const preflight = await fetch(`${relay.url}/sql`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'neon-connection-string',
        },
      })
      expect(preflight.status).toBe(403)
      expect(await preflight.text()).toBe('forbidden')
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull()
    }
    expect(relay.dials).toEqual([])
  })

  it('a listed Origin: the preflight allows POST and the neon headers, the answer echoes the origin', async () => {
    const preflight = await fetch(`${relay.url}/sql`, {
      method: 'OPTIONS',
      headers: { origin: ORIGIN, 'access-control-request-method': 'POST' },
    })
    expect(preflight.status).toBe(204)
    expect(Object.fromEntries(preflight.headers)).toMatchObject({
      'access-control-allow-origin': ORIGIN,
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers': expect.stringContaining('neon-batch-isolation-level'),
      vary: 'Origin',
    })
    const answer = await postSql(relay, { query: 'select 1 as n' }, { headers: await bearer() })
    expect(answer.status).toBe(200)
    expect(answer.headers.get('access-control-allow-origin')).toBe(ORIGIN)
    expect(answer.headers.get('vary')).toBe('Origin')
    const error = await postSql(relay, { query: 'selec' }, { headers: await bearer() })
    expect(error.status).toBe(400)
    expect(error.headers.get('access-control-allow-origin')).toBe(ORIGIN)
  })

  it('a one-shot token is spent only by a request that passed every check, and only once', async () => {
    const headers = await bearer({ jti: 'q5-once' })
    expect(
      (
        await postSql(
          relay,
          { query: 'select 1' },
          { headers: { ...headers, origin: 'https://evil.example.com' } },
        )
      ).status,
    ).toBe(403)
    expect((await postSql(relay, { query: 'select 1' }, { headers })).status).toBe(200)
    expect(await postSql(relay, { query: 'select 1' }, { headers })).toMatchObject({
      status: 401,
      text: 'unauthorized',
    })
  })
})

describe('in-flight limits', () => {
  it('hold a per-IP slot per request while it runs, refuse past it as the upgrade does, and free it after', async () => {
    const relay = await startTestRelay({ maxConnectionsPerIp: 2 })
    try {
      const slow = [0, 1].map(() => postSql(relay, { query: 'select pg_sleep(0.4)' }))
      while (relay.sqlBackends!.stats().inUse < 2) await sleep(10)
      expect(await postSql(relay, { query: 'select 1' })).toMatchObject({ status: 503, text: 'unavailable' })
      const ws = await upgrade(`${relay.wsUrl}?address=${pgAddress}`)
      expect(ws).toEqual({ status: 503, body: 'unavailable' })
      for (const answer of await Promise.all(slow)) expect(answer.status).toBe(200)
      expect((await postSql(relay, { query: 'select 1' })).status).toBe(200)
    } finally {
      await relay.shutdown()
    }
  })
})

describe('Q6: credentials over plain http from a non-loopback peer', () => {
  const remote = { peerAddress: () => '203.0.113.9' }

  it('are refused with a message naming behindTls, before anything is dialed', async () => {
    const relay = await startTestRelay({}, undefined, remote)
    try {
      const answer = await postSql(relay, { query: 'select 1' })
      expect(answer.status).toBe(403)
      expect(answer.body.message).toContain('behindTls')
      expect(relay.dials).toEqual([])
    } finally {
      await relay.shutdown()
    }
  })

  it('are accepted with behindTls, and from a loopback peer without it', async () => {
    const behind = await startTestRelay({ behindTls: true }, undefined, remote)
    const local = await startTestRelay()
    try {
      expect((await postSql(behind, { query: 'select 1' })).status).toBe(200)
      expect((await postSql(local, { query: 'select 1' })).status).toBe(200)
    } finally {
      await behind.shutdown()
      await local.shutdown()
    }
  })

  it('behind a trusted proxy, are judged by the client the proxy names, not by the proxy', async () => {
    // The proxy itself is on loopback; the client it forwards is not, and nothing says that hop was TLS.
    const relay = await startTestRelay({ trustProxy: true })
    try {
      const forwarded = await postSql(
        relay,
        { query: 'select 1' },
        { headers: { 'x-forwarded-for': '203.0.113.9' } },
      )
      expect(forwarded.status).toBe(403)
      expect(forwarded.body.message).toContain('behindTls')
      expect(relay.dials).toEqual([])
      const local = await postSql(
        relay,
        { query: 'select 1' },
        { headers: { 'x-forwarded-for': '127.0.0.1' } },
      )
      expect(local.status).toBe(200)
    } finally {
      await relay.shutdown()
    }
    const behind = await startTestRelay({ trustProxy: true, behindTls: true })
    try {
      const answer = await postSql(
        behind,
        { query: 'select 1' },
        { headers: { 'x-forwarded-for': '203.0.113.9' } },
      )
      expect(answer.status).toBe(200)
    } finally {
      await behind.shutdown()
    }
  })

  it('count the mapped and plain loopback spellings as loopback, and nothing else', async () => {
    const { isLoopbackAddress } = await import('../src/runtime/node.ts')
    for (const address of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1'])
      expect(isLoopbackAddress(address)).toBe(true)
    for (const address of ['192.0.2.2', '::ffff:192.0.2.2', 'fe80::1', '0.0.0.0', '', undefined, 'localhost'])
      expect(isLoopbackAddress(address)).toBe(false)
  })
})
