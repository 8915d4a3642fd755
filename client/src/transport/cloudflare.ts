/**
 * Direct TCP transport for Cloudflare Workers over `cloudflare:sockets`. The only file in the client that
 * imports `cloudflare:sockets`; exported as `@edgepg/client/cloudflare`.
 *
 * Sockets open with `secureTransport: 'starttls'` so that `startTls()` can switch to TLS after PostgreSQL
 * answers SSLRequest with `S`. Reads are a loop over `socket.readable`: `pause()` stops reading, which leaves
 * the bytes in the runtime's socket and so pushes back on PostgreSQL over TCP.
 *
 * workerd refuses to unlock a reader that has a read outstanding, and the plain streams must be unlocked
 * before `startTls()`. PostgreSQL answers SSLRequest with one byte and then waits for the client, so after an
 * SSLRequest the loop delivers the answer and stops reading until the next write (`N`: startup goes on in
 * plain text) or `startTls()` (`S`).
 */

import { connect as socketConnect } from 'cloudflare:sockets'
import { readInt32, StartupCode } from '@edgepg/shared'
import { configError, ioError, timeoutError } from '../errors.ts'
import { negotiateTls } from '../tls.ts'
import {
  type ByteStream,
  type CommonTransportOptions,
  resolveCloseTimeout,
  type StreamHandlers,
  type TlsRequest,
  type Transport,
  unrefTimer,
} from './transport.ts'

/** The parts of a `cloudflare:sockets` Socket this transport uses. */
export interface CloudflareSocketLike {
  readonly readable: ReadableStream<Uint8Array>
  readonly writable: WritableStream<Uint8Array>
  readonly opened: Promise<unknown>
  readonly closed: Promise<void>
  close(): Promise<void>
  startTls(): CloudflareSocketLike
}

/** The signature of `connect` from `cloudflare:sockets` (and of a service binding's `connect`). */
export type CloudflareConnect = (
  address: { hostname: string; port: number },
  options: { secureTransport: 'starttls'; allowHalfOpen: false },
) => CloudflareSocketLike

export interface CloudflareSocketOptions extends CommonTransportOptions {
  /**
   * Opens the socket. Default: `connect` from `cloudflare:sockets`. Pass a binding's `connect` (for example
   * `env.DATABASE.connect` of a Workers VPC service) to reach the database through it.
   */
  connect?: CloudflareConnect
}

/**
 * A transport that connects straight to PostgreSQL from a Cloudflare Worker.
 *
 * @example
 * ```ts
 * import { connect } from '@edgepg/client'
 * import { cloudflareSocket } from '@edgepg/client/cloudflare'
 *
 * export default {
 *   async fetch(request, env, ctx) {
 *     const [client, connection] = await connect(env.DATABASE_URL, { transport: cloudflareSocket() })
 *     ctx.waitUntil(connection.run())
 *     const { rows } = await client.query('select now() as now')
 *     ctx.waitUntil(client.end())
 *     return Response.json(rows)
 *   },
 * }
 * ```
 */
export function cloudflareSocket(options: CloudflareSocketOptions = {}): Transport {
  const open = options.connect ?? socketConnect
  const closeTimeout = resolveCloseTimeout(options.closeTimeout)
  return async ({ host, port, signal }) => {
    if (signal?.aborted) throw timeoutError('connect aborted before the socket was opened', signal.reason)
    let socket: CloudflareSocketLike
    try {
      socket = open({ hostname: host, port }, { secureTransport: 'starttls', allowHalfOpen: false })
    } catch (error) {
      // The runtime refuses some addresses synchronously (port 25, its own network).
      throw ioError(`could not connect to ${host}:${port}: ${message(error)}`, error)
    }
    let onAbort: (() => void) | undefined
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => {
        void socket.close().catch(() => {})
        reject(timeoutError(`connect to ${host}:${port} aborted`, signal?.reason))
      }
      signal?.addEventListener('abort', onAbort, { once: true })
    })
    try {
      await Promise.race([
        socket.opened.catch((error: unknown) => {
          throw ioError(`could not connect to ${host}:${port}: ${message(error)}`, error)
        }),
        aborted,
      ])
    } finally {
      if (onAbort) signal?.removeEventListener('abort', onAbort)
      aborted.catch(() => {})
    }
    return new CloudflareStream(socket, host, closeTimeout)
  }
}

class CloudflareStream implements ByteStream {
  readonly #socket: CloudflareSocketLike
  /** The host dialed: workerd checks the server certificate against it. */
  readonly #hostname: string
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined
  #handlers: StreamHandlers | undefined
  /** Bytes handed to the writer whose write has not completed yet. */
  #buffered = 0
  /** Set while paused; the read loop waits on it before the next read. */
  #resumed: { promise: Promise<void>; resolve: () => void } | undefined
  /** No handler is called once this is set: the stream ended, failed, was destroyed or upgraded to TLS. */
  #isDone = false
  /** A `reader.read()` is outstanding. */
  #isReading = false
  /** An SSLRequest was written: stop reading after its one-byte answer. */
  #isAwaitingTlsAnswer = false

  /** How long `close()` waits for the server to end the stream before cutting it off. */
  readonly #closeTimeout: number

  constructor(socket: CloudflareSocketLike, hostname: string, closeTimeout: number) {
    this.#socket = socket
    this.#hostname = hostname
    this.#closeTimeout = closeTimeout
    this.#writer = socket.writable.getWriter()
  }

