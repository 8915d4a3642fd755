/**
 * A TCP proxy on loopback that delays every chunk by a fixed one-way latency in each direction, without
 * reordering or merging chunks and without pausing the sender (unlike `test/fault-proxy.ts`, whose chained
 * delays add up when several chunks arrive in one flight). A round trip through it costs 2 × `oneWay` ms.
 *
 * The TCP handshake with the proxy itself is local and costs nothing; the round-trip measure adds that one
 * round trip explicitly.
 */
import { type AddressInfo, connect, createServer, type Socket } from 'node:net'

export interface LatencyProxy {
  readonly port: number
  close(): Promise<void>
}

export async function startLatencyProxy(
  target: { host: string; port: number },
  oneWay: number,
): Promise<LatencyProxy> {
  const sockets = new Set<Socket>()
  const track = (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => socket.destroy())
  }
  const server = createServer((client) => {
    client.setNoDelay(true)
    const upstream = connect({ host: target.host, port: target.port, noDelay: true })
    track(client)
    track(upstream)
    forward(client, upstream, oneWay)
    forward(upstream, client, oneWay)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    close() {
      for (const socket of sockets) socket.destroy()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}

/** Timers of equal duration fire in the order they were set, so chunks keep their order. */
function forward(from: Socket, to: Socket, delay: number) {
  const later = (action: () => void) => (delay > 0 ? setTimeout(action, delay) : action())
  from.on('data', (chunk: Buffer) =>
    later(() => {
      if (!to.destroyed) to.write(chunk)
    }),
  )
  from.on('end', () => later(() => to.end()))
  from.on('close', () => later(() => to.destroy()))
}
