// Relay attack cases S1, S2, S3, C1–C3, A1, A2 (../shared/attack-cases.md), against a real relay on loopback.
// No dial may happen for a denied request: the injected dialer records every call.
import { createHmac } from 'node:crypto'
import { mintToken } from '@edgepg/proxy'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openWs, pgAddress, startTestRelay, startupPacket, type TestRelay, upgrade } from './helpers.ts'

const SECRET = 'a-test-secret-that-is-long-enough-0123456789'
const now = () => Math.floor(Date.now() / 1000)
const url = (relay: TestRelay, query: string) => `${relay.wsUrl}?${query}`

describe('S1: addresses no allowlist entry covers', () => {
  let relay: TestRelay
  beforeAll(async () => {
    relay = await startTestRelay()
  })
  afterAll(() => relay.shutdown())

  const cases = (port: number) => [
    `127.0.0.1:${port}`,
    '127.0.0.1:1',
    '127.0.0.1:22',
    '10.0.0.1:5432',
    '192.168.1.10:5432',
    '172.16.0.1:5432',
    '[::1]:5432',
    'example.com:5432',
  ]
  it('refuses every one with the same 403 before the upgrade, and never dials', async () => {
    for (const address of [...cases(relay.port), 'not-an-address', '127.0.0.1:99999']) {
      expect(await upgrade(url(relay, `address=${encodeURIComponent(address)}`))).toEqual({
        status: 403,
        body: 'forbidden',
      })
    }
    expect(relay.dials).toEqual([])
  })

  it('allows the listed address, and dials it only after the first packet', async () => {
    const { ws, closed } = await openWs(url(relay, `address=${pgAddress}`))
    await new Promise((r) => setTimeout(r, 50))
    expect(relay.dials).toEqual([])
    ws.send(startupPacket('nobody', 'edgepg'))
    await new Promise((r) => setTimeout(r, 100))
    expect(relay.dials).toEqual([{ host: '127.0.0.1', port: Number(pgAddress.split(':')[1]) }])
    ws.close()
    await closed
  })
})

