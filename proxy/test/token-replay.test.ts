// Relay attack case (adversary F6): a one-shot token (with a `jti`) is spent only by an upgrade that is
// admitted. A refusal for any later reason (wrong Origin, another target) must not burn it; a token used
// twice, even concurrently, is still admitted once.
import { mintToken } from '@edgepg/proxy'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pgAddress, startTestRelay, type TestRelay, upgrade } from './helpers.ts'

const SECRET = 'f6-secret-f6-secret-f6-secret-f6'
const ORIGIN = 'https://app.example'
const now = () => Math.floor(Date.now() / 1000)
let relay: TestRelay
beforeAll(async () => {
  relay = await startTestRelay({
    tokenSecrets: [SECRET],
    allowMissingOrigin: 'never',
    allowedOrigins: [ORIGIN],
    targets: { main: { host: '127.0.0.1', port: Number(pgAddress.split(':')[1]) } },
  })
})
afterAll(() => relay.shutdown())

const oneShot = (jti: string) => mintToken(SECRET, { tgt: 'main', exp: now() + 60, jti })
const asProtocol = (token: string) => [`edgepg.token.${token}`]

describe('F6: a token id (jti) of a refused upgrade', () => {
  it('is not spent by a refusal for a wrong Origin or another target', async () => {
    const token = await oneShot('f6-refused-first')
    const main = `${relay.wsUrl}?target=main`
    expect(
      (await upgrade(main, { protocols: asProtocol(token), origin: 'https://evil.example' })).status,
    ).toBe(403)
    expect(
      (await upgrade(`${relay.wsUrl}?address=10.0.0.1:1`, { protocols: asProtocol(token), origin: ORIGIN }))
        .status,
    ).toBe(403)
    expect((await upgrade(main, { protocols: asProtocol(token), origin: ORIGIN })).status).toBe(101)
    expect((await upgrade(main, { protocols: asProtocol(token), origin: ORIGIN })).status).toBe(401)
  })

  it('is still admitted only once when two upgrades race with it', async () => {
    const token = await oneShot('f6-raced')
    const main = `${relay.wsUrl}?target=main`
    const statuses = await Promise.all(
      [0, 1, 2].map(() => upgrade(main, { protocols: asProtocol(token), origin: ORIGIN })),
    )
    expect(statuses.map((s) => s.status).sort()).toEqual([101, 401, 401])
  })
})