  get bufferedAmount(): number {
    return this.#buffered
  }

  start(handlers: StreamHandlers): void {
    this.#handlers = handlers
    this.#reader = this.#socket.readable.getReader()
    void this.#readLoop(this.#reader)
  }

  write(bytes: Uint8Array): void {
    if (this.#isDone) return
    if (isSslRequest(bytes)) this.#isAwaitingTlsAnswer = true
    else if (this.#isAwaitingTlsAnswer) {
      // The server said `N` (or the caller gave up on TLS): plain text goes on.
      this.#isAwaitingTlsAnswer = false
      this.resume()
    }
    const length = bytes.length
    this.#buffered += length
    this.#writer.write(bytes).then(
      () => {
        this.#buffered -= length
      },
      (error: unknown) => this.#fail(ioError(`socket write failed: ${message(error)}`, error)),
    )
  }

  pause(): void {
    if (this.#resumed) return
    let resolve = () => {}
    const promise = new Promise<void>((r) => {
      resolve = r
    })
    this.#resumed = { promise, resolve }
  }

  resume(): void {
    const resumed = this.#resumed
    this.#resumed = undefined
    resumed?.resolve()
  }

  close(): void {
    if (this.#isDone) return
    // Half-close after the queued writes; PostgreSQL then closes its side, and the read loop reports end().
    // A server that never does is cut off after the grace, and end() is reported then.
    this.#writer.close().catch((error: unknown) => this.#fail(ioError('socket close failed', error)))
    unrefTimer(
      setTimeout(() => {
        if (this.#isDone) return
        const handlers = this.#handlers
        this.destroy()
        handlers?.end()
      }, this.#closeTimeout),
    )
  }

  destroy(): void {
    if (this.#isDone) return
    this.#isDone = true
    this.#buffered = 0
    this.resume()
    this.#writer.abort().catch(() => {})
    this.#reader?.cancel().catch(() => {})
    this.#socket.close().catch(() => {})
  }

  /** `sslmode`'s SSLRequest exchange, then {@link startTls} when the server answers `S`. */
  negotiateTls(request: TlsRequest): Promise<ByteStream> {
    return negotiateTls(this, request)
  }

  async startTls(options: {
    serverName: string
    rejectUnauthorized: boolean
    ca?: string | undefined
    signal?: AbortSignal | undefined
  }): Promise<ByteStream> {
    if (options.ca !== undefined) {
      throw configError(
        'a custom CA is not supported on cloudflare:sockets: the runtime trusts public CAs only',
      )
    }
    // workerd verifies the certificate against public roots and the host dialed, always: it rejects
    // `expectedServerHostname`, and `rejectUnauthorized: false` cannot loosen anything.
    if (options.serverName !== this.#hostname) {
      throw configError(
        `TLS server name ${options.serverName} differs from the host dialed (${this.#hostname}): ` +
          'cloudflare:sockets checks the certificate against the host dialed only',
      )
    }
    if (this.#isDone) throw ioError('cannot start TLS: the socket is closed')
    if (this.#isReading) {
      throw ioError('cannot start TLS while a read is outstanding: write SSLRequest and wait for its answer')
    }
    this.#isDone = true
    this.resume()
    // The plain streams must be unlocked before the runtime takes the socket over for TLS.
    this.#reader?.releaseLock()
    this.#writer.releaseLock()
    let secure: CloudflareSocketLike | undefined
    const { signal } = options
    let onAbort: (() => void) | undefined
    // A handshake that stalls ends with the connect deadline, and the socket is closed.
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(timeoutError(`TLS handshake with ${options.serverName} aborted`, signal?.reason))
      if (signal?.aborted) onAbort()
      else signal?.addEventListener('abort', onAbort, { once: true })
    })
    try {
      secure = this.#socket.startTls()
      await Promise.race([secure.opened, aborted])
    } catch (error) {
      secure?.close().catch(() => {})
      this.#socket.close().catch(() => {})
      if (signal?.aborted) throw error
      throw ioError(`TLS handshake with ${options.serverName} failed: ${message(error)}`, error)
    } finally {
      if (onAbort) signal?.removeEventListener('abort', onAbort)
      aborted.catch(() => {})
    }
    return new CloudflareStream(secure, this.#hostname, this.#closeTimeout)
  }

  async #readLoop(reader: ReadableStreamDefaultReader<Uint8Array>) {
    try {
      while (!this.#isDone) {
        if (this.#resumed) await this.#resumed.promise
        if (this.#isDone) return
        this.#isReading = true
        const { done, value } = await reader.read()
        this.#isReading = false
        if (this.#isDone) return
        if (done) {
          this.#isDone = true
          this.#handlers?.end()
          return
        }
        if (this.#isAwaitingTlsAnswer) this.pause()
        this.#handlers?.data(value)
      }
    } catch (error) {
      this.#fail(ioError(`socket error: ${message(error)}`, error))
    }
  }

  #fail(error: unknown) {
    if (this.#isDone) return
    this.#isDone = true
    this.resume()
    this.#socket.close().catch(() => {})
    this.#handlers?.error(error)
  }
}

/** True for the 8-byte SSLRequest packet. */
function isSslRequest(bytes: Uint8Array): boolean {
  return bytes.length === 8 && readInt32(bytes, 0) === 8 && readInt32(bytes, 4) === StartupCode.sslRequest
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
