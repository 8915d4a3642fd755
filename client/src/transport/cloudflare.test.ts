import { describe, expect, it, vi } from 'vitest'
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
