/**
 * A TCP fault proxy on loopback for fault-injection tests (`tc netem` is not available here). It forwards to
 * one target and can add latency, limit bandwidth, blackhole (accept and forward nothing), reset, slice
 * traffic into tiny chunks, or cut a connection after N bytes. Faults can change while connections are open.
 */
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net'

export interface Faults {
  /** Delay added to every chunk, each direction, in ms. */
  latency?: number
  /** Bytes per second, each direction; 0 or undefined = unlimited. */
  bandwidth?: number
  /**
   * Accept connections and keep them open, but forward nothing in either direction (not even a half-close).
   * Bytes are held, not dropped: once the blackhole lifts they flow again in order, as through a stalled
   * middlebox — a TCP stream never loses bytes in its middle and goes on.
   */
  blackhole?: boolean
  /**
   * Discard every byte while set: packets lost for good. A stream that lost bytes in its middle cannot be
   * trusted again (TCP would have failed it), so use this only for a connection that must die silently.
   */
  lose?: boolean
  /** Cut every chunk into pieces of at most this many bytes (each its own write). */
  slice?: number
  /** Reset (RST) a connection once this many bytes have gone server → client. */
  cutAfter?: number
  /** Refuse new connections by resetting them at once. */
  reset?: boolean
}

export interface FaultProxy {
  readonly port: number
  readonly host: string
  faults: Faults
  /** Open client-side connections. */
  readonly connections: number
  /**
   * Client → server bursts seen so far, across connections: a burst starts when the client sends after
   * the server did (or first). Each one waits for an answer, so with a latency set this counts round trips
   * above TCP's own handshake.
   */
  readonly requests: number
  /** Resets every open connection. */
  resetAll(): void
  close(): Promise<void>
}

export async function startFaultProxy(
  target: { host: string; port: number },
  faults: Faults = {},
): Promise<FaultProxy> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((client) => {
    sockets.add(client)
    client.on('close', () => sockets.delete(client))
    client.on('error', () => {})
    if (proxy.faults.reset) {
      client.resetAndDestroy()
      return
    }
    const upstream = connect({ host: target.host, port: target.port, noDelay: true })
    sockets.add(upstream)
    upstream.on('close', () => {
      sockets.delete(upstream)
      // Deliver what is still delayed on its way down (an ErrorResponse before a close), then close.
      void down().then(() => client.destroy())
    })
    upstream.on('error', () => client.destroy())
    client.on('close', () => upstream.destroy())
    let downBytes = 0
    const turn = { direction: undefined as 'up' | 'down' | undefined }
    pipe(client, upstream, () => 0, 'up', turn)
    const down = pipe(
      upstream,
      client,
      (n) => {
        downBytes += n
        return downBytes
      },
      'down',
      turn,
    )
  })

  let requests = 0
  const pipe = (
    from: Socket,
    to: Socket,
    count: (n: number) => number,
    way: 'up' | 'down',
    turn: { direction: 'up' | 'down' | undefined },
  ) => {
    let chain = Promise.resolve()
    const held = async () => {
      while (proxy.faults.blackhole && !to.destroyed && !from.destroyed) await sleep(20)
    }
    from.on('data', (chunk: Buffer) => {
      if (proxy.faults.lose) return
      if (way === 'up' && turn.direction !== 'up') requests++
      turn.direction = way
      from.pause()
      chain = chain.then(async () => {
        await held()
        const { latency = 0, bandwidth = 0, slice = 0, cutAfter } = proxy.faults
        if (latency > 0) await sleep(latency)
        const step = slice > 0 ? slice : chunk.length
        for (let i = 0; i < chunk.length; i += step) {
          const piece = chunk.subarray(i, i + step)
          if (bandwidth > 0) await sleep((piece.length / bandwidth) * 1000)
          if (to.destroyed) return
          const total = count(piece.length)
          if (cutAfter !== undefined && total >= cutAfter) {
            to.write(piece.subarray(0, piece.length - (total - cutAfter)))
            from.resetAndDestroy()
            to.resetAndDestroy()
            return
          }
          if (!to.write(piece)) await new Promise((r) => to.once('drain', r))
        }
        from.resume()
      })
    })
    from.on('end', () => {
      chain = chain.then(held).then(() => {
        to.end()
      })
    })
    return () => chain
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const proxy: FaultProxy = {
    port: (server.address() as AddressInfo).port,
    host: '127.0.0.1',
    faults,
    get requests() {
      return requests
    },
    get connections() {
      return [...sockets].filter((s) => s.remotePort !== target.port).length
    },
    resetAll() {
      for (const socket of sockets) socket.resetAndDestroy()
    },
    close() {
      for (const socket of sockets) socket.destroy()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
  return proxy
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
