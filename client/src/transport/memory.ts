/**
 * An in-memory transport for unit tests and fault injection: the test plays the server.
 * Not a substitute for the real PostgreSQL in integration tests.
 */
import {
  type ByteStream,
  type CommonTransportOptions,
  resolveCloseTimeout,
  type StreamHandlers,
  type Transport,
  type TransportTarget,
  unrefTimer,
} from './transport.ts'

/** The server's end of an in-memory stream. */
export interface MemoryPeer {
  readonly target: TransportTarget
  /** Everything the client has written so far, as one array. */
  readonly written: Uint8Array
  /** Called on every client write. */
  onWrite: ((bytes: Uint8Array) => void) | undefined
  /** Sends bytes to the client. */
  send(bytes: Uint8Array): void
  /** Ends the stream from the server side. */
  end(): void
  /** Fails the stream from the server side. */
  fail(error: unknown): void
  readonly isClosed: boolean
}

/**
 * Returns a transport whose streams are played by `serve`, called once per opened stream. `close()` reports
 * the end after `closeTimeout` when the peer has not ended the stream by then, as the network transports do.
 */
export function memoryTransport(
  serve: (peer: MemoryPeer) => void,
  options: CommonTransportOptions = {},
): Transport {
  const closeTimeout = resolveCloseTimeout(options.closeTimeout)
  return async (target) => {
    const stream = new MemoryStream(target, closeTimeout)
    serve(stream.peer)
    return stream
  }
}

class MemoryStream implements ByteStream {
  readonly peer: MemoryPeer
  #handlers: StreamHandlers | undefined
  #backlog: (() => void)[] = []
  #written: Uint8Array[] = []
  #isPaused = false
  #isClosed = false
  /** end or error was reported: nothing is reported after it. */
  #isFinished = false
  readonly #closeTimeout: number

  constructor(target: TransportTarget, closeTimeout: number) {
    this.#closeTimeout = closeTimeout
    const self = this
    this.peer = {
      target,
      get written() {
        return concat(self.#written)
      },
      onWrite: undefined,
      send: (bytes) => this.#deliver(() => this.#handlers?.data(bytes.slice())),
      end: () => this.#deliver(() => this.#finish(() => this.#handlers?.end())),
      fail: (error) => this.#deliver(() => this.#finish(() => this.#handlers?.error(error))),
      get isClosed() {
        return self.#isClosed
      },
    }
  }

  get bufferedAmount() {
    return 0
  }

  start(handlers: StreamHandlers) {
    this.#handlers = handlers
    this.#drain()
  }

  write(bytes: Uint8Array) {
    if (this.#isClosed) return
    this.#written.push(bytes.slice())
    this.peer.onWrite?.(bytes)
  }

  pause() {
    this.#isPaused = true
  }

  resume() {
    this.#isPaused = false
    this.#drain()
  }

  close() {
    if (this.#isClosed) return
    this.#isClosed = true
    unrefTimer(
      setTimeout(() => this.#deliver(() => this.#finish(() => this.#handlers?.end())), this.#closeTimeout),
    )
  }

  destroy() {
    this.#isClosed = true
    this.#isFinished = true
  }

  #deliver(event: () => void) {
    this.#backlog.push(event)
    queueMicrotask(() => this.#drain())
  }

  #drain() {
    while (this.#handlers && !this.#isPaused && this.#backlog.length > 0) this.#backlog.shift()!()
  }

  #finish(event: () => void) {
    if (this.#isFinished || (this.#isClosed && !this.#handlers)) return
    this.#isClosed = true
    this.#isFinished = true
    event()
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0))
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.length
  }
  return out
}
