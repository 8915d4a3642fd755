// Relay attack cases S4, S5, L1, L3, L4, A3, H2, H3: what happens after the upgrade.
import { mintToken } from '@edgepg/proxy'
import { CloseCode } from '@edgepg/shared'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import {
  admin,
  backends,
  openWs,
  pgAddress,
  sleep,
  startTestRelay,
  startupPacket,
  type TestRelay,
  trustStartup,
  upgrade,
} from './helpers.ts'

let relay: TestRelay | undefined
afterEach(async () => {
  await relay?.shutdown()
  relay = undefined
})

const SECRET = 'a-test-secret-that-is-long-enough-0123456789'

describe('S4: protocol pinning', () => {
  const junk: [string, Buffer][] = [
    ['an HTTP request', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')],
    ['a Redis command', Buffer.from('*1\r\n$4\r\nPING\r\n')],
    ['a startup packet longer than 10000 bytes', Buffer.from([0, 0, 0x4e, 0x84, 0, 3, 0, 0])],
    ['a startup packet shorter than 8 bytes', Buffer.from([0, 0, 0, 4, 0, 3, 0, 0])],
  ]
  for (const [what, bytes] of junk) {
    it(`closes with 1008 before dialing when the first bytes are ${what}`, async () => {
      relay = await startTestRelay()
      const { ws, closed } = await openWs(`${relay.wsUrl}?address=${pgAddress}`)
      ws.send(bytes)
      expect(await closed).toEqual({ code: CloseCode.policy, reason: 'denied' })
      expect(relay.dials).toEqual([])
    })
  }

  it('accepts a CancelRequest as the first packet and dials for it', async () => {
    relay = await startTestRelay()
    const { ws, closed } = await openWs(`${relay.wsUrl}?address=${pgAddress}`)
    const cancel = Buffer.alloc(16)
    cancel.writeInt32BE(16, 0)
    cancel.writeInt32BE(80877102, 4)
    cancel.writeInt32BE(12345, 8)
    cancel.writeInt32BE(678, 12)
    ws.send(cancel)
    expect((await closed).code).toBe(CloseCode.normal)
    expect(relay.dials).toHaveLength(1)
  })
})

describe('S5: upstream unavailable', () => {
  it('closes with a generic 1011 when the allowed target refuses, naming no errno or address', async () => {
    relay = await startTestRelay({ allow: ['127.0.0.1:1'] })
    const { ws, closed } = await openWs(`${relay.wsUrl}?address=127.0.0.1:1`)
    ws.send(startupPacket('x', 'y'))
    const result = await closed
    expect(result).toEqual({ code: 1011, reason: 'upstream unavailable' })
    expect(result.reason).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/)
  })

  it('closes with 1011 after the connect timeout when the dial hangs', async () => {
    const { startRelay } = await import('@edgepg/proxy')
    const hanging = await startRelay(
      { port: 0, allow: [pgAddress], connectTimeout: 300, allowMissingOrigin: 'always' },
      {
        dial: (_target, timeout) =>
          new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), timeout)),
        logger: { log() {} },
      },
    )
    try {
      const { ws, closed } = await openWs(`${hanging.wsUrl}?address=${pgAddress}`)
      const started = Date.now()
      ws.send(startupPacket('x', 'y'))
      expect(await closed).toEqual({ code: 1011, reason: 'upstream unavailable' })
      expect(Date.now() - started).toBeGreaterThanOrEqual(280)
    } finally {
      await hanging.shutdown()
    }
  })
})

describe('L1: connection limits', () => {
  it('refuses connection N+1 with 503 and leaves the open sessions working', async () => {
    relay = await startTestRelay({ maxConnections: 2 })
    const a = await openWs(`${relay.wsUrl}?address=${pgAddress}`)
    const b = await openWs(`${relay.wsUrl}?address=${pgAddress}`)
    expect(await upgrade(`${relay.wsUrl}?address=${pgAddress}`)).toEqual({ status: 503, body: 'unavailable' })
    a.ws.send(trustStartup('edgepg-l1'))
    await sleep(300)
    expect(a.received.length).toBeGreaterThan(0)
    expect(a.received[0]![0]).toBe(0x52) // 'R': AuthenticationOk
    a.ws.close()
    b.ws.close()
    await Promise.all([a.closed, b.closed])
    expect((await upgrade(`${relay.wsUrl}?address=${pgAddress}`)).status).toBe(101)
  })

  it('refuses the M+1th session from one IP', async () => {
    relay = await startTestRelay({ maxConnectionsPerIp: 1 })
    const a = await openWs(`${relay.wsUrl}?address=${pgAddress}`)
    expect((await upgrade(`${relay.wsUrl}?address=${pgAddress}`)).status).toBe(503)
    a.ws.close()
    await a.closed
  })

  it('refuses the K+1th session with one token', async () => {
    relay = await startTestRelay({ tokenSecrets: [SECRET], maxConnectionsPerToken: 1 })
    const token = await mintToken(SECRET, { tgt: pgAddress, exp: Math.floor(Date.now() / 1000) + 60 })
    const protocols = [`edgepg.token.${token}`]
    const a = await openWs(`${relay.wsUrl}?address=${pgAddress}`, { protocols })
    expect((await upgrade(`${relay.wsUrl}?address=${pgAddress}`, { protocols })).status).toBe(503)
    a.ws.close()
    await a.closed
  })
})

