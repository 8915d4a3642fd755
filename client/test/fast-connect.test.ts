import { type ConnectOptions, connect, isDatabaseError, isPgError, type Transport } from '@edgepg/client'
import { nodeSocket } from '@edgepg/client/node'
import { webSocket } from '@edgepg/client/websocket'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { type FaultProxy, startFaultProxy } from '../../test/fault-proxy.ts'
import { server, transportKind, url } from './helpers.ts'

// A latency on the proxy makes every answer arrive after the client's next burst could have been sent, so
// `proxy.requests` counts the client's waits: round trips from the socket's open to the first row.
const LATENCY = 30
const relay = new URL(inject('relayUrl'))
let proxy: FaultProxy

beforeAll(async () => {
  // TCP: the proxy stands in front of PostgreSQL. WebSocket: in front of the relay (upgrade included).
  proxy =
    transportKind === 'tcp'
      ? await startFaultProxy({ host: server.host, port: server.port }, { latency: LATENCY })
      : await startFaultProxy({ host: relay.hostname, port: Number(relay.port) }, { latency: LATENCY })
})
afterAll(() => proxy.close())

type Role = { user: string; password: string }

/** A transport and URL that go through the proxy. */
function through(role: Role = server.roles.scram): { transport: Transport; target: string } {
  if (transportKind === 'tcp') return { transport: nodeSocket(), target: url(role, proxy.host, proxy.port) }
  return {
    transport: webSocket({ url: `ws://${proxy.host}:${proxy.port}${relay.pathname}` }),
    target: url(role),
  }
}

/** Connects through the proxy, runs the first query, and counts the round trips it took. */
async function firstRow(options: Partial<ConnectOptions>) {
  const { transport, target } = through()
  const before = proxy.requests
  const [client, connection] = await connect(target, { transport, ...options })
  const done = connection.run()
  done.catch(() => {})
  const row = await client.queryOne<{ n: number }>('select $1::int as n', [7])
  const requests = proxy.requests - before
  await client.end()
  return { row, requests }
}

// TCP's handshake is not data: the proxy cannot see it, and it adds one round trip to each count.
const upgrade = transportKind === 'tcp' ? 0 : 1

describe(`round trips to the first row under SCRAM (${transportKind})`, () => {
  it('default: startup, client-first, client-final, then the query', async () => {
    const { row, requests } = await firstRow({})
    expect(row.n).toBe(7)
    expect(requests).toBe(4 + upgrade)
  })

  it('pipelineConnect: true — the first query rides with the client-final message', async () => {
    const { row, requests } = await firstRow({ pipelineConnect: true })
    expect(row.n).toBe(7)
    expect(requests).toBe(3 + upgrade)
  })

  it("pipelineConnect: 'scram' — client-first also rides with the startup: 4 round trips through the relay", async () => {
    const { row, requests } = await firstRow({ pipelineConnect: 'scram' })
    expect(row.n).toBe(7)
    expect(requests).toBe(2 + upgrade)
    expect(requests + 1).toBeLessThanOrEqual(4)
  })
})

describe('pipelined connect: failures', () => {
  it('a wrong password rejects the first query and run() with 28P01, and leaves no unhandled rejection', async () => {
    const { transport, target } = through({ user: server.roles.scram.user, password: 'nope' })
    const [client, connection] = await connect(target, { transport, pipelineConnect: 'scram' })
    const done = connection.run()
    done.catch(() => {})
    const error = await client.query('select 1').catch((e: unknown) => e)
    expect(isDatabaseError(error, '28P01'), String(error)).toBe(true)
    await expect(done).rejects.toMatchObject({ code: '28P01' })
  })

  it("pipelineConnect: 'scram' against an md5 role fails with an error that says which method the server wanted", async () => {
    const { transport, target } = through(server.roles.md5)
    const error = await connect(target, { transport, pipelineConnect: 'scram' })
      .then(async ([client, connection]) => {
        const done = connection.run()
        done.catch(() => {})
        return client.query('select 1')
      })
      .catch((e: unknown) => e)
    expect(isPgError(error)).toBe(true)
    expect((error as Error).message).toMatch(/server asked for md5/)
  })

  it('md5 and cleartext roles connect pipelined too', async () => {
    for (const role of [server.roles.md5, server.roles.password]) {
      const { transport, target } = through(role)
      const [client, connection] = await connect(target, { transport, pipelineConnect: true })
      const done = connection.run()
      expect((await client.queryOne<{ u: string }>('select current_user as u')).u).toBe(role.user)
      await client.end()
      await done
    }
  })

  it('rejects an invalid pipelineConnect value before any I/O', async () => {
    const error = await connect(url(), { transport: nodeSocket(), pipelineConnect: 'yes' as never }).catch(
      (e: unknown) => e,
    )
    expect(isPgError(error, 'config')).toBe(true)
  })
})
