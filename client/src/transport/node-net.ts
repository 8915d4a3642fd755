/**
 * Direct TCP transport over `node:net` (Node, Bun, Deno's Node compatibility). The only file in the client
 * that imports `node:*`; exported as `@edgepg/client/node`.
 */
import { connect as netConnect, type Socket } from 'node:net'
import { checkServerIdentity, TLSSocket, connect as tlsConnect } from 'node:tls'
import { tlsServerEndPoint } from '../auth/channel-binding.ts'
import { ioError, timeoutError } from '../errors.ts'
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

export interface NodeSocketOptions extends CommonTransportOptions {
  /** TCP keep-alive initial delay in ms; 0 disables keep-alive. Default 60 000. */
  keepAliveDelay?: number
}

/**
 * A transport that connects straight to PostgreSQL over TCP.
 *
 * @example
 * ```ts
 * import { connect } from '@edgepg/client'
 * import { nodeSocket } from '@edgepg/client/node'
 * const [client, connection] = await connect(process.env.DATABASE_URL!, { transport: nodeSocket() })
 * ```
 */
export function nodeSocket(options: NodeSocketOptions = {}): Transport {
  const keepAliveDelay = options.keepAliveDelay ?? 60_000
  const closeTimeout = resolveCloseTimeout(options.closeTimeout)
  return ({ host, port, signal }) =>
    new Promise<ByteStream>((resolve, reject) => {
      if (signal?.aborted)
        return reject(timeoutError('connect aborted before the socket was opened', signal.reason))
      const socket = netConnect({ host, port, noDelay: true })
      const onAbort = () => {
        socket.destroy()
        reject(timeoutError(`connect to ${host}:${port} aborted`, signal?.reason))
      }
      const onError = (error: Error) => {
        signal?.removeEventListener('abort', onAbort)
        reject(ioError(`could not connect to ${host}:${port}: ${error.message}`, error))
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      socket.once('error', onError)
      socket.once('connect', () => {
        signal?.removeEventListener('abort', onAbort)
        socket.off('error', onError)
        if (keepAliveDelay > 0) socket.setKeepAlive(true, keepAliveDelay)
        resolve(new NodeStream(socket, closeTimeout))
      })
    })
}

class NodeStream implements ByteStream {
  readonly #socket: Socket
  readonly #closeTimeout: number

  constructor(socket: Socket, closeTimeout: number) {
    this.#socket = socket
    this.#closeTimeout = closeTimeout
    socket.pause()
  }

  get bufferedAmount() {
    return this.#socket.writableLength
  }

  /** The server certificate's tls-server-end-point hash once TLS is up: SCRAM-SHA-256-PLUS binds to it. */
  async tlsServerEndPoint(): Promise<Uint8Array | undefined> {
    const socket = this.#socket
    const certificate = socket instanceof TLSSocket ? socket.getPeerX509Certificate()?.raw : undefined
    return certificate && (await tlsServerEndPoint(certificate))
  }

  /** `sslmode`'s SSLRequest exchange, then {@link startTls} when the server answers `S`. */
  negotiateTls(request: TlsRequest): Promise<ByteStream> {
    return negotiateTls(this, request)
  }

  /**
   * Switches to TLS on the same socket (after PostgreSQL answered SSLRequest with `S`). This stream must
   * not be used afterwards; the returned one carries the encrypted session.
   */
  startTls(options: {
    serverName: string
    rejectUnauthorized: boolean
    ca?: string | undefined
    checkHost?: boolean
    signal?: AbortSignal | undefined
  }) {
    const socket = this.#socket
    const { signal } = options
    socket.pause()
    socket.removeAllListeners('data')
    socket.removeAllListeners('error')
    socket.removeAllListeners('close')
    return new Promise<ByteStream>((resolve, reject) => {
      const secure = tlsConnect({
        socket,
        // SNI takes host names only, never IP addresses.
        servername: isIp(options.serverName) ? undefined : options.serverName,
        rejectUnauthorized: options.rejectUnauthorized,
        ca: options.ca,
        // Always name the host to check: with a socket and no SNI, node would check against 'localhost'.
        checkServerIdentity: (_host, certificate) =>
          options.checkHost === false ? undefined : checkServerIdentity(options.serverName, certificate),
      })
      // A handshake that stalls (a server that answered S and went quiet) ends with the connect deadline.
      const onAbort = () => {
        secure.destroy()
        socket.destroy()
        reject(timeoutError(`TLS handshake with ${options.serverName} aborted`, signal?.reason))
      }
      const onError = (error: Error) => {
        signal?.removeEventListener('abort', onAbort)
        socket.destroy()
        reject(ioError(`TLS handshake with ${options.serverName} failed: ${error.message}`, error))
      }
      if (signal?.aborted) return onAbort()
      signal?.addEventListener('abort', onAbort, { once: true })
      secure.once('error', onError)
      secure.once('secureConnect', () => {
        signal?.removeEventListener('abort', onAbort)
        secure.off('error', onError)
        resolve(new NodeStream(secure, this.#closeTimeout))
      })
    })
  }

  start(handlers: StreamHandlers) {
    const socket = this.#socket
    let isDone = false
    socket.on('data', (chunk: Uint8Array) => handlers.data(chunk))
    socket.on('error', (error) => {
      if (isDone) return
      isDone = true
      handlers.error(ioError(`socket error: ${error.message}`, error))
    })
    socket.on('close', () => {
      if (isDone) return
      isDone = true
      handlers.end()
    })
    socket.resume()
  }

  write(bytes: Uint8Array) {
    this.#socket.write(bytes)
  }

  pause() {
    this.#socket.pause()
  }

  resume() {
    this.#socket.resume()
  }

  close() {
    const socket = this.#socket
    if (socket.destroyed) return
    // Half-close after the queued writes; PostgreSQL closes its side, and 'close' reports end(). A server
    // that never does is cut off after the grace ('close' fires for destroy() too).
    socket.end()
    const timer = setTimeout(() => socket.destroy(), this.#closeTimeout)
    unrefTimer(timer)
    socket.once('close', () => clearTimeout(timer))
  }

  destroy() {
    this.#socket.destroy()
  }
}

const isIp = (host: string) => /^[\d.]+$/.test(host) || host.includes(':')