describe('L3: upgrade, then silence', () => {
  it('closes at the startup timeout without dialing', async () => {
    relay = await startTestRelay({ startupTimeout: 300 })
    const { closed } = await openWs(`${relay.wsUrl}?address=${pgAddress}`)
    const started = Date.now()
    expect(await closed).toEqual({ code: CloseCode.policy, reason: 'startup timeout' })
    expect(Date.now() - started).toBeGreaterThanOrEqual(250)
    expect(relay.dials).toEqual([])
  })
})

describe('L4: frames', () => {
  it('closes with 1009 on a 2 MiB frame when maxPayload is 1 MiB', async () => {
    relay = await startTestRelay({ maxPayload: 1024 * 1024 })
    const { ws, closed } = await openWs(`${relay.wsUrl}?address=${pgAddress}`)
    ws.send(Buffer.alloc(2 * 1024 * 1024))
    expect((await closed).code).toBe(1009)
    expect(relay.dials).toEqual([])
  })

  it('closes a flood of 200,000 one-byte fragments without buffering them all', async () => {
    relay = await startTestRelay({ maxPayload: 64 * 1024 })
    const { ws, closed } = await openWs(`${relay.wsUrl}?address=${pgAddress}`)
    const one = Buffer.from([0])
    for (let i = 0; i < 200_000 && ws.readyState === WebSocket.OPEN; i++)
      ws.send(one, { fin: false, binary: true })
    const { code } = await closed
    expect([1008, 1009]).toContain(code)
    expect(relay.dials).toEqual([])
  })

  it('closes with 1003 on a text frame', async () => {
    relay = await startTestRelay()
    const { ws, closed } = await openWs(`${relay.wsUrl}?address=${pgAddress}`)
    ws.send('select 1')
    expect(await closed).toEqual({ code: 1003, reason: 'binary frames only' })
  })

  it('answers an offer of permessage-deflate without the extension', async () => {
    relay = await startTestRelay()
    const ws = new WebSocket(`${relay.wsUrl}?address=${pgAddress}`, { perMessageDeflate: true })
    const headers = await new Promise<Record<string, string | string[] | undefined>>((resolve, reject) => {
      ws.on('upgrade', (response) => resolve(response.headers))
      ws.on('error', reject)
    })
    expect(headers['sec-websocket-extensions']).toBeUndefined()
    ws.close()
  })
})

describe('A3, H2, H3: sessions that end', () => {
  it('A3: closes with 1008 when the token expires mid-session, and the backend goes away', async () => {
    relay = await startTestRelay({ tokenSecrets: [SECRET] })
    const token = await mintToken(SECRET, { tgt: pgAddress, exp: Math.floor(Date.now() / 1000) + 2 })
    const { ws, closed } = await openWs(`${relay.wsUrl}?address=${pgAddress}`, {
      protocols: [`edgepg.token.${token}`],
    })
    ws.send(trustStartup('edgepg-a3'))
    await sleep(300)
    expect(await backends('edgepg-a3')).toBe(1)
    expect(await closed).toEqual({ code: CloseCode.policy, reason: 'session lifetime exceeded' })
    await expect.poll(() => backends('edgepg-a3'), { timeout: 3000 }).toBe(0)
  })

  it('H2: forwards the termination ErrorResponse, then closes', async () => {
    relay = await startTestRelay()
    const { ws, closed, received } = await openWs(`${relay.wsUrl}?address=${pgAddress}`)
    ws.send(trustStartup('edgepg-h2'))
    await expect.poll(() => backends('edgepg-h2')).toBe(1)
    await admin(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'edgepg-h2'`)
    const { code } = await closed
    expect([1000, 1011]).toContain(code)
    const all = Buffer.concat(received).toString('latin1')
    expect(all).toContain('57P01')
    expect(relay.sessions.size).toBe(0)
  })

  it('H3: closes a session whose client answers no pings with 1001 at the idle timeout, and the backend goes away', async () => {
    relay = await startTestRelay({ idleTimeout: 400, pingInterval: 60_000 })
    // autoPong off: the client reads, but answers nothing, so nobody is there as far as the relay can tell.
    const ws = new WebSocket(`${relay.wsUrl}?address=${pgAddress}`, {
      autoPong: false,
      perMessageDeflate: false,
    })
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    )
    await new Promise((resolve) => ws.on('open', resolve))
    ws.send(trustStartup('edgepg-h3'))
    await expect.poll(() => backends('edgepg-h3')).toBe(1)
    expect(await closed).toEqual({ code: 1001, reason: 'idle timeout' })
    await expect.poll(() => backends('edgepg-h3'), { timeout: 3000 }).toBe(0)
  })
})
