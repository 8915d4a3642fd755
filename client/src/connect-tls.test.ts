// sslmode on streams that cannot start TLS, and on custom streams that can (ByteStream.negotiateTls): the
// in-memory transport plays the server. TLS with a real server is in client/test/tls.test.ts.
import { describe, expect, it } from 'vitest'
import { handshake } from '../../test/pg-bytes.ts'
import { connect } from './connect.ts'
import { isPgError } from './errors.ts'
import { negotiateTls } from './tls.ts'
import { type MemoryPeer, memoryTransport } from './transport/memory.ts'
import type { ByteStream, Transport } from './transport/transport.ts'

const SSL_REQUEST = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]

/** A server that answers SSLRequest with `answer` (when asked) and the startup with trust. */
function serving(answer?: number) {
  const peers: MemoryPeer[] = []
  const transport = memoryTransport((peer) => {
    peers.push(peer)
    peer.onWrite = (bytes) => {
      if (answer !== undefined && bytes.length === 8 && bytes[7] === 0x2f) peer.send(Uint8Array.of(answer))
      else peer.send(handshake())
    }
  })
  return { transport, peers }
}

/** Wraps `transport`'s streams with `extra` methods, as a custom transport that can start TLS would. */
function withMethods(transport: Transport, extra: (stream: ByteStream) => Partial<ByteStream>): Transport {
  return async (target) => {
    const stream = await transport(target)
    const wrapped: ByteStream = {
      start: (handlers) => stream.start(handlers),
      write: (bytes) => stream.write(bytes),
      pause: () => stream.pause(),
      resume: () => stream.resume(),
      close: () => stream.close(),
      destroy: () => stream.destroy(),
      get bufferedAmount() {
        return stream.bufferedAmount
      },
    }
    return Object.assign(wrapped, extra(wrapped))
  }
}

describe('sslmode over a stream without negotiateTls', () => {
  it('sslmode=require is refused before anything is written, naming wss://, and the stream is destroyed', async () => {
    const { transport, peers } = serving()
    const error = await connect('postgres://u@h/db?sslmode=require', { transport }).catch((e) => e)
    expect(isPgError(error, 'config')).toBe(true)
    expect((error as Error).message).toMatch(
      /^sslmode=require needs a transport that can start TLS with PostgreSQL.*wss:\/\//,
    )
    expect(peers[0]!.written).toEqual(new Uint8Array())
    expect(peers[0]!.isClosed).toBe(true)
  })

  it('sslmode=prefer goes on in plain text without sending SSLRequest', async () => {
    const { transport, peers } = serving()
    const [client] = await connect('postgres://u@h/db?sslmode=prefer', { transport })
    expect([...peers[0]!.written.subarray(0, 8)]).not.toEqual(SSL_REQUEST)
    expect(client.isClosed).toBe(false)
  })

  it('a stream with startTls() but no negotiateTls() is refused for prefer too, naming negotiateTls', async () => {
    const { transport, peers } = serving(0x4e)
    const custom = withMethods(transport, (stream) => ({ startTls: async () => stream }))
    const error = await connect('postgres://u@h/db?sslmode=prefer', { transport: custom }).catch((e) => e)
    expect(isPgError(error, 'config')).toBe(true)
    expect((error as Error).message).toBe(
      "sslmode=prefer: the transport's stream has startTls() but no negotiateTls() (see ByteStream)",
    )
    expect(peers[0]!.written).toEqual(new Uint8Array())
  })
})

describe('a custom stream whose negotiateTls delegates to the exported negotiateTls', () => {
  it('sslmode=prefer sends SSLRequest first and goes on in plain text on the same stream after N', async () => {
    const { transport, peers } = serving(0x4e)
    const custom = withMethods(transport, (stream) => ({
      startTls: async () => stream,
      negotiateTls(request) {
        return negotiateTls(this as ByteStream & Pick<Required<ByteStream>, 'startTls'>, request)
      },
    }))
    const [client] = await connect('postgres://u@h/db?sslmode=prefer', { transport: custom })
    expect([...peers[0]!.written.subarray(0, 8)]).toEqual(SSL_REQUEST)
    expect(peers[0]!.written.length).toBeGreaterThan(8)
    expect(client.isClosed).toBe(false)
  })

  it('sslmode=require runs startup on the stream startTls() hands back after S', async () => {
    const plain = serving(0x53)
    const secure = serving()
    const asked: unknown[] = []
    const custom = withMethods(plain.transport, () => ({
      async startTls(options) {
        asked.push({ serverName: options.serverName, rejectUnauthorized: options.rejectUnauthorized })
        return await secure.transport({ host: 'h', port: 5432 })
      },
      negotiateTls(request) {
        return negotiateTls(this as ByteStream & Pick<Required<ByteStream>, 'startTls'>, request)
      },
    }))
    const [client] = await connect('postgres://u@h/db?sslmode=require', { transport: custom })
    expect([...plain.peers[0]!.written]).toEqual(SSL_REQUEST)
    expect(asked).toEqual([{ serverName: 'h', rejectUnauthorized: false }])
    expect(secure.peers[0]!.written.length).toBeGreaterThan(8)
    expect(client.isClosed).toBe(false)
  })
})
