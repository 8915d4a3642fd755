// Liveness of a client the relay stopped reading (adversary F2), on the session core with both ends faked so
// that time and buffers are exact: such a client is alive while bytes sent to it are written out, whatever
// its backlog looks like at each tick, and is terminated once nothing has been written for `idleTimeout`.
import { describe, expect, it } from 'vitest'
import { resolveConfig } from './config.ts'
import { silentLogger } from './log.ts'
import { RelayMetrics } from './metrics.ts'
import { type ClientEnd, RelaySession, type UpstreamEnd, type UpstreamEvents } from './session-core.ts'

const IDLE = 1000

/** A client end whose send buffer the test sets. */
class FakeClient implements ClientEnd {
  bufferedAmount = 0
  isPaused = false
  isTerminated = false
  readonly canPause = true
  readonly canPing = true
  send() {}
  pause() {
    this.isPaused = true
  }
  resume() {
    this.isPaused = false
  }
  ping() {}
  close() {}
  terminate() {
    this.isTerminated = true
  }
}

function startupPacket(): Uint8Array {
  const packet = new Uint8Array(8 + 5)
  new DataView(packet.buffer).setInt32(0, packet.length)
  new DataView(packet.buffer).setInt32(4, 196608)
  return packet
}

/** An open session whose upstream refuses writes (PostgreSQL is not reading), so the client gets paused. */
async function pausedSession() {
  const client = new FakeClient()
  let events!: UpstreamEvents
  const upstream: UpstreamEnd = {
    start: (e) => {
      events = e
    },
    write: () => false,
    bufferedAmount: 2 * 1024 * 1024,
    pause() {},
    resume() {},
    close() {},
  }
  const config = resolveConfig({ allow: ['127.0.0.1:5432'], idleTimeout: IDLE, pingInterval: IDLE / 2 })
  const session = new RelaySession(
    client,
    { id: 'f2', ip: '127.0.0.1', target: 't', dial: { host: '127.0.0.1', port: 5432 }, onClose() {} },
    { config, metrics: new RelayMetrics(), logger: silentLogger, openUpstream: async () => upstream },
  )
  session.receive(startupPacket(), true)
  await expect.poll(() => session.state).toBe('open')
  session.receive(new Uint8Array(16), true)
  expect(client.isPaused).toBe(true)
  return { client, session, toClient: (n: number) => events.data(new Uint8Array(n)) }
}

describe('F2: a client the relay stopped reading', () => {
  it('stays open while what is sent to it is written out, though its backlog is the same at every tick', async () => {
    const { client, session, toClient } = await pausedSession()
    client.bufferedAmount = 8192
    const start = Date.now()
    for (let i = 1; i <= 20; i++) {
      toClient(4096) // it reads as fast as it is fed: the backlog stays at 8 KiB
      session.tick(start + (i * IDLE) / 2)
    }
    expect(session.state).toBe('open')
    expect(client.isTerminated).toBe(false)
    session.close(1000, 'done')
  })

  it('is terminated once nothing sent to it has been written out for idleTimeout', async () => {
    const { client, session, toClient } = await pausedSession()
    toClient(4096)
    client.bufferedAmount = 8192
    const start = Date.now()
    for (let i = 1; i <= 4 && session.state !== 'closed'; i++) session.tick(start + (i * IDLE) / 2)
    expect(session.state).toBe('closed')
    expect(client.isTerminated).toBe(true)
  })
})
