/**
 * WebSocket transport: PostgreSQL bytes in binary frames through a relay (`/v1?address=host:port`, the
 * convention of Neon's wsproxy and of the edgepg relay). Uses only the standard `WebSocket`, so it runs in
 * browsers, Workers, Deno, Bun and Node ≥ 22. Exported as `@edgepg/client/websocket`.
 *
 * Writes made in one tick are coalesced into one frame (up to `maxFrame`), and anything larger is split, so
 * a 10 MiB parameter passes a relay whose `maxPayload` is 1 MiB. The standard WebSocket has no read-side
 * backpressure: `pause()` holds incoming frames in memory until `resume()`; the relay applies real TCP
 * backpressure on its side.
 */
import { CLIENT_MAX_FRAME, CloseCode, RELAY_PATH, RelayParam, TOKEN_SUBPROTOCOL_PREFIX } from '@edgepg/shared'
import { configError, ioError, protocolError, timeoutError } from '../errors.ts'
import {
  type ByteStream,
  type CommonTransportOptions,
  resolveCloseTimeout,
  type StreamHandlers,
  type Transport,
  unrefTimer,
} from './transport.ts'

export interface WebSocketOptions extends CommonTransportOptions {
  /** Relay URL, e.g. `wss://relay.example.com/v1`. An empty path or `/` means `/v1`. */
  url: string | URL
  /** `'address'` (default) sends `?address=host:port` from the connection settings; `{ name }` a relay target. */
  target?: 'address' | { name: string }
  /** Relay token, or a function returning a fresh one per connection. Never logged, never in errors. */
  token?: string | (() => string | Promise<string>)
  /** Where the token goes: a `edgepg.token.<token>` subprotocol (default; not in URLs or logs) or `?token=`. */
  tokenIn?: 'subprotocol' | 'query'
  /** Largest frame sent, bytes. Default 256 KiB. */
  maxFrame?: number
  /** A WebSocket constructor for runtimes without a global one. */
  WebSocket?: typeof WebSocket
}

/**
 * A transport that reaches PostgreSQL through a WebSocket relay.
 *
 * @example
 * ```ts
 * import { connect } from '@edgepg/client'
 * import { webSocket } from '@edgepg/client/websocket'
 * const [client, connection] = await connect('postgres://app:secret@db.internal:5432/app', {
 *   transport: webSocket({ url: 'wss://relay.example.com/v1' }),
 * })
 * ```
 */
