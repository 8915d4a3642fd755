// Relay attack case (adversary F1): denial metrics must not be built from what the client sent. A label per
// reason that embeds the requested address grows without bound (one entry per distinct address, for the
// life of the process) and publishes, on the public listener, what the refusals hide (S2: denials look
// alike from outside). Detailed reasons go to logs only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestRelay, type TestRelay, upgrade } from './helpers.ts'

let relay: TestRelay
beforeAll(async () => {
  relay = await startTestRelay({ allow: ['10.0.0.0/8:5432'] })
})
afterAll(() => relay.shutdown())

async function metrics(): Promise<string> {
  return (await fetch(`${relay.url}/metrics`)).text()
}

/** The label sets of the denial counter, e.g. `reason="policy"`. */
function denialLabels(text: string): string[] {
  return [...text.matchAll(/^edgepg_relay_denials_total\{([^}]*)\}/gm)].map((m) => m[1]!).sort()
}

/** A public IPv6 address, distinct per `i`, that no rule allows. */
const refusedAddress = (i: number) => `[2600:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::1]:5432`

async function refuseMany(from: number, count: number) {
  for (let start = from; start < from + count; start += 50) {
    const batch = Array.from({ length: Math.min(50, from + count - start) }, (_, k) =>
      upgrade(`${relay.wsUrl}?address=${refusedAddress(start + k)}`),
    )
    for (const { status } of await Promise.all(batch)) expect(status).toBe(403)
  }
}

describe('F1: denial metrics under 1000 distinct refused addresses', () => {
  it('keep a constant label set and size, and name no address', async () => {
    await refuseMany(0, 10)
    const before = await metrics()
    await refuseMany(10, 1000)
    const after = await metrics()
    expect(denialLabels(after)).toEqual(denialLabels(before))
    expect(after).not.toContain('2600:')
    expect(after).not.toMatch(/address|no rule/)
    // Only counter digits may change.
    expect(after.length - before.length).toBeLessThan(16)
    expect(after).toMatch(/^edgepg_relay_denials_total\{reason="policy"\} 1010$/m)
    // The detail stays in the logs.
    expect(relay.logs.some((line) => line.includes('2600:'))).toBe(true)
  })
})
