import { connect, createPool, type Transport } from '@edgepg/client'
import { nodeSocket } from '@edgepg/client/node'
import { webSocket } from '@edgepg/client/websocket'
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest'
import { server, transportKind, url, waitFor } from './helpers.ts'
import { type SilentProxy, startSilentProxy } from './silent-proxy.ts'

// Over TCP the client dials the silent proxy in front of PostgreSQL; through the relay, the relay dials it.
const GRACE = 300
let proxy: SilentProxy

beforeAll(async () => {
  proxy = await startSilentProxy({ host: server.host, port: server.port })
})
afterAll(() => proxy.close())
beforeEach(() => proxy.speak())

function silentTransport(): Transport {
  return transportKind === 'tcp'
    ? nodeSocket({ closeTimeout: GRACE })
    : webSocket({ url: inject('relayUrl'), closeTimeout: GRACE })
}
const target = () => url(undefined, proxy.host, proxy.port)

/** Waits until only `open` sockets are left at the proxy: the client (or the relay) destroyed the rest. */
const closedBehind = (open: number) =>
  waitFor(async () => {
    await proxy.probe()
    return proxy.open === open
  })

/** 'settled' when `promise` settles within `ms`, else 'pending' (a hang fails fast instead of at the test timeout). */
const within = (promise: Promise<unknown>, ms: number) =>
  Promise.race([
    promise.then(
      () => 'settled',
      () => 'settled',
    ),
    new Promise((resolve) => setTimeout(() => resolve('pending'), ms)),
  ])

describe(`closing when the server has gone silent (${transportKind})`, () => {
  it('client.end() settles after the close grace and the socket is destroyed', async () => {
    const [client, connection] = await connect(target(), { transport: silentTransport() })
    const done = connection.run()
    done.catch(() => {})
    expect((await client.queryOne<{ n: number }>('select 1 as n')).n).toBe(1)
    proxy.silence()
    const started = performance.now()
    expect(await within(client.end(), 5000)).toBe('settled')
    expect(performance.now() - started).toBeGreaterThanOrEqual(GRACE - 20)
    expect(await within(done, 1000)).toBe('settled')
    await closedBehind(0)
  })

  it('pool.end() settles after the close grace with every connection silent', async () => {
    const before = proxy.open
    const pool = createPool(target(), { transport: silentTransport(), max: 2 })
    const [a, b] = [await pool.connect(), await pool.connect()]
    await Promise.all([a.query('select 1'), b.query('select 2')])
    a.release()
    b.release()
    expect(proxy.open).toBe(before + 2)
    proxy.silence()
    expect(await within(pool.end(), 5000)).toBe('settled')
    await closedBehind(before)
  })

  it('closeTimeout must be a positive number of milliseconds', () => {
    expect(() => nodeSocket({ closeTimeout: 0 })).toThrow(/closeTimeout must be a positive number/)
    expect(() => webSocket({ url: 'ws://127.0.0.1:1/v1', closeTimeout: Number.NaN })).toThrow(
      /closeTimeout must be a positive number of milliseconds, found null/,
    )
  })
})
