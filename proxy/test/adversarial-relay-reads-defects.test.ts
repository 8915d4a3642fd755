import type { Server } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import {
  loopbackServer,
  openWs,
  pgAddress,
  simpleQuery,
  sleep,
  slowDialer,
  startTestRelay,
  type TestRelay,
  trustStartup,
} from './helpers.ts'

let relay: TestRelay | undefined
let server: Server | undefined
afterEach(async () => {
  await relay?.shutdown()
  server?.close()
  relay = undefined
  server = undefined
})

describe('adversarial relay reads: defects', () => {
  it('shutdown ends a client that stopped reading within shutdownGrace, and gets its lent blocks back', async () => {
    relay = await startTestRelay({ highWaterMark: 256 * 1024, shutdownGrace: 500 })
    const { ws, received, closed } = await openWs(`${relay.wsUrl}?address=${pgAddress}`)
    let isClosed = false
    void closed.then(() => {
      isClosed = true
    })
    ws.send(trustStartup('adv-reads-shutdown'))
    await expect.poll(() => received.length).toBeGreaterThan(0)
    ws.pause() // the client stops reading: the relay's close frame waits behind the data it holds
    ws.send(simpleQuery(`select repeat('s', 30000) from generate_series(1, 20000)`))
    const [session] = [...relay.sessions]
    await expect.poll(() => session!.bufferedToClient, { timeout: 10_000 }).toBeGreaterThan(128 * 1024)
    expect(relay.readBlocks.lent).toBeGreaterThan(0)
    await relay.shutdown()
    // Within the grace (500 ms) and some slack: not at ws's 30 s closing timeout.
    await expect.poll(() => relay!.readBlocks.lent, { timeout: 3000 }).toBe(0)
    // The relay dropped the connection: a client that reads again finds it gone.
    ws.resume()
    await expect.poll(() => isClosed, { timeout: 3000 }).toBe(true)
  })

  it('closes a session whose upstream closed before the relay took a custom dialer’s socket', async () => {
    // An upstream that greets and hangs up at once (a refusal, say), and a dialer that takes its time.
    const upstream = await loopbackServer((socket) => {
      socket.end('refused\n')
    })
    server = upstream.server
    const { address } = upstream
    relay = await startTestRelay({ allow: [address], allowPrivate: true }, undefined, {
      dial: slowDialer(100),
    })
    const { ws, received, closed } = await openWs(`${relay.wsUrl}?address=${address}`)
    ws.send(trustStartup('adv-reads-early-end'))
    let code: number | undefined
    void closed.then((result) => {
      code = result.code
    })
    await expect.poll(() => code, { timeout: 5000 }).toBe(1000)
    expect(Buffer.concat(received).toString()).toBe('refused\n')
    expect(relay.sessions.size).toBe(0)
  })

  it('holds about as much block memory as a stalled client’s bytes, not four times as much', async () => {
    // An upstream that sends 16 KB every 3 ms: each read is one 16 KB chunk, as from a link the relay keeps
    // up with (PostgreSQL on another host). Each is ≥ POOLED_MIN, so each takes a 64 KB block.
    const upstream = await loopbackServer((socket) => {
      socket.once('data', async () => {
        for (let i = 0; i < 1500 && !socket.destroyed; i++) {
          socket.write(Buffer.alloc(16 * 1024, i & 0xff))
          await sleep(3)
        }
      })
    })
    server = upstream.server
    const { address } = upstream
    const highWaterMark = 1024 * 1024
    relay = await startTestRelay({ allow: [address], allowPrivate: true, highWaterMark })
    const clients = await Promise.all(
      [0, 1].map(async () => {
        const opened = await openWs(`${relay!.wsUrl}?address=${address}`)
        opened.ws.pause() // reads nothing
        opened.ws.send(trustStartup('adv-reads-amplification'))
        return opened
      }),
    )
    const sessions = [...relay.sessions]
    // Both stalled at the mark: the kernel's buffers full, then the relay's.
    await expect
      .poll(() => sessions.every((session) => session.bufferedToClient > highWaterMark / 2), {
        timeout: 20_000,
      })
      .toBe(true)
    const held = sessions.reduce((sum, session) => sum + session.bufferedToClient, 0)
    // Blocks lent for those bytes: at most the bytes and a partly filled block per session.
    expect(relay.readBlocks.lent * 64 * 1024).toBeLessThanOrEqual(held + sessions.length * 64 * 1024)
    for (const { ws } of clients) ws.terminate()
  })

  it('reads no more than a bound of what an upstream sends before the relay takes a custom dialer’s socket', async () => {
    // An upstream that floods at once (50 MB), and a dialer that takes 500 ms after connecting. Without a
    // bound the relay reads it all into memory before the session exists (the server's writes all complete);
    // with one, TCP holds the rest (as for a socket without onread, whose stream stops at its high-water mark).
    let isAllWritten = false
    const upstream = await loopbackServer((socket) => {
      const chunk = Buffer.alloc(1024 * 1024, 0x66)
      for (let i = 0; i < 49; i++) socket.write(chunk)
      socket.write(chunk, () => {
        isAllWritten = true
      })
    })
    server = upstream.server
    const { address } = upstream
    relay = await startTestRelay({ allow: [address], allowPrivate: true }, undefined, {
      dial: slowDialer(500),
    })
    const { ws, closed } = await openWs(`${relay.wsUrl}?address=${address}`)
    ws.pause() // and the client reads nothing: the session's backpressure bounds the rest
    ws.send(trustStartup('adv-reads-early-flood'))
    await sleep(1000)
    expect(isAllWritten).toBe(false)
    ws.terminate()
    await closed
  })

  it('closes, with no uncaught error, a session whose upstream reset before the relay took a custom dialer’s socket', async () => {
    // Pre-existing (with or without onread): tcpDialer removes its 'error' listener once connected, so a
    // reset read before the session listens is an uncaught ECONNRESET (a relay process would exit), and the
    // session never closes.
    const upstream = await loopbackServer((socket) => {
      socket.write('hi')
      setTimeout(() => socket.resetAndDestroy(), 20)
    })
    server = upstream.server
    const { address } = upstream
    relay = await startTestRelay({ allow: [address], allowPrivate: true }, undefined, {
      dial: slowDialer(200),
    })
    const { ws, closed } = await openWs(`${relay.wsUrl}?address=${address}`)
    ws.send(trustStartup('adv-reads-early-reset'))
    let code: number | undefined
    void closed.then((result) => {
      code = result.code
    })
    await expect.poll(() => code, { timeout: 5000 }).toBeDefined()
    expect([1000, 1011]).toContain(code)
    expect(relay.sessions.size).toBe(0)
  })
})
