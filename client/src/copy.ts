/**
 * COPY through the simple protocol (COPY takes no parameters).
 * - `copyIn`: Query, wait for CopyInResponse, then CopyData per chunk of the caller's source, CopyDone.
 *   Writing waits while the transport's buffer is above {@link HIGH_WATER}, so a fast source never grows
 *   memory. A source that throws sends CopyFail: the server rolls the COPY back and the connection stays
 *   usable. An error from the server (a bad row) stops reading the source.
 * - `copyOut`: resolves with a `ReadableStream` of the CopyData bytes once the server accepted the COPY. When
 *   the consumer lags, reading from the transport pauses; cancelling the stream discards the rest.
 * Both hold the wire lease: the server swallows every message during COPY, so requests made meanwhile are
 * held and written when it completes. The deadline covers the waits for the server, not the time spent
 * reading the source or waiting for a lagging consumer. An abort while the source is being read sends
 * CopyFail (nothing runs on the server to cancel); `end()` winds a COPY down the same way, so a source that
 * never ends cannot keep the connection open.
 */
import type { ConnectionCore } from './core.ts'
import { closedError, DatabaseError, isPgError, type PgError, protocolError, usageError } from './errors.ts'
import type { BackendMessage } from './protocol/index.ts'
import type { Request } from './request.ts'
import { parseCommandTag } from './result.ts'
import { type RequestOptions, type SentRequest, send } from './send.ts'

/** What `copyIn` reads: a web `ReadableStream`, or any (async) iterable of bytes or strings (sent as UTF-8). */
export type CopySource =
  | ReadableStream<Uint8Array | string>
  | AsyncIterable<Uint8Array | string>
  | Iterable<Uint8Array | string>

/** Bytes queued in the transport above which `copyIn` waits before writing more. */
const HIGH_WATER = 256 * 1024
/** Largest CopyData message sent; bigger chunks are split. */
const MAX_CHUNK = 256 * 1024
/** Bytes of CopyData queued in a `copyOut` stream before reading from the transport pauses. */
const OUT_HIGH_WATER = 1024 * 1024

/** Runs `COPY … FROM STDIN` with the bytes of `source`; resolves with the number of rows copied. */
export function copyIn(
  core: ConnectionCore,
  sql: string,
  source: CopySource,
  options?: RequestOptions,
): Promise<number> {
  if (typeof sql !== 'string')
    return Promise.reject(usageError(`COPY text must be a string, found ${typeof sql}`))
  if (!isSource(source)) {
    return Promise.reject(
      usageError(
        'copyIn source must be a ReadableStream or an (async) iterable of Uint8Array or string chunks',
      ),
    )
  }
  return new Promise((resolve, reject) => {
    let rows = 0
    let failure: PgError | undefined
    let sourceError: unknown
    let isCopying = false
    let wrong: string | undefined
    let sent!: SentRequest
    /** The source waits for the server to drain what was written (the server is not reading). */
    let isDraining = false

    /** Stops reading the source and makes the server roll the COPY back; `reason` is what copyIn rejects with. */
    const stop = (reason: unknown, message: string) => {
      if (!isCopying) return false
      isCopying = false
      sourceError = reason
      sent.lease?.write((w) => w.copyFail(message.slice(0, 1000)))
      sent.resumeDeadline()
      return true
    }
    const pump = async () => {
      sent.pauseDeadline()
      try {
        for await (const chunk of chunks(source)) {
          if (!isCopying) return
          if (typeof chunk !== 'string' && !(chunk instanceof Uint8Array)) {
            throw usageError(`copyIn source yielded ${describe(chunk)}: expected Uint8Array or string chunks`)
          }
          for (const piece of split(chunk)) sent.lease?.write((w) => w.copyData(piece))
          if (isCopying && core.bufferedAmount > HIGH_WATER) {
            // Waiting for the server to take what was written: a wait on the server, which the deadline covers.
            isDraining = true
            sent.resumeDeadline()
            while (isCopying && core.bufferedAmount > HIGH_WATER) await pause()
            isDraining = false
            sent.pauseDeadline()
          }
        }
        if (!isCopying) return
        isCopying = false
        sent.lease?.write((w) => w.copyDone())
        sent.resumeDeadline()
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error)
        stop(error, `copyIn source failed: ${reason}`)
      }
    }

    const request: Request = {
      handle(message: BackendMessage) {
        switch (message.type) {
          case 'CopyInResponse':
            isCopying = true
            void pump()
            return false
          case 'ErrorResponse':
            isCopying = false
            failure = new DatabaseError(message.fields)
            return false
          case 'CommandComplete':
            rows = parseCommandTag(message.tag).rowCount ?? 0
            return false
          case 'CopyOutResponse':
          case 'RowDescription':
          case 'EmptyQueryResponse':
            wrong ??= message.type
            return false
          case 'CopyData':
          case 'CopyDone':
          case 'DataRow':
            return false
          case 'ReadyForQuery':
            if (sourceError !== undefined) {
              reject(isPgError(sourceError) ? sourceError : usageError('copyIn source failed', sourceError))
            } else if (wrong) {
              reject(usageError(`copyIn expects COPY … FROM STDIN, but the server answered ${wrong}`))
            } else if (failure) reject(failure)
            else resolve(rows)
            return true
          default:
            throw protocolError(`unexpected ${message.type} in response to COPY FROM STDIN`)
        }
      },
      fail(error) {
        isCopying = false
        reject(error)
      },
    }
    sent = send(core, request, options, (w) => w.query(sql), {
      isExclusive: true,
      // While the server does not read, a CopyFail would not reach it either: cancel it (then abandon).
      onAbort: (error) => stop(error, 'copyIn aborted by its AbortSignal') && !isDraining,
    })
    if (sent.lease) {
      sent.lease.onEnd = () => {
        const error = closedError('client.end() was called while COPY FROM STDIN was reading its source')
        stop(error, error.message)
      }
    }
  })
}

