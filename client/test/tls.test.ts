import { createServer, type Server } from 'node:net'
import { connect, isPgError } from '@edgepg/client'
import { nodeSocket } from '@edgepg/client/node'
import { describe, expect, it } from 'vitest'
import { startFaultProxy } from '../../test/fault-proxy.ts'
import { admin, open, server, transport, transportKind, url, waitFor } from './helpers.ts'

const sslOf = async (client: Awaited<ReturnType<typeof open>>['client']) =>
  (
    await client.queryOne<{ ssl: boolean; version: string | null }>(
      'select ssl, version from pg_stat_ssl where pid = pg_backend_pid()',
    )
  ).ssl

/** A fake server that answers SSLRequest with `reply` and then waits: fault injection only. */
async function answering(reply: Uint8Array): Promise<{ port: number; server: Server }> {
  const fake = createServer((socket) => {
    socket.once('data', () => socket.write(reply))
    socket.on('error', () => {})
  })
  await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve))
  return { port: (fake.address() as { port: number }).port, server: fake }
}

async function failure(target: string, options: Record<string, unknown> = {}): Promise<unknown> {
  return connect(target, { transport: transport(), connectTimeout: 5000, ...options }).catch(
    (e: unknown) => e,
  )
}

if (transportKind === 'tcp') {
  describe('TLS over TCP (sslmode)', () => {
    it('sslmode=require encrypts the session (pg_stat_ssl says so) without verifying the certificate', async () => {
      const db = await open({ url: `${url()}?sslmode=require` })
      expect(await sslOf(db.client)).toBe(true)
      expect((await db.client.queryOne<{ n: number }>('select $1::int as n', [5])).n).toBe(5)
      await db.client.end()
    })

    it('sslmode=verify-full accepts the server certificate given its CA and a matching host name', async () => {
      const db = await open({
        url: `${url(undefined, 'localhost')}?sslmode=verify-full`,
        tls: { ca: server.ca },
      })
      expect(await sslOf(db.client)).toBe(true)
      await db.client.end()
    })

    it('sslmode=verify-full refuses a certificate the runtime does not trust', async () => {
      const error = await failure(`${url(undefined, 'localhost')}?sslmode=verify-full`)
      expect(isPgError(error, 'io')).toBe(true)
      expect((error as Error).message).toMatch(/TLS handshake with localhost failed: self-signed certificate/)
    })

    it('sslmode=verify-full refuses a certificate for another name; verify-ca accepts it', async () => {
      const error = await failure(`${url()}?sslmode=verify-full`, { tls: { ca: server.ca } })
      expect(isPgError(error, 'io')).toBe(true)
      expect((error as Error).message).toMatch(/TLS handshake with 127\.0\.0\.1 failed: .*(IP|altnames)/)
      const db = await open({ url: `${url()}?sslmode=verify-ca`, tls: { ca: server.ca } })
      expect(await sslOf(db.client)).toBe(true)
      await db.client.end()
    })

    it('sslmode=prefer uses TLS when the server offers it; disable does not ask', async () => {
      const preferred = await open({ url: `${url()}?sslmode=prefer` })
      expect(await sslOf(preferred.client)).toBe(true)
      await preferred.client.end()
      const plain = await open({ url: `${url()}?sslmode=disable` })
      expect(await sslOf(plain.client)).toBe(false)
      await plain.client.end()
    })

    it('SCRAM, md5 and cleartext roles all log in over TLS', async () => {
      for (const role of [server.roles.scram, server.roles.md5, server.roles.password]) {
        const db = await open({ url: `${url(role)}?sslmode=require` })
        expect(await sslOf(db.client)).toBe(true)
        await db.client.end()
      }
    })

    it('a server that answers N fails sslmode=require with a clear error', async () => {
      const fake = await answering(new Uint8Array([0x4e]))
      try {
        const error = await failure(`postgres://u:p@127.0.0.1:${fake.port}/db?sslmode=require`)
        expect(isPgError(error, 'config')).toBe(true)
        expect((error as Error).message).toMatch(/does not accept TLS connections \(it answered N\)/)
      } finally {
        fake.server.close()
      }
    })

    it('refuses bytes sent after S before the handshake (CVE-2021-23222)', async () => {
      const fake = await answering(new Uint8Array([0x53, 0x52, 0, 0, 0, 8, 0, 0, 0, 0]))
      try {
        const error = await failure(`postgres://u:p@127.0.0.1:${fake.port}/db?sslmode=require`)
        expect(isPgError(error, 'protocol')).toBe(true)
        expect((error as Error).message).toMatch(/answered SSLRequest with 10 bytes, expected exactly one/)
      } finally {
        fake.server.close()
      }
    })

    it('a TLS handshake that stalls after S rejects with kind timeout at connectTimeout and the socket is closed', async () => {
      let closed: Promise<void> | undefined
      const fake = createServer((socket) => {
        socket.on('error', () => {})
        closed = new Promise((resolve) => socket.once('close', () => resolve()))
        // Answer SSLRequest with S, then never answer the ClientHello.
        socket.once('data', () => socket.write(new Uint8Array([0x53])))
      })
      await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve))
      try {
        const port = (fake.address() as { port: number }).port
        const started = performance.now()
        const error = await failure(`postgres://u:p@127.0.0.1:${port}/db?sslmode=require`, {
          connectTimeout: 300,
        })
        const elapsed = performance.now() - started
        expect(isPgError(error, 'timeout')).toBe(true)
        expect((error as Error).message).toMatch(
          /connect timed out after 300 ms waiting for the TLS negotiation/,
        )
        expect(elapsed).toBeGreaterThanOrEqual(290)
        expect(elapsed).toBeLessThan(5000)
        const seen = await Promise.race([
          closed!.then(() => 'closed'),
          new Promise((resolve) => setTimeout(() => resolve('still open'), 2000)),
        ])
        expect(seen).toBe('closed')
      } finally {
        fake.close()
      }
    })

    it('a TLS handshake still under way at connectTimeout never goes on to authenticate a session', async () => {
      // Every chunk takes 400 ms each way: SSLRequest is answered at ~800 ms, the handshake needs ~1600 more.
      const slow = await startFaultProxy({ host: server.host, port: server.port }, { latency: 400 })
      const name = `edgepg_late_tls_${process.pid}`
      try {
        const error = await failure(
          `${url(undefined, slow.host, slow.port)}?sslmode=require&application_name=${name}`,
          {
            connectTimeout: 1000,
          },
        )
        expect(isPgError(error, 'timeout')).toBe(true)
        await waitFor(() => slow.connections === 0, 4000)
        const sessions = await admin('select pid from pg_stat_activity where application_name = $1', [name])
        expect(sessions).toEqual([])
      } finally {
        await slow.close()
      }
    })

    it('a pool over TLS hands out encrypted connections', async () => {
      const { createPool } = await import('@edgepg/client')
      const pool = createPool(`${url()}?sslmode=require`, { transport: nodeSocket(), max: 2 })
      const rows = await Promise.all(
        [1, 2, 3].map(() =>
          pool.queryOne<{ ssl: boolean }>('select ssl from pg_stat_ssl where pid = pg_backend_pid()'),
        ),
      )
      expect(rows.every((r) => r.ssl)).toBe(true)
      await pool.end()
    })
  })
} else {
  describe('TLS through a WebSocket relay', () => {
    it('sslmode=prefer goes on without TLS to PostgreSQL (the relay carries plain bytes)', async () => {
      const db = await open({ url: `${url()}?sslmode=prefer` })
      expect(await sslOf(db.client)).toBe(false)
      await db.client.end()
    })

    it('sslmode=require is refused with an error that names wss://', async () => {
      const error = await failure(`${url()}?sslmode=require`)
      expect(isPgError(error, 'config')).toBe(true)
      expect((error as Error).message).toMatch(
        /sslmode=require needs a transport that can start TLS.*wss:\/\//,
      )
    })
  })
}
