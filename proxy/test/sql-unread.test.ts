// POST /sql answers to clients that never read them: a large answer that makes no write progress for
// sqlTimeout has its socket destroyed (the relay would otherwise hold it in memory for as long as the client
// keeps the connection). A client that reads gets the whole answer, and a WebSocket upgraded on a socket
// that answered /sql before does not inherit the bound.
import { connect, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pgAddress, pgUrl, sleep, startTestRelay, type TestRelay } from './helpers.ts'

const SQL_TIMEOUT = 1500

let relay: TestRelay
beforeAll(async () => {
  relay = await startTestRelay({ sqlTimeout: SQL_TIMEOUT })
})
afterAll(() => relay.shutdown())

/** A ~9 MB answer (9000 rows of 1000 characters, raw text): more than the kernel buffers on both ends. */
const LARGE = JSON.stringify({ query: "select repeat('x', 1000) from generate_series(1, 9000)" })

function sqlRequest(body: string): string {
  return (
    `POST /sql HTTP/1.1\r\nHost: ${relay.url.slice('http://'.length)}\r\n` +
    `Neon-Connection-String: ${pgUrl()}\r\nNeon-Raw-Text-Output: true\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  )
}

/** A raw TCP connection to the relay, with a promise of its 'close'. */
function open(): Promise<{ socket: Socket; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(relay.port, '127.0.0.1')
    const closed = new Promise<void>((done) => socket.once('close', () => done()))
    socket.on('error', () => {})
    socket.once('connect', () => resolve({ socket, closed }))
    socket.once('error', reject)
  })
}

/** The relay's open HTTP connections. */
function connections(): Promise<number> {
  return new Promise((resolve, reject) =>
    relay.server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
  )
}

/** Resolves true when `closed` settles within `ms`, false otherwise. */
function closesWithin(closed: Promise<void>, ms: number): Promise<boolean> {
  return Promise.race([closed.then(() => true), sleep(ms).then(() => false)])
}

/** Reads from `socket` until `received` holds one whole HTTP answer with a Content-Length. */
function readAnswer(socket: Socket): Promise<{ head: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0)
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk])
      const end = received.indexOf('\r\n\r\n')
      if (end < 0) return
      const head = received.subarray(0, end).toString()
      const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? Number.NaN)
      if (received.length < end + 4 + length) return
      socket.off('data', onData)
      resolve({ head, body: received.subarray(end + 4, end + 4 + length) })
    }
    socket.on('data', onData)
    socket.once('close', () => reject(new Error(`closed after ${received.length} bytes`)))
  })
}

describe('a /sql answer nobody reads', () => {
  it('has its socket closed by the relay once it makes no write progress for sqlTimeout', async () => {
    const clients = await Promise.all(Array.from({ length: 4 }, () => open()))
    for (const { socket } of clients) {
      socket.pause() // never reads: the relay's writes stall once the kernel buffers are full
      socket.write(sqlRequest(LARGE))
    }
    // A paused socket does not see its peer close: watch the relay's side. The statement, the JSON and the
    // stall bound, with several times that allowed on a loaded machine.
    const deadline = Date.now() + 8 * SQL_TIMEOUT
    while (Date.now() < deadline && (await connections()) > 0) await sleep(100)
    expect(await connections()).toBe(0)
    // Now reading, each client gets what the kernel still held, then the end: never the whole answer.
    for (const { socket, closed } of clients) {
      let received = Buffer.alloc(0)
      socket.on('data', (chunk: Buffer) => {
        received = Buffer.concat([received, chunk])
      })
      socket.resume()
      expect(await closesWithin(closed, 5000)).toBe(true)
      const end = received.indexOf('\r\n\r\n')
      const length = Number(/content-length: (\d+)/i.exec(received.subarray(0, end).toString())?.[1])
      expect(received.length - end - 4).toBeLessThan(length)
    }
  })

  it('is sent whole to a client that reads it', async () => {
    const { socket, closed } = await open()
    socket.write(sqlRequest(LARGE))
    const { head, body } = await readAnswer(socket)
    expect(head).toMatch(/^HTTP\/1\.1 200/)
    expect(JSON.parse(body.toString()).rows).toHaveLength(9000)
    socket.destroy()
    await closed
  })

  it('does not bound a WebSocket upgraded on a socket that answered /sql before', async () => {
    const { socket, closed } = await open()
    socket.write(sqlRequest(JSON.stringify({ query: 'select 1 as n' })))
    const { head } = await readAnswer(socket)
    expect(head).toMatch(/^HTTP\/1\.1 200/)
    const upgraded = new Promise<string>((resolve) => {
      let text = ''
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1')
        if (text.includes('\r\n\r\n')) resolve(text)
      })
    })
    socket.write(
      `GET /v1?address=${pgAddress} HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\n` +
        'Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    )
    expect(await upgraded).toMatch(/^HTTP\/1\.1 101/)
    // A quiet session (before its first packet; startupTimeout is 10 s) outlives the /sql bound.
    expect(await closesWithin(closed, 2 * SQL_TIMEOUT)).toBe(false)
    socket.destroy()
    await closed
  })
})
