/**
 * The one interface every transport implements. A transport opens a byte stream to PostgreSQL; the
 * connection owns that stream from then on. Runtime specifics (node:net, WebSocket, cloudflare:sockets) live
 * in one file each, each behind its own `exports` subpath; the core never sniffs the runtime.
 */

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
  /** Flushes queued writes, then closes. */
  close(): void
  /** Closes at once, dropping queued writes. */
  destroy(): void
  /** Bytes queued for sending but not yet handed to the network. */
  readonly bufferedAmount: number
  /**
   * Present when the stream can switch to TLS in place (after SSLRequest was answered with `S`).
   * Transports that cannot (a WebSocket relay) leave it undefined.
   */
  startTls?(options: {
    serverName: string
    /** Verify the certificate chain (`verify-ca`, `verify-full`). */
    rejectUnauthorized: boolean
    ca?: string | undefined
    /** Also verify that the certificate names `serverName` (`verify-full`). Default true. */
    checkHost?: boolean
  }): Promise<ByteStream>
}

/** Opens a byte stream. `nodeSocket()`, `webSocket()` and `cloudflareSocket()` return one. */
export type Transport = (target: TransportTarget) => Promise<ByteStream>
