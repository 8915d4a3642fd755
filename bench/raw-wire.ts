/**
 * The protocol's floor for pipelined queries from Node: a client that does nothing but write pre-encoded
 * bytes and count ReadyForQuery — no promises, no decoding, no per-query objects. It logs in as the trust
 * role over one `node:net` socket, prepares `select $1::int` once, and per sample writes `count` × Bind (one
 * text parameter, binary result) + Execute, with a Sync after each query or after every `perSync`, encoded
 * first and then written in 64 KB slices. What a Sync per query costs the server shows as the gap between its two settings; what edgepg costs
 * above the wire shows against its own rows.
 */
import net from 'node:net'
import { FrontendWriter } from '../client/src/protocol/writer.ts'
import type { Endpoint } from './drivers.ts'

/** A raw connection: `run(count, perSync)` times one burst and resolves with queries per second. */
export interface RawWire {
  run(count: number, perSync: number): Promise<number>
  end(): void
}

const SLICE = 64 * 1024

export async function openRawWire(e: Endpoint, user: string): Promise<RawWire> {
  const socket = net.connect(e.tcp.port, e.tcp.host)
  socket.setNoDelay(true)
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  let pending: Buffer = Buffer.alloc(0)
  let wanted = 0
  let seen = 0
  let failure: Error | undefined
  let onDone: (() => void) | undefined
  socket.on('data', (chunk: Buffer) => {
    const buffer = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk
    let at = 0
    while (buffer.length - at >= 5) {
      const length = buffer.readInt32BE(at + 1)
      if (buffer.length - at < length + 1) break
      const type = buffer[at]
      if (type === 0x45)
        failure ??= new Error(
          `the server answered an error: ${buffer.toString('utf8', at + 5, at + 1 + length)}`,
        )
      if (type === 0x5a && ++seen === wanted) onDone?.()
      at += length + 1
    }
    pending = buffer.subarray(at)
  })
  const writer = new FrontendWriter()
  /** Writes `bytes` in {@link SLICE}s one after another and resolves at the `readies`-th ReadyForQuery. */
  const exchange = (bytes: Uint8Array, readies: number) =>
    new Promise<void>((resolve, reject) => {
      seen = 0
      wanted = readies
      onDone = () => (failure ? reject(failure) : resolve())
      for (let at = 0; at < bytes.length; at += SLICE) socket.write(bytes.subarray(at, at + SLICE))
    })
  await exchange(writer.startup({ user, database: e.database }).finish(), 1)
  await exchange(writer.parse('raw', 'select $1::int as n', []).sync().finish(), 1)
  return {
    async run(count, perSync) {
      // Encoded beforehand, written in 64 KB slices one after another (as edgepg writes a long burst), so the
      // server starts on the first slice while the rest is written.
      for (let i = 0; i < count; i++) {
        writer.bind('', 'raw', [String(i)], [1]).execute('', 0)
        if ((i + 1) % perSync === 0) writer.sync()
      }
      const bytes = writer.finish()
      const start = performance.now()
      await exchange(bytes, count / perSync)
      return count / ((performance.now() - start) / 1000)
    },
    end: () => socket.end(),
  }
}
