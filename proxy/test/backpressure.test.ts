// Relay attack cases B1 and B2: bounded buffering both ways.
import { afterEach, describe, expect, it } from 'vitest'
import { type FaultProxy, startFaultProxy } from '../../test/fault-proxy.ts'
import {
  admin,
  openWs,
  pg,
  pgAddress,
  simpleQuery,
  sleep,
  startTestRelay,
  type TestRelay,
  trustStartup,
} from './helpers.ts'

let relay: TestRelay | undefined
let proxy: FaultProxy | undefined
afterEach(async () => {
  await relay?.shutdown()
  await proxy?.close()
  relay = undefined
  proxy = undefined
})

const HWM = 1024 * 1024

function copyData(size: number): Buffer {
  const head = Buffer.alloc(5)
  head[0] = 0x64 // d
  head.writeInt32BE(size + 4, 1)
  return Buffer.concat([head, Buffer.alloc(size, 0x61)])
}

async function waitEvent(app: string): Promise<unknown> {
  const rows = await admin('select wait_event from pg_stat_activity where application_name = $1', [app])
  return rows[0]?.wait_event ?? null
}

describe('B1: a slow reader', () => {
  it('pauses PostgreSQL instead of buffering a 200 MB result', async () => {
    relay = await startTestRelay({ highWaterMark: HWM })
    const { ws, received, closed } = await openWs(`${relay.wsUrl}?address=${pgAddress}`)
    ws.send(trustStartup('edgepg-b1'))
    await expect.poll(() => received.length).toBeGreaterThan(0)
    const baseline = process.memoryUsage().rss
    ws.pause() // the client stops reading from its socket
    ws.send(simpleQuery(`select repeat('x', 1000) from generate_series(1, 200000)`))
    await expect.poll(() => waitEvent('edgepg-b1'), { timeout: 10_000 }).toBe('ClientWrite')
    await sleep(500)
    const [session] = [...relay.sessions]
    expect(session!.bufferedToClient).toBeLessThanOrEqual(HWM + 256 * 1024)
    expect(relay.metrics.bytesToClient).toBeLessThan(32 * 1024 * 1024)
    const grown = process.memoryUsage().rss - baseline
    console.info(
      `B1: relay RSS growth while the reader stalls on a 200 MB result: ${(grown / 1048576).toFixed(1)} MiB`,
    )
    expect(grown).toBeLessThan(32 * 1024 * 1024)
    ws.terminate()
    await closed
  })
})

describe('B2: a fast writer and a slow PostgreSQL', () => {
  it('stops reading the WebSocket until the TCP side drains', async () => {
    proxy = await startFaultProxy({ host: pg.host, port: pg.port }, { bandwidth: 256 * 1024 })
    relay = await startTestRelay({ allow: [`127.0.0.1:${proxy.port}`], highWaterMark: HWM, maxPayload: HWM })
    const { ws, received, closed } = await openWs(`${relay.wsUrl}?address=127.0.0.1:${proxy.port}`)
    ws.send(trustStartup('edgepg-b2'))
    await expect.poll(() => received.length, { timeout: 5000 }).toBeGreaterThan(0)
    // PostgreSQL reads and ignores CopyData outside COPY, so this is a harmless flood of 32 MiB.
    const chunk = copyData(512 * 1024 - 5)
    for (let i = 0; i < 64; i++) ws.send(chunk)
    const [session] = [...relay.sessions]
    await expect.poll(() => session!.isClientPaused, { timeout: 5000 }).toBe(true)
    for (let i = 0; i < 10; i++) {
      expect(session!.bufferedToUpstream).toBeLessThanOrEqual(HWM + 2 * 512 * 1024)
      await sleep(100)
    }
    ws.terminate()
    await closed
  })
})

describe('B2b: the upstream goes away while the WebSocket is paused', () => {
  it('still completes the close handshake at once instead of at the 30 s close timeout', async () => {
    proxy = await startFaultProxy({ host: pg.host, port: pg.port }, { bandwidth: 256 * 1024 })
    relay = await startTestRelay({ allow: [`127.0.0.1:${proxy.port}`], highWaterMark: HWM, maxPayload: HWM })
    const { ws, received, closed } = await openWs(`${relay.wsUrl}?address=127.0.0.1:${proxy.port}`)
    ws.send(trustStartup('edgepg-b2b'))
    await expect.poll(() => received.length, { timeout: 5000 }).toBeGreaterThan(0)
    const chunk = copyData(512 * 1024 - 5)
    for (let i = 0; i < 16; i++) ws.send(chunk)
    const [session] = [...relay.sessions]
    await expect.poll(() => session!.isClientPaused, { timeout: 5000 }).toBe(true)
    const cut = Date.now()
    proxy.resetAll()
    const { code } = await closed
    expect([1000, 1011]).toContain(code)
    expect(Date.now() - cut).toBeLessThan(5000)
    expect(relay.sessions.size).toBe(0)
  })
})