/**
 * Runs `COPY … TO STDOUT`; resolves with a stream of its bytes once the server has started the COPY, or
 * rejects with the server's error (bad table, permission).
 */
export function copyOut(
  core: ConnectionCore,
  sql: string,
  options?: RequestOptions,
): Promise<ReadableStream<Uint8Array>> {
  if (typeof sql !== 'string')
    return Promise.reject(usageError(`COPY text must be a string, found ${typeof sql}`))
  return new Promise((resolve, reject) => {
    let controller!: ReadableStreamDefaultController<Uint8Array>
    let isStarted = false
    let isCancelled = false
    let isPaused = false
    let failure: PgError | undefined
    let wrong: string | undefined
    let sent!: SentRequest
    const resume = () => {
      if (!isPaused) return
      isPaused = false
      core.resumeReading()
      sent.resumeDeadline()
    }
    /** Why delivery stopped early (abort, `end()`); the stream errors with it. */
    let stopError: PgError | undefined
    let isErrored = false
    const fault = (error: PgError) => {
      if (isErrored || !isStarted) return
      isErrored = true
      controller.error(error)
    }
    /** Stops delivering: the rest of the COPY is read off the wire and discarded. */
    const discard = (error: PgError | undefined) => {
      if (error && !isCancelled) {
        stopError = error
        fault(error)
      }
      isCancelled = true
      resume()
    }
    const stream = new ReadableStream<Uint8Array>(
      {
        start(c) {
          controller = c
        },
        pull: resume,
        // Discard the rest rather than cancel server-side: a CancelRequest could land on the next request.
        cancel: () => discard(undefined),
      },
      new ByteLengthQueuingStrategy({ highWaterMark: OUT_HIGH_WATER }),
    )

    const request: Request = {
      handle(message: BackendMessage) {
        switch (message.type) {
          case 'CopyOutResponse':
            isStarted = true
            resolve(stream)
            if (stopError) fault(stopError)
            return false
          case 'CopyData':
            if (isCancelled) return false
            controller.enqueue(message.data.slice())
            if ((controller.desiredSize ?? 1) <= 0 && !isPaused) {
              isPaused = true
              core.pauseReading()
              sent.pauseDeadline()
            }
            return false
          case 'CopyDone':
          case 'CommandComplete':
          case 'DataRow':
            return false
          case 'ErrorResponse':
            failure = new DatabaseError(message.fields)
            return false
          case 'CopyInResponse':
            // Not ours to feed: refuse it so the server leaves copy-in mode.
            wrong ??= message.type
            sent.lease?.write((w) => w.copyFail('copyOut expects COPY … TO STDOUT'))
            return false
          case 'RowDescription':
          case 'EmptyQueryResponse':
            wrong ??= message.type
            return false
          case 'ReadyForQuery': {
            // Our own CopyFail raises a server error too: the wrong statement is what to report.
            const error = wrong
              ? usageError(`copyOut expects COPY … TO STDOUT, but the server answered ${wrong}`)
              : failure
            finish(error)
            return true
          }
          default:
            throw protocolError(`unexpected ${message.type} in response to COPY TO STDOUT`)
        }
      },
      fail: (error) => finish(error),
    }
    const finish = (error: PgError | undefined) => {
      // The last CopyData may have filled the queue: a closed stream never pulls again, so resume here.
      resume()
      if (!isStarted) {
        reject(stopError ?? error ?? protocolError('COPY TO STDOUT completed without a CopyOutResponse'))
        return
      }
      if (isCancelled) return
      if (error) fault(error)
      else controller.close()
    }
    sent = send(core, request, options, (w) => w.query(sql), {
      isExclusive: true,
      // The server is sending: cancel it, but read (and drop) what it still sends, or its answer never comes.
      onAbort: (error) => {
        discard(error)
        return false
      },
    })
    if (sent.lease) {
      sent.lease.onEnd = () =>
        discard(closedError('client.end() was called while COPY TO STDOUT was being read'))
    }
  })
}

function isSource(source: unknown): source is CopySource {
  if (source === null || typeof source !== 'object') return false
  return (
    typeof (source as ReadableStream).getReader === 'function' ||
    Symbol.asyncIterator in source ||
    Symbol.iterator in source
  )
}

/** Iterates any source; a ReadableStream through its reader (not every runtime makes it async-iterable). */
async function* chunks(source: CopySource): AsyncGenerator<unknown> {
  if (typeof (source as ReadableStream).getReader !== 'function') {
    yield* source as AsyncIterable<unknown>
    return
  }
  const reader = (source as ReadableStream<unknown>).getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      yield value
    }
  } finally {
    await reader.cancel().catch(() => {})
    reader.releaseLock()
  }
}

function* split(chunk: Uint8Array | string): Generator<Uint8Array | string> {
  if (chunk.length <= MAX_CHUNK / 4) {
    yield chunk
    return
  }
  const bytes = typeof chunk === 'string' ? encoder.encode(chunk) : chunk
  for (let i = 0; i < bytes.length; i += MAX_CHUNK) yield bytes.subarray(i, i + MAX_CHUNK)
}

const encoder = new TextEncoder()

const pause = () => new Promise<void>((resolve) => setTimeout(resolve, 1))

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'object') return value.constructor?.name ?? 'an object'
  return typeof value
}
