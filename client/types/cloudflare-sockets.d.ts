/**
 * The slice of the `cloudflare:sockets` module the client uses. `@cloudflare/workers-types` is not a
 * dependency (its peer range conflicts with wrangler's), so this declares only `connect`.
 * https://developers.cloudflare.com/workers/runtime-apis/tcp-sockets/
 */
declare module 'cloudflare:sockets' {
  export interface SocketAddress {
    hostname: string
    port: number
  }

  export interface SocketOptions {
    /** `'starttls'` opens in plain text and allows `startTls()` later. */
    secureTransport?: 'off' | 'on' | 'starttls'
    /** When false, the writable side closes once the readable side ends. */
    allowHalfOpen?: boolean
  }

  export interface Socket {
    readonly readable: ReadableStream<Uint8Array>
    readonly writable: WritableStream<Uint8Array>
    readonly opened: Promise<{ remoteAddress?: string; localAddress?: string }>
    readonly closed: Promise<void>
    close(): Promise<void>
    startTls(options?: { expectedServerHostname?: string }): Socket
  }

  export function connect(address: string | SocketAddress, options?: SocketOptions): Socket
}
