/**
 * `sslmode`: SSLRequest before the startup message, then TLS on the same stream when the server answers `S`.
 * - `disable`: never asks. `prefer`: asks when the transport can start TLS, goes on in plain text on `N`,
 *   and does not verify the certificate (as libpq). `require`: TLS or fail, no verification.
 *   `verify-ca`: the chain must lead to a trusted CA. `verify-full`: that, and the name must match the host.
 * - A WebSocket relay carries plain PostgreSQL bytes and cannot start TLS with the server: encryption on the
 *   wire is the relay URL's `wss://`. `prefer` goes on without TLS there; stricter modes are refused
 *   (connect.ts, for every stream without {@link ByteStream.negotiateTls}).
 * - The server must send exactly one byte before the handshake: anything more is refused, so bytes injected
 *   before TLS cannot be read as if they came over it (CVE-2021-23222).
 *
 * Only the transports that can start TLS (`node-net.ts`, `cloudflare.ts`) import this file, through their
 * streams' `negotiateTls`: a WebSocket bundle does not carry the exchange.
 */
import { closedError, configError, ioError, isPgError, protocolError, timeoutError } from './errors.ts'
import { FrontendWriter } from './protocol/index.ts'
import type { ByteStream, StreamHandlers, TlsRequest } from './transport/transport.ts'

/** TLS settings for `sslmode` other than `disable`. */
export interface TlsOptions {
  /** Trusted CA certificate(s), PEM. Default: the runtime's store. */
  ca?: string
  /** Name to verify the certificate against (and SNI). Default: the host connected to. */
  serverName?: string
}

const S = 0x53
const N = 0x4e

/**
 * Runs the SSLRequest exchange `request` asks for on a stream that can start TLS; resolves with the stream to
 * run startup on. A custom transport whose stream has `startTls` implements
 * {@link ByteStream.negotiateTls} with it: `negotiateTls(request) { return negotiateTls(this, request) }`.
 */
export async function negotiateTls(
  stream: ByteStream & Required<Pick<ByteStream, 'startTls'>>,
  { mode, host, tls: options, signal }: TlsRequest,
): Promise<ByteStream> {
  if (mode === 'disable') return stream
  const switching = new SwitchingStream(stream)
  const answer = await new Promise<number>((resolve, reject) => {
    const onAbort = () => {
      stream.destroy()
      reject(timeoutError('TLS negotiation aborted', signal.reason))
    }
    if (signal.aborted) return onAbort()
    signal.addEventListener('abort', onAbort, { once: true })
    const settle = (error: unknown, byte?: number) => {
      signal.removeEventListener('abort', onAbort)
      if (error) reject(error)
      else resolve(byte!)
    }
    switching.route({
      data(chunk) {
        if (chunk.length !== 1) {
          stream.destroy()
          settle(
            protocolError(
              `server answered SSLRequest with ${chunk.length} bytes, expected exactly one (S or N): ` +
                'refusing bytes that were not protected by TLS',
            ),
          )
          return
        }
        settle(undefined, chunk[0])
      },
      end: () => settle(closedError('server closed the connection in answer to SSLRequest')),
      error: (error) => settle(isPgError(error) ? error : ioError('SSLRequest failed', error)),
    })
    stream.write(new FrontendWriter().sslRequest().finish())
  })
  if (answer === N) {
    if (mode !== 'prefer') {
      stream.destroy()
      throw configError(
        `sslmode=${mode}: the server at ${host} does not accept TLS connections (it answered N)`,
      )
    }
    return switching
  }
  if (answer !== S) {
    stream.destroy()
    throw protocolError(`server answered SSLRequest with byte 0x${answer.toString(16)}, expected S or N`)
  }
  const verifies = mode === 'verify-ca' || mode === 'verify-full'
  // The handshake is bounded by the connect deadline too: a server that answered S and went quiet must not
  // keep the socket (or, finishing late, authenticate a session nobody waits for).
  let onAbort: (() => void) | undefined
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(timeoutError('TLS handshake aborted', signal.reason))
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, { once: true })
  })
  const handshake = stream.startTls({
    serverName: options?.serverName ?? host,
    rejectUnauthorized: verifies,
    ca: options?.ca,
    checkHost: mode === 'verify-full',
    signal,
  })
  try {
    return await Promise.race([handshake, aborted])
  } catch (error) {
    stream.destroy()
    // A transport that ignores the signal may still finish the handshake: close what it hands back.
    handshake.then(
      (late) => {
        if (signal.aborted) late.destroy()
      },
      () => {},
    )
    throw isPgError(error) ? error : ioError(`TLS handshake with ${host} failed`, error)
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort)
    aborted.catch(() => {})
  }
}

/**
 * The plain stream after an `N`: its handlers were installed for the one-byte answer, and the connection
 * installs its own later. `ByteStream.start` runs once, so this forwards to whichever handlers are current.
 */
class SwitchingStream implements ByteStream {
  readonly #inner: ByteStream
  #handlers: StreamHandlers | undefined

  constructor(inner: ByteStream) {
    this.#inner = inner
  }

  /** Installs the negotiation's handlers and starts the inner stream. */
  route(handlers: StreamHandlers) {
    this.#handlers = handlers
    this.#inner.start({
      data: (chunk) => this.#handlers?.data(chunk),
      end: () => this.#handlers?.end(),
      error: (error) => this.#handlers?.error(error),
    })
  }

  start(handlers: StreamHandlers) {
    this.#handlers = handlers
  }

  write(bytes: Uint8Array) {
    this.#inner.write(bytes)
  }

  pause() {
    this.#inner.pause()
  }

  resume() {
    this.#inner.resume()
  }

  close() {
    this.#inner.close()
  }

  destroy() {
    this.#inner.destroy()
  }

  get bufferedAmount() {
    return this.#inner.bufferedAmount
  }
}