export function webSocket(options: WebSocketOptions): Transport {
  const Ctor = options.WebSocket ?? globalThis.WebSocket
  if (typeof Ctor !== 'function')
    throw configError('no WebSocket constructor: pass { WebSocket } to webSocket()')
  const maxFrame = options.maxFrame ?? CLIENT_MAX_FRAME
  const closeTimeout = resolveCloseTimeout(options.closeTimeout)
  if (!Number.isInteger(maxFrame) || maxFrame < 1024) {
    throw configError(`maxFrame must be an integer of at least 1024 bytes, found ${maxFrame}`)
  }
  let base: URL
  try {
    base = new URL(options.url)
  } catch {
    throw configError('relay url is not a valid URL: expected ws://host[:port]/v1 or wss://…')
  }
  if (base.protocol !== 'ws:' && base.protocol !== 'wss:') {
    throw configError(`relay url must use ws: or wss:, found ${base.protocol}`)
  }

  return async ({ host, port, signal }) => {
    const url = new URL(base)
    if (url.pathname === '' || url.pathname === '/') url.pathname = RELAY_PATH
    const target = options.target ?? 'address'
    if (target === 'address') {
      url.searchParams.set(RelayParam.address, `${host.includes(':') ? `[${host}]` : host}:${port}`)
    } else url.searchParams.set(RelayParam.target, target.name)
    const token = typeof options.token === 'function' ? await options.token() : options.token
    const protocols: string[] = []
    if (token && options.tokenIn === 'query') url.searchParams.set(RelayParam.token, token)
    else if (token) protocols.push(`${TOKEN_SUBPROTOCOL_PREFIX}${token}`)
    if (signal?.aborted) throw timeoutError('connect aborted before the WebSocket was opened', signal.reason)
    const ws = new Ctor(url, protocols)
    ws.binaryType = 'arraybuffer'
    return await new Promise<ByteStream>((resolve, reject) => {
      const onAbort = () => {
        ws.close()
        reject(timeoutError('connect aborted while opening the WebSocket', signal?.reason))
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      const early = new EarlyEvents(ws)
      ws.onopen = () => {
        signal?.removeEventListener('abort', onAbort)
        resolve(new WebSocketStream(ws, maxFrame, early, closeTimeout))
      }
      ws.onclose = (event) => {
        signal?.removeEventListener('abort', onAbort)
        reject(
          event.code === 1006
            ? ioError(`relay refused the WebSocket upgrade or could not be reached at ${base.host}`)
            : closeError(event.code, event.reason),
        )
      }
    })
  }
}

/** Frames that arrive between `open` and `start()` (the relay may answer at once). */
class EarlyEvents {
  readonly frames: unknown[] = []
  constructor(ws: WebSocket) {
    ws.onmessage = (event) => this.frames.push(event.data)
  }
}

class WebSocketStream implements ByteStream {
  readonly #ws: WebSocket
  readonly #maxFrame: number
  #outgoing: Uint8Array[] = []
  #outgoingBytes = 0
  #isFlushScheduled = false
  #handlers: StreamHandlers | undefined
  #paused: Uint8Array[] | undefined
  #isDone = false
  /** Keeps Blob frames (older runtimes) in order while they are read. */
  #chain: Promise<void> = Promise.resolve()
  readonly #early: EarlyEvents
  /** How long `close()` waits for the relay's close before giving up. */
  readonly #closeTimeout: number

  constructor(ws: WebSocket, maxFrame: number, early: EarlyEvents, closeTimeout: number) {
    this.#ws = ws
    this.#maxFrame = maxFrame
    this.#early = early
    this.#closeTimeout = closeTimeout
  }

  get bufferedAmount(): number {
    return this.#ws.bufferedAmount + this.#outgoingBytes
  }

  start(handlers: StreamHandlers): void {
    this.#handlers = handlers
    this.#ws.onmessage = (event) => this.#receive(event.data)
    this.#ws.onclose = (event) => this.#closed(event.code, event.reason)
    this.#ws.onerror = () => {}
    for (const frame of this.#early.frames.splice(0)) this.#receive(frame)
  }

  write(bytes: Uint8Array): void {
    if (this.#isDone) return
    this.#outgoing.push(bytes)
    this.#outgoingBytes += bytes.length
    if (this.#isFlushScheduled) return
    this.#isFlushScheduled = true
    queueMicrotask(() => this.#flush())
  }

  pause(): void {
    this.#paused ??= []
  }

  resume(): void {
    const held = this.#paused
    this.#paused = undefined
    for (const chunk of held ?? []) this.#deliver(chunk)
  }

  close(): void {
    // A WebSocket has no half-close: closing now would make the relay drop the answers still on their way.
    // After Terminate PostgreSQL closes its socket once everything is answered, and the relay then closes
    // the WebSocket (1000), which reports end(). If that does not happen within the grace (a silent server
    // or relay), close ourselves and report the end at once: no close handshake is waited for.
    this.#flush()
    unrefTimer(
      setTimeout(() => {
        if (this.#isDone) return
        this.#ws.close(1000)
        this.#closed(CloseCode.normal, '')
      }, this.#closeTimeout),
    )
  }

  destroy(): void {
    this.#isDone = true
    this.#outgoing = []
    this.#outgoingBytes = 0
    this.#ws.close(1000)
  }

  /** Sends queued writes as frames of at most maxFrame bytes, coalescing small writes. */
  #flush() {
    this.#isFlushScheduled = false
    if (this.#outgoingBytes === 0 || this.#ws.readyState !== 1) return
    const chunks = this.#outgoing
    this.#outgoing = []
    this.#outgoingBytes = 0
    let frame: Uint8Array[] = []
    let frameBytes = 0
    const send = () => {
      if (frameBytes === 0) return
      // Our buffers are never shared memory; the DOM typing wants that said.
      this.#ws.send((frame.length === 1 ? frame[0]! : concat(frame, frameBytes)) as Uint8Array<ArrayBuffer>)
      frame = []
      frameBytes = 0
    }
    for (const chunk of chunks) {
      let offset = 0
      while (offset < chunk.length) {
        const take = Math.min(chunk.length - offset, this.#maxFrame - frameBytes)
        frame.push(offset === 0 && take === chunk.length ? chunk : chunk.subarray(offset, offset + take))
        frameBytes += take
        offset += take
        if (frameBytes === this.#maxFrame) send()
      }
    }
    send()
  }

  #receive(data: unknown) {
    if (this.#isDone) return
    if (data instanceof ArrayBuffer) {
      this.#deliver(new Uint8Array(data))
    } else if (typeof Blob !== 'undefined' && data instanceof Blob) {
      this.#chain = this.#chain.then(async () => this.#deliver(new Uint8Array(await data.arrayBuffer())))
    } else {
      this.#fail(protocolError('relay sent a text frame: expected binary frames carrying PostgreSQL bytes'))
    }
  }

  #deliver(chunk: Uint8Array) {
    if (this.#paused) this.#paused.push(chunk)
    else this.#handlers?.data(chunk)
  }

  #closed(code: number, reason: string) {
    if (this.#isDone) return
    void this.#chain.then(() => {
      if (this.#isDone) return
      this.#isDone = true
      this.resume()
      if (code === CloseCode.normal) this.#handlers?.end()
      else this.#handlers?.error(closeError(code, reason))
    })
  }

  #fail(error: unknown) {
    if (this.#isDone) return
    this.#isDone = true
    this.#ws.close(1000)
    this.#handlers?.error(error)
  }
}

/** Maps the relay's close codes (defined once in @edgepg/shared) to errors a user can act on. */
function closeError(code: number, reason: string) {
  const detail = `${code}${reason ? ` ${reason}` : ''}`
  switch (code) {
    case CloseCode.policy:
      return ioError(`relay denied the connection (${detail}): check the relay's allowlist, token and origin`)
    case CloseCode.upstreamUnavailable:
      return ioError(`relay could not reach the database (${detail})`)
    case CloseCode.tryAgainLater:
      return ioError(`relay is at its connection limit (${detail}), try again later`)
    case CloseCode.tooBig:
      return ioError(`relay refused a frame as too big (${detail}): lower maxFrame`)
    case CloseCode.goingAway:
      return ioError(`relay closed the session (${detail})`)
    case CloseCode.unsupportedData:
      return ioError(`relay refused the data (${detail})`)
    default:
      return ioError(`websocket closed unexpectedly (${detail})`)
  }
}

function concat(chunks: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length)
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.length
  }
  return out
}
