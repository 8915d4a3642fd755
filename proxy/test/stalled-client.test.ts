// Relay attack case (adversary F2): a client that floods and then stops reading. PostgreSQL blocks writing
// its answer, the relay pauses it, PostgreSQL stops reading, and the relay pauses the client: both ways are
// held. The client must still be subject to a bound: with bytes queued toward it that do not drain for the
// idle timeout, it is not reading, and the session ends (with its PostgreSQL backend).
import { afterEach, describe, expect, it } from 'vitest'
import {
  backends,
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

const APP = 'edgepg-f2-stalled'

describe('F2: a client that floods, then neither reads nor answers pings', () => {
  it('is terminated once its queued bytes stop draining, and its PostgreSQL backend ends', async () => {
    relay = await startTestRelay({ idleTimeout: 1000, pingInterval: 500, highWaterMark: 64 * 1024 })
    const { ws, closed } = await openWs(`${relay.wsUrl}?address=${pgAddress}`)
    ws.pause() // never reads again: no messages, no pongs
    ws.send(trustStartup(APP))
    // Each query answers 5 MB; the padding makes the client's side fill quickly too.
    const query = simpleQuery(
      `select repeat('x', 100000) from generate_series(1, 50) /* ${'p'.repeat(60_000)} */`,
    )
    const session = () => [...(relay?.sessions ?? [])][0]
    await expect.poll(() => session()?.state).toBe('open')
    const deadline = Date.now() + 15_000
    while (!session()?.isClientPaused && Date.now() < deadline) {
      if (ws.bufferedAmount < 8 * 1024 * 1024) for (let i = 0; i < 16; i++) ws.send(query)
      await sleep(20)
    }
    // The precondition: the relay holds both directions.
    expect(session()?.isClientPaused).toBe(true)
    expect(session()!.bufferedToClient).toBeGreaterThan(0)
    expect(await backends(APP)).toBe(1)
    // Idle timeout 1 s: allow a loaded machine several times that.
    await expect.poll(() => relay!.sessions.size, { timeout: 8000, interval: 100 }).toBe(0)
    await expect.poll(() => backends(APP), { timeout: 5000, interval: 200 }).toBe(0)
    ws.terminate()
    await closed
  }, 30_000)
})
