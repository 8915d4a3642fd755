/**
 * A loopback forwarder that can fall silent: after `silence()` it forwards nothing in either direction, not
 * even the client's half-close (FIN), and never closes a socket itself — a hung server or a middlebox that
 * drops everything. (`test/fault-proxy.ts`'s blackhole still forwards the FIN, so PostgreSQL closes.)
 */
import { type AddressInfo, connect, createServer, type Socket } from 'node:net'

export interface SilentProxy {
  readonly host: string
  readonly port: number
  /** Client-side sockets still open. */
  readonly open: number
  /** From now on, forward nothing: data and half-closes are dropped. */
  silence(): void
  /** Forward again (for connections opened afterwards). */
  speak(): void
  /**
   * Writes to every client socket twice, 50 ms apart: a peer that has closed its socket answers the first
   * write with a reset, and the second write then fails and closes ours (`open` drops). A closed peer is
   * invisible until then.
   */
  probe(): Promise<void>
  close(): Promise<void>
}

export async function startSilentProxy(target: { host: string; port: number }): Promise<SilentProxy> {
  let isSilent = false
  const clients = new Set<Socket>()
  const all = new Set<Socket>()
  const server = createServer({ allowHalfOpen: true }, (client) => {
    clients.add(client)
    all.add(client)
    const upstream = connect({ host: target.host, port: target.port, allowHalfOpen: true })
    all.add(upstream)
    for (const socket of [client, upstream]) {
      socket.on('error', () => {})
      socket.on('close', () => {
        all.delete(socket)
        clients.delete(socket)
      })
    }
    const forward = (from: Socket, to: Socket) => {
      from.on('data', (chunk) => {
        if (!isSilent) to.write(chunk)
      })
      from.on('end', () => {
        if (!isSilent) to.end()
      })
    }
    forward(client, upstream)
    forward(upstream, client)
    // Only the client's own close tears the pair down; an upstream close is hidden once silent.
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => {
      if (!isSilent) client.destroy()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    host: '127.0.0.1',
    port: (server.address() as AddressInfo).port,
    get open() {
      return clients.size
    },
    silence() {
      isSilent = true
    },
    speak() {
      isSilent = false
    },
    async probe() {
      for (const client of clients) client.write(new Uint8Array([0]))
      await new Promise((resolve) => setTimeout(resolve, 50))
      for (const client of clients) client.write(new Uint8Array([0]))
    },
    close() {
      for (const socket of all) socket.destroy()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}
