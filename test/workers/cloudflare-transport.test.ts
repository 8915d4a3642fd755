/**
 * `cloudflareSocket()` in real workerd against scripted TCP servers: the TLS negotiation the ByteStream must
 * get right on workerd (no read may be outstanding when startTls() unlocks the streams), and abort.
 */
import { once } from 'node:events'
import { createServer, type Server, type Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import type { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { bundleWorker, startWorker } from './helpers.ts'

let mf: Miniflare

beforeAll(async () => {
  const script = await bundleWorker(fileURLToPath(new URL('./fixtures/transport-worker.ts', import.meta.url)))
  ;({ mf } = await startWorker(script))
})

afterAll(async () => {
  await mf?.dispose()
})

/** A server that answers SSLRequest with `answer`, then runs `then` on everything that follows. */
async function sslServer(answer: 'S' | 'N', then: (socket: Socket, bytes: Buffer) => void) {
  const received: Buffer[] = []
  const server: Server = createServer((socket) => {
    socket.on('error', () => {})
    let isFirst = true
    socket.on('data', (bytes) => {
      if (isFirst) {
        isFirst = false
        received.push(bytes)
        socket.write(answer)
        return
      }
      received.push(bytes)
      then(socket, bytes)
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { server, received, port: (server.address() as { port: number }).port }
}

async function call(path: string) {
  return (await (await mf.dispatchFetch(`http://transport.test${path}`)).json()) as Record<string, unknown>
}

describe('cloudflareSocket()', () => {
  it('after S, unlocks the plain streams and sends a TLS ClientHello; a failed handshake is one io error', async () => {
    const server = await sslServer('S', (socket) => socket.destroy())
    try {
      const result = await call(`/tls?port=${server.port}`)
      expect(result.answer).toBe('S')
      expect(result.tls).toMatchObject({ ended: false, error: { kind: 'io' } })
      // The SSLRequest, then a TLS handshake record (content type 22) with nothing in plain text between.
      expect([...server.received[0]!]).toEqual([0, 0, 0, 8, 4, 210, 22, 47])
      expect(server.received[1]![0]).toBe(0x16)
    } finally {
      server.server.close()
    }
  })

  it('after N, goes on in plain text: the next write resumes reading', async () => {
    const server = await sslServer('N', (socket, bytes) => socket.write(bytes))
    try {
      expect(await call(`/tls?port=${server.port}`)).toEqual({ answer: 'N', after: 'ping' })
    } finally {
      server.server.close()
    }
  })

  it('carries a whole connection: SCRAM, pipelined queries, and run() resolves after end()', async () => {
    const pg = inject('pg')
    const { user, password } = pg.roles.scram
    const url = `postgres://${user}:${encodeURIComponent(password)}@${pg.host}:${pg.port}/${pg.database}`
    expect(await call(`/lifecycle?url=${encodeURIComponent(url)}`)).toEqual({
      rows: [{ n: 2 }, { n: 4 }, { n: 6 }],
      state: 'closed',
    })
  })

  it('rejects with a timeout error when the signal aborts while the socket is opening', async () => {
    const server = await sslServer('N', () => {})
    try {
      expect(await call(`/abort?port=${server.port}`)).toEqual({
        thrown: { kind: 'timeout', message: `connect to 127.0.0.1:${server.port} aborted` },
      })
    } finally {
      server.server.close()
    }
  })
})
