import { describe, expect, it, vi } from 'vitest'
import { handshake } from '../../../test/pg-bytes.ts'
import { connect } from '../connect.ts'
import type { ByteStream } from './transport.ts'

vi.mock('cloudflare:sockets', () => ({ connect: () => undefined }))
const { cloudflareSocket } = await import('./cloudflare.ts')
type CloudflareSocketLike = import('./cloudflare.ts').CloudflareSocketLike

/** A socket whose server accepts and then says nothing, ever: it never ends the readable side. */
function silentSocket() {
  const written: Uint8Array[] = []
  let isWritableClosed = false
  let isClosed = false
  const socket: CloudflareSocketLike = {
    readable: new ReadableStream<Uint8Array>({}),
    writable: new WritableStream<Uint8Array>({
      write: (chunk) => void written.push(chunk),
      close: () => {
        isWritableClosed = true
      },
    }),
    opened: Promise.resolve({}),
    closed: new Promise(() => {}),
    close: async () => {
      isClosed = true
    },
    startTls: () => socket,
  }
  return {
    socket,
    get isWritableClosed() {
      return isWritableClosed
    },
    get isClosed() {
      return isClosed
    },
  }
}

describe('cloudflareSocket close()', () => {
  it('half-closes, then closes the socket and reports end after closeTimeout when the server stays silent', async () => {
    const fake = silentSocket()
    const transport = cloudflareSocket({ connect: () => fake.socket, closeTimeout: 50 })
    const stream: ByteStream = await transport({ host: 'db', port: 5432 })
    const ended = new Promise<string>((resolve) =>
      stream.start({ data: () => {}, end: () => resolve('end'), error: () => resolve('error') }),
    )
    stream.close()
    await vi.waitFor(() => expect(fake.isWritableClosed).toBe(true))
    expect(fake.isClosed).toBe(false)
    expect(await ended).toBe('end')
    expect(fake.isClosed).toBe(true)
  })

  it('refuses a closeTimeout that is not a positive number', () => {
    expect(() => cloudflareSocket({ closeTimeout: -1 })).toThrow(
      /closeTimeout must be a positive number of milliseconds, found -1/,
    )
  })
})

/** A socket whose server answers each write with `reply(bytes)` (when it returns bytes). */
function answeringSocket(
  reply: (bytes: Uint8Array) => Uint8Array | undefined,
  secure?: CloudflareSocketLike,
): CloudflareSocketLike & { written: Uint8Array[] } {
  const written: Uint8Array[] = []
  let readable!: ReadableStreamDefaultController<Uint8Array>
  return {
    written,
    readable: new ReadableStream<Uint8Array>({
      start(controller) {
        readable = controller
      },
    }),
    writable: new WritableStream<Uint8Array>({
      write: (chunk) => {
        written.push(chunk)
        const answer = reply(chunk)
        if (answer) readable.enqueue(answer)
      },
    }),
    opened: Promise.resolve({}),
    closed: new Promise(() => {}),
    close: async () => {},
    startTls: () => {
      if (!secure) throw new Error('this fake cannot start TLS')
      return secure
    },
  }
}

describe('cloudflareSocket and sslmode', () => {
  it('sslmode=require through connect() answers S with startTls() and runs startup on the TLS socket', async () => {
    const secure = answeringSocket(() => handshake())
    const plain = answeringSocket((bytes) => (bytes.length === 8 ? Uint8Array.of(0x53) : undefined), secure)
    const transport = cloudflareSocket({ connect: () => plain })
    const [client] = await connect('postgres://u@db/app?sslmode=require', { transport })
    expect(plain.written.map((chunk) => [...chunk])).toEqual([[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]])
    expect(secure.written.length).toBe(1)
    expect(client.isClosed).toBe(false)
  })
})
