// Driver rows through the relay: D1a (the relay dies mid-query) and L5 (a 10 MiB parameter against a relay
// whose maxPayload is 1 MiB), with the real client over its WebSocket transport.
import { connect, isPgError } from '@edgepg/client'
import { webSocket } from '@edgepg/client/websocket'
import { describe, expect, it } from 'vitest'
import { pg, startTestRelay } from './helpers.ts'

const databaseUrl = `postgres://${pg.roles.scram.user}:${pg.roles.scram.password}@${pg.host}:${pg.port}/${pg.database}`

describe('the driver through the relay', () => {
  it('D1a: rejects the running and queued queries within milliseconds when the relay is killed', async () => {
    const relay = await startTestRelay({ shutdownGrace: 0 })
    const [client, connection] = await connect(databaseUrl, { transport: webSocket({ url: relay.wsUrl }) })
    const done = connection.run().catch((e) => e)
    const running = client.query('select pg_sleep(5)').catch((e) => e)
    const queued = client.query('select 1').catch((e) => e)
    await new Promise((r) => setTimeout(r, 100))
    const killed = performance.now()
    relay.server.closeAllConnections()
    for (const socket of relay.sessions) socket.close(1011, 'upstream unavailable')
    const [a, b] = await Promise.all([running, queued])
    expect(performance.now() - killed).toBeLessThan(500)
    expect(isPgError(a, 'io')).toBe(true)
    expect(isPgError(b, 'io')).toBe(true)
    expect(isPgError(await done)).toBe(true)
    expect(connection.state).toBe('closed')
    await expect(client.query('select 1')).rejects.toSatisfy((e) => isPgError(e, 'closed'))
    await relay.shutdown()
  })

  it('L5: sends a 10 MiB bytea through a relay with maxPayload 1 MiB, in frames under the limit', async () => {
    const relay = await startTestRelay({ maxPayload: 1024 * 1024 })
    const [client, connection] = await connect(databaseUrl, { transport: webSocket({ url: relay.wsUrl }) })
    void connection.run()
    const big = new Uint8Array(10 * 1024 * 1024).map((_, i) => i % 251)
    const row = await client.queryOne<{ n: number; md5: string }>(
      'select length($1::bytea) as n, md5($1::bytea) as md5',
      [big],
    )
    expect(row.n).toBe(big.length)
    const { createHash } = await import('node:crypto')
    expect(row.md5).toBe(createHash('md5').update(big).digest('hex'))
    await client.end()
    await relay.shutdown()
  })
})
