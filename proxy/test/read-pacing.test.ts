// The relay's pipeline pacing (proxy/src/read-pacing.ts) on real sockets: a paused socket reads nothing, a
// byte from the client ends the pause at once, a pause never lifts the session's own backpressure hold,
// and every byte arrives in order. Then through a real relay and PostgreSQL: pipelined bursts, a closed loop
// and mixed traffic, all answers right.
import { once } from 'node:events'
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net'
import { connect as connectPg } from '@edgepg/client'
import { webSocket } from '@edgepg/client/websocket'
import { afterEach, describe, expect, it } from 'vitest'
import { CHECK_AFTER, PACE_AFTER } from '../src/read-pacing.ts'
import { SocketUpstream } from '../src/session.ts'
import { pgUrl, sleep, startTestRelay, type TestRelay } from './helpers.ts'

let server: Server | undefined
let relay: TestRelay | undefined
afterEach(async () => {
  server?.close()
  server = undefined
  await relay?.shutdown()
  relay = undefined
})

/**
 * A loopback server that writes `chunks` short chunks (chunk i filled with i % 256), each only once the
 * previous one has been delivered (`delivered()` counts them), so that every read is exactly one chunk.
 */
async function stepServer(chunks: number, delivered: () => number): Promise<number> {
  server = createServer(async (socket) => {
    socket.on('error', () => {})
    for (let i = 0; i < chunks; i++) {
      socket.write(new Uint8Array(60).fill(i % 256))
      while (delivered() <= i && !socket.destroyed) await sleep(0)
    }
    socket.end()
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return (server.address() as AddressInfo).port
}

interface Harness {
  upstream: SocketUpstream
  /** Chunks delivered, and the ones delivered while the upstream was pacing (must stay 0). */
  got: Uint8Array[]
  duringPause: number
  ended: Promise<void>
}

/**
 * A SocketUpstream on a real socket to `port`, pacing `pacingMs`, on the test's clock: each chunk delivered
 * moves it 0.01 ms (every read soon after the last, the stream's rate steady), and each pause `pauseCost` ms
 * more (0: the stream goes on while paused; more: a stream the pauses slow down).
 */
async function harness(port: number, pacingMs: number, pauseCost = 0): Promise<Harness> {
  const socket: Socket = connect({ host: '127.0.0.1', port })
  await once(socket, 'connect')
  let clock = 0
  const upstream = new SocketUpstream(socket, undefined, pacingMs, () => clock)
  const h: Harness = { upstream, got: [], duringPause: 0, ended: Promise.resolve() }
  h.ended = new Promise((resolve, reject) =>
    upstream.start({
      data: (chunk) => {
        clock += 0.01
        // After the sink's pacing decision (it follows this callback), a pause costs its modelled time.
        queueMicrotask(() => {
          if (upstream.isPacing) clock += pauseCost
        })
        if (upstream.isPacing) h.duringPause++
        h.got.push(new Uint8Array(chunk))
      },
      drain: () => {},
      error: reject,
      end: () => resolve(),
    }),
  )
  return h
}

/** The chunks in order, each as the server wrote it. */
function expectInOrder(got: Uint8Array[], chunks: number) {
  const bytes = Buffer.concat(got)
  expect(bytes.length).toBe(chunks * 60)
  for (let i = 0; i < chunks; i++) expect(bytes[i * 60]).toBe(i % 256)
}

describe('pipeline pacing on a socket', () => {
  it('stops reading for the pause after a streak of short reads, and delivers every byte in order', async () => {
    let h: Harness | undefined
    const port = await stepServer(200, () => h?.got.length ?? 0)
    h = await harness(port, 3)
    await h.ended
    expectInOrder(h.got, 200)
    expect(h.duringPause).toBe(0)
    // Every read after the 32nd short one in a row pauses: one chunk per pause.
    expect(h.upstream.pacingPauses).toBe(200 - PACE_AFTER + 1)
  })

  it(`stops pacing a stream its pauses slow down, after ${CHECK_AFTER} pauses`, async () => {
    let h: Harness | undefined
    const port = await stepServer(100, () => h?.got.length ?? 0)
    // Each chunk waits for the one before it to be read: every pause holds the stream back (1 ms per chunk).
    h = await harness(port, 2, 1)
    await h.ended
    expectInOrder(h.got, 100)
    expect(h.duringPause).toBe(0)
    expect(h.upstream.pacingPauses).toBe(CHECK_AFTER)
  })

  it('ends a pause at once when the client sends a byte', async () => {
    let h: Harness | undefined
    const port = await stepServer(PACE_AFTER + 10, () => h?.got.length ?? 0)
    h = await harness(port, 60_000)
    await expect.poll(() => h!.upstream.isPacing).toBe(true)
    expect(h.got.length).toBe(PACE_AFTER)
    h.upstream.write(new Uint8Array([1]))
    expect(h.upstream.isPacing).toBe(false)
    await h.ended
    expectInOrder(h.got, PACE_AFTER + 10)
  })

  it('does not lift the session’s backpressure hold when a pause ends', async () => {
    let h: Harness | undefined
    const port = await stepServer(PACE_AFTER + 10, () => h?.got.length ?? 0)
    h = await harness(port, 5)
    await expect.poll(() => h!.upstream.isPacing).toBe(true)
    h.upstream.pause() // the client fell behind while paced
    const held = h.got.length
    await sleep(50)
    expect(h.upstream.isPacing).toBe(false)
    expect(h.got.length).toBe(held)
    h.upstream.resume()
    await h.ended
    expectInOrder(h.got, PACE_AFTER + 10)
  })

  it('never paces with pacing off', async () => {
    let h: Harness | undefined
    const port = await stepServer(100, () => h?.got.length ?? 0)
    h = await harness(port, 0)
    await h.ended
    expectInOrder(h.got, 100)
    expect(h.upstream.pacingPauses).toBe(0)
  })
})

describe('pipeline pacing through the relay', () => {
  it('answers pipelined bursts, a closed loop and both at once correctly', async () => {
    relay = await startTestRelay({ pipelinePacing: 1 })
    const url = pgUrl()
    const [client, connection] = await connectPg(url, { transport: webSocket({ url: relay.wsUrl }) })
    const done = connection.run()
    const burst = (from: number, count: number) =>
      Promise.all(
        Array.from({ length: count }, (_, i) =>
          client.query<{ n: number }>('select $1::int as n', [from + i]).then(({ rows }) => rows[0]!.n),
        ),
      )
    const closedLoop = async (from: number, count: number) => {
      const got: number[] = []
      for (let i = 0; i < count; i++)
        got.push((await client.queryOne<{ n: number }>('select $1::int as n', [from + i])).n)
      return got
    }
    const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i)
    expect(await burst(0, 3000)).toEqual(range(0, 3000))
    expect(await closedLoop(0, 200)).toEqual(range(0, 200))
    const [a, b, c] = await Promise.all([burst(10_000, 2000), closedLoop(20_000, 100), burst(30_000, 40)])
    expect([a, b, c]).toEqual([range(10_000, 2000), range(20_000, 100), range(30_000, 40)])
    await client.end()
    await done
  })
})
