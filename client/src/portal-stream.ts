/**
 * `queryRaw`: rows as an async iterator, fetched from a portal in batches (Execute with a row limit, then
 * PortalSuspended). The server sends at most `batchSize` rows before it waits for the next Execute, so a slow
 * consumer never makes memory grow with the size of the result. Breaking out of the loop closes the portal.
 *
 * The portal lives until the next Sync, so the stream is an exclusive request: requests made while it is open
 * are queued and written once it completes.
 */
import type { ConnectionCore, Request } from './core.ts'
import { DatabaseError, isPgError, type PgError, protocolError, usageError } from './errors.ts'
import { Statement } from './prepare.ts'
import { type Row, RowDecoder } from './result.ts'
import { encodeParam } from './types/index.ts'

export interface StreamOptions {
  /** Rows fetched per round trip. Default 1000. */
  batchSize?: number
}

type Phase = 'streaming' | 'suspended' | 'finishing' | 'done'

/** Streams the rows of `statement`. */
export function queryRaw<R = Row>(
  core: ConnectionCore,
  statement: string | Statement,
  params: readonly unknown[] = [],
  options: StreamOptions = {},
): AsyncIterableIterator<R> {
  const batchSize = options.batchSize ?? 1000
  const rows: R[] = []
  let phase: Phase = 'streaming'
  let error: PgError | undefined
  let decoder = statement instanceof Statement ? statement.decoder : undefined
  let wake: (() => void) | undefined
  const notify = () => {
    wake?.()
    wake = undefined
  }
  const finish = (close: boolean) => {
    phase = 'finishing'
    core.writeNow((w) => {
      if (close) w.close('P', '')
      w.sync()
    })
  }

  const request: Request = {
    handle(message) {
      switch (message.type) {
        case 'ParseComplete':
        case 'BindComplete':
        case 'NoData':
        case 'CloseComplete':
          return false
        case 'RowDescription':
          decoder = new RowDecoder(message.fields, core.types)
          return false
        case 'DataRow':
          if (!decoder) throw protocolError('DataRow before RowDescription')
          if (phase === 'streaming') rows.push(decoder.decode(message) as R)
          notify()
          return false
        case 'PortalSuspended':
          if (phase === 'streaming') phase = 'suspended'
          notify()
          return false
        case 'CommandComplete':
        case 'EmptyQueryResponse':
          if (phase !== 'finishing') finish(false)
          return false
        case 'ErrorResponse':
          error = new DatabaseError(message.fields)
          // After an error the server skips everything up to a Sync, which this request has not sent yet.
          if (phase !== 'finishing') finish(false)
          return false
        case 'ReadyForQuery':
          phase = 'done'
          notify()
          return true
        default:
          throw protocolError(`unexpected ${message.type} while streaming rows`)
      }
    },
    fail(failure) {
      error ??= failure
      phase = 'done'
      notify()
    },
  }

  try {
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw usageError(`batchSize must be a positive integer, found ${batchSize}`)
    const values = params.map((p) => encodeParam(p))
    core.send(
      request,
      (w) => {
        if (statement instanceof Statement) {
          w.bind('', statement.name, values, statement.resultFormats)
        } else {
          w.parse('', statement, []).bind('', '', values, []).describe('P', '')
        }
        w.execute('', batchSize).flush()
      },
      true,
    )
  } catch (failure) {
    request.fail(isPgError(failure) ? failure : usageError('could not start the stream', failure))
  }

  const iterator: AsyncIterableIterator<R> = {
    async next(): Promise<IteratorResult<R>> {
      for (;;) {
        if (rows.length > 0) return { value: rows.shift()!, done: false }
        if (phase === 'done') {
          if (error) throw error
          return { value: undefined, done: true }
        }
        if (phase === 'suspended') {
          phase = 'streaming'
          core.writeNow((w) => w.execute('', batchSize).flush())
        }
        await new Promise<void>((resolve) => {
          wake = resolve
        })
      }
    },
    async return(): Promise<IteratorResult<R>> {
      rows.length = 0
      if (phase === 'streaming' || phase === 'suspended') finish(true)
      while (phase !== 'done') await new Promise<void>((resolve) => (wake = resolve))
      if (error && !(error instanceof DatabaseError)) throw error
      return { value: undefined, done: true }
    },
    [Symbol.asyncIterator]() {
      return iterator
    },
  }
  return iterator
}
