// The Worker's session adapters on the shared core, with the platform objects replaced: workerd does not
// report a WebSocket's bufferedAmount (workerd#988), so backpressure toward the client cannot be observed in
// workerd itself. This runs the Worker adapter against a WebSocket that does report it, as a runtime that
// implements the standard property would, and a socket made of real web streams.
import { describe, expect, it } from 'vitest'
import { resolveConfig } from '../config.ts'
import { silentLogger } from '../log.ts'
import { RelayMetrics } from '../metrics.ts'
import { type StreamSocket, startWorkerSession } from './worker-session.ts'

/** A server-side WebSocket that records what is sent and reports a bufferedAmount the test sets. */
class ReportingWebSocket extends EventTarget {
  bufferedAmount = 0
  readyState = 1
  readonly sent: Uint8Array[] = []
  closedWith: number | undefined
  send(bytes: Uint8Array) {
    this.sent.push(bytes)
  }
  close(code?: number) {
    this.closedWith ??= code
  }
  receive(bytes: Uint8Array) {
    const data = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)
    this.dispatchEvent(new MessageEvent('message', { data }))
  }
}

/** A socket whose PostgreSQL side the test writes into. */
function streamSocket() {
  let controller!: ReadableStreamDefaultController<Uint8Array>
  const socket = {
    readable: new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          controller = c
        },
      },
      { highWaterMark: 0 },
    ),
    writable: new WritableStream<Uint8Array>(),
    opened: Promise.resolve(),
    close: async () => {},
  }
  return { socket: socket satisfies StreamSocket, fromPg: (bytes: Uint8Array) => controller.enqueue(bytes) }
}

function startupPacket(): Uint8Array {
  const packet = new Uint8Array(8 + 5)
  new DataView(packet.buffer).setInt32(0, packet.length)
  new DataView(packet.buffer).setInt32(4, 196608)
  return packet
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 20))

describe('the Worker session adapter on the shared core', () => {
  it('stops reading PostgreSQL while the client is behind, and reads on once its buffer drains', async () => {
    const highWaterMark = 1000
    const config = resolveConfig({ allow: ['127.0.0.1:5432'], highWaterMark })
    const ws = new ReportingWebSocket()
    const { socket, fromPg } = streamSocket()
    const session = startWorkerSession(
      ws as unknown as WebSocket,
      { id: 't', ip: '127.0.0.1', target: 'pg', dial: { host: '127.0.0.1', port: 5432 }, onClose() {} },
      { config, metrics: new RelayMetrics(), logger: silentLogger, dial: () => socket },
    )
    ws.receive(startupPacket())
    await expect.poll(() => session.state).toBe('open')

    ws.bufferedAmount = 5 * highWaterMark // the client stopped reading
    for (let i = 0; i < 10; i++) fromPg(new Uint8Array(600))
    await tick()
    // The chunk that found the client behind was sent; nothing after it was read from PostgreSQL.
    expect(ws.sent).toHaveLength(1)
    await tick()
    expect(ws.sent).toHaveLength(1)

    ws.bufferedAmount = 0 // the client caught up
    await expect.poll(() => ws.sent.length).toBe(10)
    session.close(1000, 'done')
  })
})
