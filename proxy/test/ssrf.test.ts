// Relay attack case S3: names and IP spellings that hide a blocked address. The relay resolves once, checks
// the result, and dials exactly that IP. A recording dialer proves what was (not) dialed.
import { afterEach, describe, expect, it } from 'vitest'
import { openWs, pg, startTestRelay, startupPacket, type TestRelay, upgrade } from './helpers.ts'

let relay: TestRelay | undefined
afterEach(async () => {
  await relay?.shutdown()
  relay = undefined
})

describe('S3: hidden blocked addresses', () => {
  const spellings = [
    '2852039166',
    '0xA9FEA9FE',
    '0251.0376.0251.0376',
    '127.1',
    '0',
    '[::ffff:169.254.169.254]',
    '[::ffff:127.0.0.1]',
    'metadata.google.internal',
    'localhost.',
    '[fe80::1]',
    '[64:ff9b::a9fe:a9fe]',
  ]
  it('refuses every spelling of a metadata, loopback or link-local address, with no dial', async () => {
    const lookups: string[] = []
    relay = await startTestRelay({ allow: ['0.0.0.0/0:*', '::/0:*'] }, async (host) => {
      lookups.push(host)
      return [{ address: host === 'localhost' ? '127.0.0.1' : '169.254.169.254', family: 4 }]
    })
    for (const host of spellings) {
      const result = await upgrade(`${relay.wsUrl}?address=${encodeURIComponent(`${host}:5432`)}`)
      expect({ host, ...result }).toEqual({ host, status: 403, body: 'forbidden' })
    }
    expect(relay.dials).toEqual([])
  })

  it('refuses an allowed name that resolves to a private address', async () => {
    relay = await startTestRelay({ allow: ['db.example:5432'] }, async () => [
      { address: '10.0.0.5', family: 4 },
    ])
    expect((await upgrade(`${relay.wsUrl}?address=db.example:5432`)).status).toBe(403)
    expect(relay.dials).toEqual([])
  })

  it('resolves once and dials the validated IP even when a second lookup would rebind to a private one', async () => {
    let lookups = 0
    relay = await startTestRelay(
      { allow: [`db.example:${pg.port}`, `127.0.0.1/32:${pg.port}`] },
      async () => {
        lookups++
        return [{ address: lookups === 1 ? '127.0.0.1' : '10.0.0.1', family: 4 }]
      },
    )
    const { ws, closed } = await openWs(`${relay.wsUrl}?address=db.example:${pg.port}`)
    ws.send(startupPacket('nobody', 'edgepg'))
    await new Promise((r) => setTimeout(r, 200))
    expect(lookups).toBe(1)
    expect(relay.dials).toEqual([{ host: '127.0.0.1', port: pg.port }])
    ws.close()
    await closed
  })
})
