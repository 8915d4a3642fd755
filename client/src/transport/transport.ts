/**
 * The one interface every transport implements. A transport opens a byte stream to PostgreSQL; the
 * connection owns that stream from then on. Runtime specifics (node:net, WebSocket, cloudflare:sockets) live
 * in one file each, each behind its own `exports` subpath; the core never sniffs the runtime.
 */
import type { SslMode } from '../config.ts'
import { configError } from '../errors.ts'
import type { TlsOptions } from '../tls.ts'

/** Where to connect. A relay transport may ignore `host`/`port` in favour of its own URL. */
export interface TransportTarget {
  host: string
  port: number
  /** Aborted when the connect deadline passes or the caller gives up. */
  signal?: AbortSignal | undefined
}

/** Callbacks the connection installs once; the stream calls them for the rest of its life. */
export interface StreamHandlers {
  /** Incoming bytes. The stream hands over the chunk: it never mutates or reuses it afterwards. */
  data(chunk: Uint8Array): void
  /** The peer ended the stream cleanly. */
  end(): void
  /** The stream failed; `end` is not called after this. */
  error(error: unknown): void
}

/** An open, bidirectional byte stream. */
export interface ByteStream {
  /** Installs the handlers and starts delivering data. Called exactly once. */
  start(handlers: StreamHandlers): void
  /** Queues bytes for sending. The stream may keep a reference to `bytes`: callers never reuse them. */
  write(bytes: Uint8Array): void
  /** Stops delivering data until `resume()` (read-side backpressure). */
  pause(): void
  resume(): void
  /**
   * Flushes queued writes, then half-closes and waits for the peer to end the stream (PostgreSQL closes
   * after Terminate once everything is answered). A peer that never ends it — a hung server, a middlebox
   * that drops everything — is cut off after the transport's `closeTimeout`, and `end` is reported then.
   */
  close(): void
  /** Closes at once, dropping queued writes. */
  destroy(): void
  /** Bytes queued for sending but not yet handed to the network. */
  readonly bufferedAmount: number
  /**
   * SCRAM channel binding data (tls-server-end-point: the hash of the server's TLS certificate), or
   * undefined when the stream is not TLS. Transports that cannot tell (a WebSocket relay,
   * cloudflare:sockets) leave the method out, and then channel binding is not possible.
   */
  tlsServerEndPoint?(): Promise<Uint8Array | undefined>
  /**
   * Present when the stream can start TLS with PostgreSQL: runs `sslmode`'s SSLRequest exchange and resolves
   * with the stream to run startup on (this one after `N`, the encrypted one after `S`). A stream that has
   * {@link startTls} implements it as `negotiateTls(request) { return negotiateTls(this, request) }` with
   * `negotiateTls` from `@edgepg/client`, so that only bundles of such transports carry the exchange.
   * Streams without it go on in plain text for `disable` and `prefer` and refuse stricter modes.
   */
  negotiateTls?(request: TlsRequest): Promise<ByteStream>
  /**
   * Present when the stream can switch to TLS in place (after SSLRequest was answered with `S`); used by
   * {@link negotiateTls}. Transports that cannot (a WebSocket relay) leave both undefined.
   */
  startTls?(options: {
    serverName: string
    /** Verify the certificate chain (`verify-ca`, `verify-full`). */
    rejectUnauthorized: boolean
    ca?: string | undefined
    /** Also verify that the certificate names `serverName` (`verify-full`). Default true. */
    checkHost?: boolean
    /** Aborted when the connect deadline passes: the handshake stops and the socket is destroyed. */
    signal?: AbortSignal | undefined
  }): Promise<ByteStream>
}

/** What {@link ByteStream.negotiateTls} is asked to do. */
export interface TlsRequest {
  /** Never `disable`: then no SSLRequest is sent. */
  mode: SslMode
  /** The host connected to: the default server name to verify, and named in errors. */
  host: string
  /** `connect()`'s `tls` option. */
  tls: TlsOptions | undefined
  /** Aborted when the connect deadline passes: the exchange and the handshake stop, the stream is destroyed. */
  signal: AbortSignal
}

/** Opens a byte stream. `nodeSocket()`, `webSocket()` and `cloudflareSocket()` return one. */
export type Transport = (target: TransportTarget) => Promise<ByteStream>

/** Options every transport takes. */
export interface CommonTransportOptions {
  /**
   * How long `close()` waits for the server to end the stream after Terminate before destroying it, in ms.
   * `client.end()` and `pool.end()` settle within it even when the server has gone silent. Default 5000.
   */
  closeTimeout?: number
}

/** The default {@link CommonTransportOptions.closeTimeout}. */
export const DEFAULT_CLOSE_TIMEOUT = 5000

/** Validates `closeTimeout`: a positive, finite number of milliseconds (the default when undefined). */
export function resolveCloseTimeout(value: unknown): number {
  if (value === undefined) return DEFAULT_CLOSE_TIMEOUT
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw configError(
      `closeTimeout must be a positive number of milliseconds, found ${JSON.stringify(value)}`,
    )
  }
  return value
}

/** Node, Deno and Bun: a pending close timer does not keep the process alive. */
export function unrefTimer(timer: ReturnType<typeof setTimeout>): void {
  ;(timer as { unref?: () => void }).unref?.()
}
