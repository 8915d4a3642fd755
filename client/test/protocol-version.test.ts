// Protocol 3.2 (PostgreSQL 18): requested on option, with its variable-length cancel key, and the clean
// fall back to 3.0 when a server answers NegotiateProtocolVersion.
import { createServer, type Socket } from 'node:net'
import { connect, isDatabaseError, isPgError } from '@edgepg/client'
import { describe, expect, it } from 'vitest'
import { authOk, concat, int32, message, readyForQuery } from '../../test/pg-bytes.ts'
import { open, transport, url } from './helpers.ts'

/** A fake server (fault injection only): answers the startup with `reply` and records the version asked. */
async function fake(reply: Uint8Array): Promise<{ port: number; versions: number[]; close(): void }> {
  const versions: number[] = []
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.once('data', (chunk) => {
      versions.push(chunk.readInt32BE(4))
      socket.write(reply)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as { port: number }).port,
    versions,
    close() {
      for (const socket of sockets) socket.destroy()
      server.close()
    },
  }
}

const negotiate = (newestMinor: number) => message('v', int32(newestMinor), int32(0))
const keyData = (pid: number, key: number[]) => message('K', int32(pid), key)

describe('protocol 3.2', () => {
  it('cancels a running statement with the variable-length key PostgreSQL 18 sends under 3.2', async () => {
    const { client } = await open({ protocolVersion: '3.2' })
    const running = client.query('select pg_sleep(10)').catch((e: unknown) => e)
    await new Promise((r) => setTimeout(r, 100))
    await client.cancelToken().cancel()
    const error = await running
    expect(isDatabaseError(error, '57014')).toBe(true)
    expect((await client.queryOne<{ n: number }>('select 1 as n')).n).toBe(1)
    await client.end()
  })

  it('asks for 3.2 in the startup packet, and falls back to 3.0 when the server negotiates it down', async () => {
    const server = await fake(concat(negotiate(0), authOk(), keyData(4242, int32(99)), readyForQuery()))
    try {
      const [client, connection] = await connect(url(undefined, '127.0.0.1', server.port), {
        transport: transport(),
        protocolVersion: '3.2',
      })
      expect(server.versions).toEqual([(3 << 16) | 2])
      expect(connection.processId).toBe(4242)
      client.end()
    } finally {
      server.close()
    }
  })

  it('asks for 3.0 by default', async () => {
    const server = await fake(concat(authOk(), keyData(1, int32(2)), readyForQuery()))
    try {
      const [client] = await connect(url(undefined, '127.0.0.1', server.port), { transport: transport() })
      expect(server.versions).toEqual([3 << 16])
      client.end()
    } finally {
      server.close()
    }
  })

  it('refuses a server that offers a newer protocol than requested', async () => {
    const server = await fake(concat(negotiate(9), authOk(), readyForQuery()))
    try {
      const error = await connect(url(undefined, '127.0.0.1', server.port), {
        transport: transport(),
        protocolVersion: '3.2',
      }).catch((e: unknown) => e)
      expect(isPgError(error, 'protocol')).toBe(true)
      expect((error as Error).message).toMatch(/server offered protocol 3\.9, newer than the 3\.2 requested/)
    } finally {
      server.close()
    }
  })

  it('refuses an invalid protocolVersion before any I/O', async () => {
    const error = await connect(url(), { transport: transport(), protocolVersion: '3.1' as never }).catch(
      (e: unknown) => e,
    )
    expect(isPgError(error, 'config')).toBe(true)
  })
})
