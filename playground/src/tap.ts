/**
 * A Transport that wraps another and reports every chunk both ways, unchanged, to the inspector. The client
 * sees an ordinary transport; the tap only reads (it never mutates, copies or delays a chunk).
 */
import type { ByteStream, Transport } from '@edgepg/client'
import type { Direction } from './wire.ts'

/** Receives each chunk and the milliseconds since the stream opened. */
export type Tap = (direction: Direction, chunk: Uint8Array, at: number) => void

/**
 * Wraps `transport` so that a tap sees what the client writes and what the server sends. `openTap` is called
 * for each stream opened (the session's, and each CancelRequest's own connection), so none is read as part
 * of another.
 */
export function tapped(transport: Transport, openTap: () => Tap): Transport {
  return async (target) => {
    const stream = await transport(target)
    const tap = openTap()
    const opened = performance.now()
    const since = () => performance.now() - opened
    const wrapped: ByteStream = {
      start(handlers) {
        stream.start({
          data(chunk) {
            tap('backend', chunk, since())
            handlers.data(chunk)
          },
          end: () => handlers.end(),
          error: (error) => handlers.error(error),
        })
      },
      write(bytes) {
        tap('frontend', bytes, since())
        stream.write(bytes)
      },
      pause: () => stream.pause(),
      resume: () => stream.resume(),
      close: () => stream.close(),
      destroy: () => stream.destroy(),
      get bufferedAmount() {
        return stream.bufferedAmount
      },
    }
    return wrapped
  }
}
