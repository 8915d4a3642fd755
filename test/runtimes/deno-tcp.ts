/**
 * A Transport over Deno's own TCP (`Deno.connect`), written against the public `ByteStream` interface the way
 * a user would add a runtime: reads in a loop (paused on request), writes in order, `close()` flushes then
 * half-closes so the server's FIN ends the stream.
 */
import type { ByteStream, StreamHandlers, Transport } from '@edgepg/client'

/** The slice of the `Deno` namespace this file and the smoke use (the tools tsconfig has no Deno types). */
export interface DenoApi {
  version: { deno: string }
  env: { get(name: string): string | undefined }
  connect(options: { hostname: string; port: number; transport: 'tcp' }): Promise<DenoConn>
}

interface DenoConn {
  read(buffer: Uint8Array): Promise<number | null>
  write(bytes: Uint8Array): Promise<number>
  closeWrite(): Promise<void>
  close(): void
  setNoDelay(noDelay?: boolean): void
}

export function denoTcp(deno: DenoApi): Transport {
  return async ({ host, port }) => {
    const conn = await deno.connect({ hostname: host, port, transport: 'tcp' })
    conn.setNoDelay(true)
    return new DenoStream(conn)
  }
}

class DenoStream implements ByteStream {
  readonly #conn: DenoConn
  readonly #queue: Uint8Array[] = []
  #buffered = 0
  #isWriting = false
  #isClosing = false
  #isDone = false
  #isPaused = false
  #wake: (() => void) | undefined
  #handlers: StreamHandlers | undefined

  constructor(conn: DenoConn) {
    this.#conn = conn
  }

  get bufferedAmount() {
    return this.#buffered
  }

  start(handlers: StreamHandlers) {
    this.#handlers = handlers
    void this.#read()
  }

  async #read() {
    try {
      while (!this.#isDone) {
        if (this.#isPaused) await new Promise<void>((resolve) => (this.#wake = resolve))
        const buffer = new Uint8Array(64 * 1024)
        const n = await this.#conn.read(buffer)
        if (this.#isDone) return
        if (n === null) {
          this.#isDone = true
          this.#conn.close()
          this.#handlers?.end()
          return
        }
        this.#handlers?.data(buffer.subarray(0, n))
      }
    } catch (error) {
      this.#fail(error)
    }
  }

  write(bytes: Uint8Array) {
    this.#queue.push(bytes)
    this.#buffered += bytes.length
    if (!this.#isWriting) void this.#flush()
  }

  async #flush() {
    this.#isWriting = true
    try {
      for (let bytes = this.#queue.shift(); bytes; bytes = this.#queue.shift()) {
        for (let at = 0; at < bytes.length; ) at += await this.#conn.write(bytes.subarray(at))
        this.#buffered -= bytes.length
      }
      if (this.#isClosing && !this.#isDone) await this.#conn.closeWrite()
    } catch (error) {
      this.#fail(error)
    } finally {
      this.#isWriting = false
    }
  }

  #fail(error: unknown) {
    if (this.#isDone) return
    this.#isDone = true
    this.#conn.close()
    this.#handlers?.error(error)
  }

  pause() {
    this.#isPaused = true
  }

  resume() {
    this.#isPaused = false
    this.#wake?.()
    this.#wake = undefined
  }

  close() {
    this.#isClosing = true
    if (!this.#isWriting) void this.#flush()
  }

  destroy() {
    if (this.#isDone) return
    this.#isDone = true
    this.#wake?.()
    try {
      this.#conn.close()
    } catch {
      // already closed by the peer
    }
  }
}
