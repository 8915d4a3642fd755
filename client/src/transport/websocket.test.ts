import type { IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocketServer, type WebSocket as WsSocket } from 'ws'
import { isPgError } from '../errors.ts'
import type { ByteStream } from './transport.ts'
import { webSocket } from './websocket.ts'

let server: WebSocketServer | undefined
afterEach(async () => {
  await new Promise((r) => server?.close(r) ?? r(undefined))
  server = undefined
})

interface Seen {
  request: IncomingMessage
  socket: WsSocket
  frames: Buffer[]
}

/** A real ws server on loopback; `onConnect` plays the relay. */
async function relay(onConnect: (seen: Seen) => void = () => {}, options: Record<string, unknown> = {}) {
  const seen: Seen[] = []
  server = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options })
  server.on('connection', (socket, request) => {
    const s = { request, socket, frames: [] as Buffer[] }
    socket.on('message', (data) => s.frames.push(data as Buffer))
    seen.push(s)
    onConnect(s)
  })
  await new Promise((r) => server!.once('listening', r))
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }
}

function collect(stream: ByteStream) {
  const chunks: Uint8Array[] = []
  const events: string[] = []
  let error: unknown
  stream.start({
    data: (c) => chunks.push(c),
    end: () => events.push('end'),
    error: (e) => {
      error = e
      events.push('error')
    },
  })
  return { chunks, events, error: () => error }
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10))
  expect(check()).toBe(true)
}

describe('webSocket transport', () => {
  it('opens /v1 with address=host:port, and brackets IPv6 hosts', async () => {
    const { url, seen } = await relay()
    await webSocket({ url })({ host: 'db.internal', port: 5432 })
    await webSocket({ url: `${url}/v1` })({ host: '::1', port: 6543 })
    await until(() => seen.length === 2)
    expect(seen[0]!.request.url).toBe('/v1?address=db.internal%3A5432')
    expect(new URL(seen[1]!.request.url!, url).searchParams.get('address')).toBe('[::1]:6543')
  })

  it('names a relay target and sends the token as a subprotocol, or in the query when asked', async () => {
    const { url, seen } = await relay(undefined, { handleProtocols: (p: Set<string>) => [...p][0] ?? false })
    await webSocket({ url, target: { name: 'main' }, token: () => 'tok.en.sig' })({ host: 'h', port: 1 })
    await webSocket({ url, token: 'tok2', tokenIn: 'query' })({ host: 'h', port: 1 })
    await until(() => seen.length === 2)
    expect(seen[0]!.request.url).toBe('/v1?target=main')
    expect(seen[0]!.request.headers['sec-websocket-protocol']).toBe('edgepg.token.tok.en.sig')
    expect(new URL(seen[1]!.request.url!, url).searchParams.get('token')).toBe('tok2')
  })

  it('coalesces writes made in one tick into one binary frame', async () => {
    const { url, seen } = await relay()
    const stream = await webSocket({ url })({ host: 'h', port: 1 })
    collect(stream)
    for (let i = 0; i < 100; i++) stream.write(Uint8Array.of(i))
    await until(() => seen[0]?.frames.length === 1)
    expect([...seen[0]!.frames[0]!]).toEqual(Array.from({ length: 100 }, (_, i) => i))
  })

  it('splits a 10 MiB write into frames no larger than maxFrame that reassemble exactly', async () => {
    const { url, seen } = await relay(undefined, { maxPayload: 1024 * 1024 })
    const stream = await webSocket({ url, maxFrame: 256 * 1024 })({ host: 'h', port: 1 })
    collect(stream)
    const big = new Uint8Array(10 * 1024 * 1024)
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff
    stream.write(big)
    await until(() => seen[0]!.frames.reduce((n, f) => n + f.length, 0) === big.length)
    expect(seen[0]!.frames.length).toBe(40)
    expect(Math.max(...seen[0]!.frames.map((f) => f.length))).toBe(256 * 1024)
    expect(Buffer.concat(seen[0]!.frames).equals(Buffer.from(big))).toBe(true)
  })

  it('delivers binary frames in order, holds them while paused, and ends on a normal close', async () => {
    const { url } = await relay((s) => {
      s.socket.send(Buffer.from([1, 2]))
      s.socket.send(Buffer.from([3]))
      setTimeout(() => s.socket.close(1000), 50)
    })
    const stream = await webSocket({ url })({ host: 'h', port: 1 })
    stream.pause()
    const { chunks, events } = collect(stream)
    await new Promise((r) => setTimeout(r, 20))
    expect(chunks).toEqual([])
    stream.resume()
    await until(() => events.includes('end'))
    expect(chunks.flatMap((c) => [...c])).toEqual([1, 2, 3])
  })

  const closes: [number, string, RegExp][] = [
    [1008, 'denied', /relay denied the connection \(1008 denied\)/],
    [1011, 'upstream unavailable', /could not reach the database \(1011 upstream unavailable\)/],
    [1013, 'too many connections', /connection limit \(1013/],
    [1009, 'message too big', /too big \(1009/],
    [1001, 'shutting down', /relay closed the session \(1001 shutting down\)/],
  ]
  for (const [code, reason, pattern] of closes) {
    it(`maps close ${code} to an io error that says what happened`, async () => {
      const { url } = await relay((s) => setTimeout(() => s.socket.close(code, reason), 20))
      const stream = await webSocket({ url, token: 'secret-token' })({ host: 'h', port: 1 })
      const { events, error } = collect(stream)
      await until(() => events.includes('error'))
      expect(isPgError(error(), 'io')).toBe(true)
      expect((error() as Error).message).toMatch(pattern)
      expect((error() as Error).message).not.toContain('secret-token')
    })
  }

  it('rejects with an io error when the relay refuses the upgrade', async () => {
    const { url } = await relay(undefined, {
      verifyClient: (_: unknown, done: (ok: boolean, code: number) => void) => done(false, 403),
    })
    const error = await webSocket({ url })({ host: 'h', port: 1 }).catch((e) => e)
    expect(isPgError(error, 'io')).toBe(true)
    expect(error.message).toMatch(/refused the WebSocket upgrade/)
  })

  it('rejects with a timeout error when the signal is already aborted', async () => {
    const { url } = await relay()
    const error = await webSocket({ url })({ host: 'h', port: 1, signal: AbortSignal.abort() }).catch(
      (e) => e,
    )
    expect(isPgError(error, 'timeout')).toBe(true)
  })

  it('fails the stream on a text frame', async () => {
    const { url } = await relay((s) => s.socket.send('hello'))
    const stream = await webSocket({ url })({ host: 'h', port: 1 })
    const { events, error } = collect(stream)
    await until(() => events.includes('error'))
    expect(isPgError(error(), 'protocol')).toBe(true)
  })

  it('refuses a relay URL that is not ws: or wss:', () => {
    expect(() => webSocket({ url: 'http://relay.example' })).toThrow(/ws: or wss:/)
  })
})
