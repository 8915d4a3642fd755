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

describe('F5: the per-IP limit counts one client, however its address is spelled', () => {
  /** Opens a session for each X-Forwarded-For value in turn; returns the opened ones and the refusals. */
  async function openFrom(r: TestRelay, hops: string[]) {
    const opened: Opened[] = []
    const statuses: number[] = []
    for (const hop of hops) {
      try {
        opened.push(await openWs(`${r.wsUrl}?address=${pgAddress}`, { headers: { 'x-forwarded-for': hop } }))
        statuses.push(101)
      } catch (error) {
        statuses.push((error as { status?: number }).status ?? 0)
      }
    }
    return { opened, statuses }
  }
  const closeAll = async (opened: Opened[]) => {
    for (const { ws } of opened) ws.close()
    await Promise.all(opened.map((o) => o.closed))
  }

  it('admits only 2 upgrades from 3 addresses of one IPv6 /64, and still admits the next /64', async () => {
    relay = await startTestRelay({ trustProxy: true, maxConnectionsPerIp: 2 })
    const { opened, statuses } = await openFrom(relay, [
      '2001:db8::1',
      '2001:DB8:0:0::2',
      '2001:db8::ffff',
      '2001:db8:0:1::1',
    ])
    expect(statuses).toEqual([101, 101, 503, 101])
    await closeAll(opened)
  })

  it('counts an IPv4-mapped IPv6 address and its IPv4 address in one bucket', async () => {
    relay = await startTestRelay({ trustProxy: true, maxConnectionsPerIp: 2 })
    const { opened, statuses } = await openFrom(relay, [
      '::ffff:203.0.113.9',
      '::FFFF:cb00:7109',
      '203.0.113.9',
    ])
    expect(statuses).toEqual([101, 101, 503])
    await closeAll(opened)
  })

  it('buckets IPv6 by ipv6PrefixLength: at 128, each address of a /64 is its own client', async () => {
    relay = await startTestRelay({ trustProxy: true, maxConnectionsPerIp: 1, ipv6PrefixLength: 128 })
    const { opened, statuses } = await openFrom(relay, ['2001:db8::1', '2001:0DB8::1', '2001:db8::2'])
    expect(statuses).toEqual([101, 503, 101])
    await closeAll(opened)
  })
})
