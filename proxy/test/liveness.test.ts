// Relay attack case R4: the idle timeout means "nobody is there", not "no bytes". A client that answers
// pings keeps its session however quiet it is: a LISTEN that waits, a query that runs past the timeout.
import { afterEach, describe, expect, it } from 'vitest'
import {
  admin,
  openWs,
  pgAddress,
  simpleQuery,
  sleep,
  startTestRelay,
  type TestRelay,
  trustStartup,
} from './helpers.ts'

let relay: TestRelay | undefined
afterEach(async () => {
  await relay?.shutdown()
  relay = undefined
})

const IDLE = 400

/** How many ReadyForQuery messages ('Z', length 5) arrived: one after login, one per simple query. */
function readyCount(received: Buffer[]): number {
  const all = Buffer.concat(received)
  let count = 0
  for (let at = 0; at + 5 <= all.length; at += 1 + all.readInt32BE(at + 1)) if (all[at] === 0x5a) count++
  return count
}

describe('R4: quiet sessions whose client answers pings', () => {
  it('keeps a LISTEN session open past the idle timeout, and a notification still arrives', async () => {
    relay = await startTestRelay({ idleTimeout: IDLE, pingInterval: 100 })
    const { ws, received, closed } = await openWs(`${relay.wsUrl}?address=${pgAddress}`)
    let closeEvent: { code: number } | undefined
    void closed.then((event) => {
      closeEvent = event
    })
    ws.send(trustStartup('edgepg-r4-listen'))
    await expect.poll(() => readyCount(received)).toBe(1)
    ws.send(simpleQuery('listen r4_channel'))
    await expect.poll(() => readyCount(received)).toBe(2)
    await sleep(3 * IDLE)
    expect(closeEvent).toBeUndefined()
    await admin(`notify r4_channel, 'still here'`)
    await expect.poll(() => Buffer.concat(received).includes('still here')).toBe(true)
    expect(closeEvent).toBeUndefined()
    ws.close()
    await closed
  })

  it('lets a query that runs longer than the idle timeout complete', async () => {
    relay = await startTestRelay({ idleTimeout: IDLE, pingInterval: 100 })
    const { ws, received, closed } = await openWs(`${relay.wsUrl}?address=${pgAddress}`)
    let closeEvent: { code: number } | undefined
    void closed.then((event) => {
      closeEvent = event
    })
    ws.send(trustStartup('edgepg-r4-sleep'))
    await expect.poll(() => readyCount(received)).toBe(1)
    ws.send(simpleQuery(`select pg_sleep(${(3 * IDLE) / 1000}) as slept`))
    await expect.poll(() => readyCount(received), { timeout: 5000 }).toBe(2)
    expect(Buffer.concat(received).includes('SELECT 1')).toBe(true)
    expect(closeEvent).toBeUndefined()
    ws.close()
    await closed
  })
})