describe('S2 and A1: tokens', () => {
  let relay: TestRelay
  beforeAll(async () => {
    relay = await startTestRelay({
      tokenSecrets: [SECRET],
      tokenAudience: 'edgepg',
      targets: { main: { host: '127.0.0.1', port: Number(pgAddress.split(':')[1]) } },
    })
  })
  afterAll(() => relay.shutdown())

  const valid = () => mintToken(SECRET, { tgt: 'main', exp: now() + 60, iat: now(), aud: 'edgepg' })

  it('admits a valid token for its target, by subprotocol and by query string', async () => {
    const token = await valid()
    expect((await upgrade(url(relay, 'target=main'), { protocols: [`edgepg.token.${token}`] })).status).toBe(
      101,
    )
    expect((await upgrade(url(relay, `target=main&token=${await valid()}`))).status).toBe(101)
  })

  it('S2: answers a token for an unknown target exactly like any other denial, without dialing', async () => {
    const unknown = await mintToken(SECRET, { tgt: 'nope', exp: now() + 60, aud: 'edgepg' })
    const a = await upgrade(url(relay, 'target=nope'), { protocols: [`edgepg.token.${unknown}`] })
    const b = await upgrade(url(relay, 'target=main'), { protocols: [`edgepg.token.${unknown}`] })
    const c = await upgrade(url(relay, `address=${encodeURIComponent('10.1.1.1:5432')}`), {
      protocols: [`edgepg.token.${await valid()}`],
    })
    expect(a).toEqual({ status: 403, body: 'forbidden' })
    expect(b).toEqual(a)
    expect(c).toEqual(a)
    expect(relay.dials).toEqual([])
  })

  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const sign = (header: unknown, payload: unknown, secret = SECRET) => {
    const input = `${b64(header)}.${b64(payload)}`
    return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
  }
  const claims = { tgt: 'main', exp: now() + 60, aud: 'edgepg' }

  const bad: [string, () => Promise<string> | string][] = [
    ['an expired token', () => mintToken(SECRET, { ...claims, exp: now() - 120 })],
    ['a token that is not valid yet', () => mintToken(SECRET, { ...claims, nbf: now() + 600 })],
    ['a token for another audience', () => mintToken(SECRET, { ...claims, aud: 'other' })],
    ['alg none', () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`],
    ['HS/RS confusion (RS256 header, HMAC signature)', () => sign({ alg: 'RS256', typ: 'JWT' }, claims)],
    [
      'a bad signature',
      () => sign({ alg: 'HS256', typ: 'JWT' }, claims, 'another-secret-that-is-long-enough-000000'),
    ],
    [
      'a tampered target',
      async () => {
        const [h, , s] = (await valid()).split('.')
        return `${h}.${b64({ ...claims, tgt: 'other' })}.${s}`
      },
    ],
    ['garbage', () => 'not.a.token'],
  ]
  for (const [what, make] of bad) {
    it(`A1: refuses ${what} with 401 and no dial`, async () => {
      const token = await make()
      expect(await upgrade(url(relay, 'target=main'), { protocols: [`edgepg.token.${token}`] })).toEqual({
        status: 401,
        body: 'unauthorized',
      })
      expect(relay.dials).toEqual([])
    })
  }

  it('A1: refuses a token id (jti) used twice', async () => {
    const token = await mintToken(SECRET, { ...claims, jti: 'once-only' })
    expect((await upgrade(url(relay, 'target=main'), { protocols: [`edgepg.token.${token}`] })).status).toBe(
      101,
    )
    expect((await upgrade(url(relay, 'target=main'), { protocols: [`edgepg.token.${token}`] })).status).toBe(
      401,
    )
  })

  it('A2: never writes a token from the query string into the logs', async () => {
    const token = await valid()
    await upgrade(url(relay, `target=main&token=${token}`))
    await upgrade(url(relay, `target=nope&token=${token}`))
    await upgrade(url(relay, `target=main&token=${token}x`))
    expect(relay.logs.length).toBeGreaterThan(0)
    const signature = token.split('.')[2]!
    for (const line of relay.logs) {
      expect(line).not.toContain(signature)
      expect(line).not.toContain(token.split('.')[1]!)
    }
  })
})

describe('C1–C3: origins and cookies', () => {
  let relay: TestRelay
  beforeAll(async () => {
    relay = await startTestRelay({
      tokenSecrets: [SECRET],
      requireToken: false,
      allowedOrigins: ['https://app.example.com'],
      allowMissingOrigin: 'with-token',
    })
  })
  afterAll(() => relay.shutdown())
  const target = () => url(relay, `address=${pgAddress}`)

  it('C1: refuses a foreign, a null and a suffix-trick Origin with 403 and no dial', async () => {
    for (const origin of [
      'https://evil.example',
      'null',
      'https://app.example.com.evil.tld',
      'http://app.example.com',
    ]) {
      expect(await upgrade(target(), { origin })).toEqual({ status: 403, body: 'forbidden' })
    }
    expect(relay.dials).toEqual([])
  })

  it('C1: admits the exact allowed Origin', async () => {
    expect((await upgrade(target(), { origin: 'https://app.example.com' })).status).toBe(101)
  })

  it('C2: admits no Origin with a valid token, and refuses no Origin without one (401)', async () => {
    const token = await mintToken(SECRET, { tgt: pgAddress, exp: now() + 60 })
    expect((await upgrade(target(), { protocols: [`edgepg.token.${token}`] })).status).toBe(101)
    expect(await upgrade(target())).toEqual({ status: 401, body: 'unauthorized' })
  })

  it('C3: never takes a cookie as authentication', async () => {
    expect((await upgrade(target(), { headers: { cookie: 'session=admin; token=x' } })).status).toBe(401)
    expect(relay.dials).toEqual([])
  })
})
