// Relay attack cases R2 (a burst of concurrent upgrades against the connection limits) and R3 (the client IP
// behind a trusted proxy is the hop the proxy added, not what the client wrote).
import { mintToken } from '@edgepg/proxy'
import { afterEach, describe, expect, it } from 'vitest'
import { type Opened, openWs, pgAddress, startTestRelay, type TestRelay, upgrade } from './helpers.ts'

let relay: TestRelay | undefined
afterEach(async () => {
  await relay?.shutdown()
  relay = undefined
})

const SECRET = 'a-test-secret-that-is-long-enough-0123456789'
const BURST = 50
const LIMIT = 3

const token = () => mintToken(SECRET, { tgt: pgAddress, exp: Math.floor(Date.now() / 1000) + 60 })

/** Opens `BURST` upgrades at once, each with the token `tokenFor(i)`; returns the opened and the statuses. */
async function burst(r: TestRelay, tokenFor: (i: number) => string) {
  const attempts = await Promise.allSettled(
    Array.from({ length: BURST }, (_, i) =>
      openWs(`${r.wsUrl}?address=${pgAddress}`, { protocols: [`edgepg.token.${tokenFor(i)}`] }),
    ),
  )
  const opened: Opened[] = []
  const refused: number[] = []
  for (const attempt of attempts) {
    if (attempt.status === 'fulfilled') opened.push(attempt.value)
    else refused.push((attempt.reason as { status?: number }).status ?? 0)
  }
  const sessionsAtPeak = r.sessions.size
  for (const { ws } of opened) ws.close()
  await Promise.all(opened.map((o) => o.closed))
  return { opened: opened.length, refused, sessionsAtPeak }
}

describe('R2: 50 concurrent upgrades with valid tokens against limits of 3', () => {
  const limits = [
    ['maxConnections', { maxConnections: LIMIT }],
    ['maxConnectionsPerIp', { maxConnectionsPerIp: LIMIT }],
    ['maxConnectionsPerToken', { maxConnectionsPerToken: LIMIT }],
  ] as const
  for (const [name, limit] of limits) {
    it(`opens at most ${LIMIT} sessions under ${name} and refuses the others with 503`, async () => {
      relay = await startTestRelay({ tokenSecrets: [SECRET], maxConnectionsPerToken: 1000, ...limit })
      const shared = await token()
      const distinct = await Promise.all(Array.from({ length: BURST }, token))
      const { opened, refused, sessionsAtPeak } = await burst(relay, (i) =>
        name === 'maxConnectionsPerToken' ? shared : distinct[i]!,
      )
      expect(opened).toBe(LIMIT)
      expect(sessionsAtPeak).toBe(LIMIT)
      expect(refused).toEqual(Array(BURST - LIMIT).fill(503))
      // Every refused upgrade gave its slots back: the limit admits again once the sessions are gone.
      await expect.poll(() => relay!.sessions.size).toBe(0)
      expect(
        (await upgrade(`${relay.wsUrl}?address=${pgAddress}`, { protocols: [`edgepg.token.${shared}`] }))
          .status,
      ).toBe(101)
    })
  }
})

describe('R3: X-Forwarded-For behind a trusted proxy', () => {
  it('counts the per-IP limit on the hop the proxy added, not the entry the client forged', async () => {
    relay = await startTestRelay({ trustProxy: true, maxConnectionsPerIp: 1 })
    const url = `${relay.wsUrl}?address=${pgAddress}`
    const first = await openWs(url, { headers: { 'x-forwarded-for': '203.0.113.9, 10.0.0.5' } })
    // Same real client (10.0.0.5) with a different forged entry: still the same IP, over its limit.
    expect(await upgrade(url, { headers: { 'x-forwarded-for': '198.51.100.7, 10.0.0.5' } })).toEqual({
      status: 503,
      body: 'unavailable',
    })
    // Another real client (10.0.0.6) that forges the first one's entry: its own IP, admitted.
    expect((await upgrade(url, { headers: { 'x-forwarded-for': '203.0.113.9, 10.0.0.6' } })).status).toBe(101)
    first.ws.close()
    await first.closed
  })
})
