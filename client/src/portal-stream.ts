/**
 * The portal stream behind `queryRaw`: rows as an async iterator, fetched from a portal in batches (Execute
 * with a row limit, then PortalSuspended). The server sends at most `batchSize` rows before it waits for the
 * next Execute, so a slow consumer never makes memory grow with the size of the result.
 *
 * The portal lives until the next Sync, so the stream holds the wire lease: requests made while it is open
 * are held and written once it completes.
 *
 * - `next()` calls may overlap: each gets its own row, in order.
 * - `return()` (a `break` out of `for await`) closes the portal; `next()` calls still waiting resolve done.
 * - A row that cannot be decoded rejects this stream only: the portal is closed and the connection lives on.
 * - An abort while the portal waits for the consumer closes it (nothing runs on the server to cancel);
 *   `end()` closes it too, and the consumer then gets a closed error once the rows already fetched are read.
 * - The deadline covers each batch the stream waits for, not the time the consumer takes.
 */
import type { ConnectionCore } from './core.ts'
import {
  closedError,
  DatabaseError,
  encodeError,
  isPgError,
  type PgError,
  protocolError,
  usageError,
} from './errors.ts'
import { Statement } from './prepare.ts'
import { checkTypeOptions, isArrayRowMode, typesOnStatementError } from './query-checks.ts'
import type { Request } from './request.ts'
import { type Row, RowDecoder, type RowMode } from './result.ts'
import { type RequestOptions, type SentRequest, send } from './send.ts'
import { statementCacheOf } from './statement-cache.ts'
import { encodeParam, type TypeOptions } from './types/index.ts'
import { typeRegistryOf } from './types/registry.ts'

export interface StreamOptions extends RequestOptions {
  /** Rows fetched per round trip. Default 1000. */
  batchSize?: number
  /** `'array'`: rows as arrays in column order (see `QueryOptions.rowMode`). Default `'object'`. */
  rowMode?: RowMode
  /** This stream's decoders, in place of the connection's (see `QueryOptions.types`); not for a Statement. */
  types?: TypeOptions
}

/**
 * - `fetching`: an Execute is out, rows arrive;
 * - `suspended`: the batch is in, the portal waits for the next Execute;
 * - `closing`: Close/Sync are out (done, returned, failed or ended), the rest of the response is discarded;
 * - `done`: ReadyForQuery arrived.
 */
type Phase = 'fetching' | 'suspended' | 'closing' | 'done'

interface Waiter {
  resolve(result: IteratorResult<unknown>): void
  reject(error: unknown): void
}

/** Streams the rows of `statement`. */
export function queryRaw<R = Row>(
  core: ConnectionCore,
  statement: string | Statement,
  params: readonly unknown[] = [],
  options: StreamOptions = {},
): AsyncIterableIterator<R> {
  const batchSize = options.batchSize ?? 1000
  const isArrayMode = options.rowMode === 'array'
  const rows: R[] = []
  const waiters: Waiter[] = []
  /** `return()` calls waiting for ReadyForQuery. */
  const closers: (() => void)[] = []
  let phase: Phase = 'fetching'
  /** Why the stream failed; delivered once, after the rows already fetched. */
  let error: PgError | undefined
  let isErrorDelivered = false
  let isReturned = false
  let decoder = statement instanceof Statement ? statement.decoder : undefined
  let sent: SentRequest | undefined

  /** Ends the portal: Close (when it may still hold rows) and Sync. */
  const close = (isOpen: boolean) => {
    if (phase === 'closing' || phase === 'done') return
    phase = 'closing'
    sent?.resumeDeadline()
    sent?.lease?.write((w) => {
      if (isOpen) w.close('P', '')
      w.sync()
    })
  }
  const fetch = () => {
    phase = 'fetching'
    sent?.resumeDeadline()
    sent?.lease?.write((w) => w.execute('', batchSize).flush())
  }
  /** Hands rows (or the end) to waiting `next()` calls, and fetches more while someone waits. */
  const deliver = () => {
    while (waiters.length > 0) {
      if (isReturned) {
        waiters.shift()!.resolve({ value: undefined, done: true })
        continue
      }
      if (rows.length > 0) {
        waiters.shift()!.resolve({ value: rows.shift()!, done: false })
        continue
      }
      if (error && !isErrorDelivered && (phase === 'done' || !isDatabaseFailure(error))) {
        isErrorDelivered = true
        waiters.shift()!.reject(error)
        continue
      }
      if (phase === 'done') {
        waiters.shift()!.resolve({ value: undefined, done: true })
        continue
      }
      if (phase === 'suspended') fetch()
      break
    }
    if (phase === 'suspended' && waiters.length === 0) sent?.pauseDeadline()
    if (phase === 'done') for (const resolve of closers.splice(0)) resolve()
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
          decoder = new RowDecoder(message.fields, options.types ? typeRegistryOf(options.types) : core.types)
          return false
        case 'DataRow':
          if (!decoder) throw protocolError('DataRow before RowDescription')
          if (phase !== 'fetching' || isReturned) return false
          try {
            rows.push((isArrayMode ? decoder.decodeArray(message) : decoder.decode(message)) as R)
          } catch (failure) {
            error ??= isPgError(failure) ? failure : encodeError('could not decode a row', failure)
            close(true)
          }
          deliver()
          return false
        case 'PortalSuspended':
          if (phase === 'fetching') phase = 'suspended'
          deliver()
          return false
        case 'CommandComplete':
        case 'EmptyQueryResponse':
          close(false)
          return false
        case 'ErrorResponse':
          error ??= new DatabaseError(message.fields)
          // After an error the server skips everything up to a Sync, which this request has not sent yet.
          close(false)
          return false
        case 'ReadyForQuery':
          phase = 'done'
          deliver()
          return true
        default:
          throw protocolError(`unexpected ${message.type} while streaming rows`)
      }
    },
    fail(failure) {
      error ??= failure
      phase = 'done'
      deliver()
    },
  }

  try {
    // Execute's row limit is a 32-bit signed integer: more would wrap on the wire.
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 2 ** 31 - 1)
      throw usageError(`batchSize must be a positive integer up to 2147483647, found ${batchSize}`)
    if (typeof statement !== 'string' && !(statement instanceof Statement))
      throw usageError(`query text must be a string or a prepared Statement, found ${typeof statement}`)
    isArrayRowMode(options.rowMode)
    checkTypeOptions(options.types)
    if (options.types !== undefined && statement instanceof Statement) throw typesOnStatementError()
    if (!Array.isArray(params)) throw usageError(`query parameters must be an array, found ${typeof params}`)
    const values = params.map((p) => encodeParam(p))
    sent = send(
      core,
      request,
      options,
      (w) => {
        if (statement instanceof Statement) {
          w.bind('', statement.name, values, statement.resultFormats)
        } else {
          w.parse('', statement, []).bind('', '', values, []).describe('P', '')
        }
        w.execute('', batchSize).flush()
      },
      {
        isExclusive: true,
        onAbort(failure) {
          if (phase !== 'suspended') return false
          error ??= failure
          close(true)
          deliver()
          return true
        },
      },
    )
    if (typeof statement === 'string') statementCacheOf(core)?.sending(core, statement)
    if (sent.lease) {
      sent.lease.onEnd = () => {
        if (phase !== 'fetching' && phase !== 'suspended') return
        error ??= closedError('client.end() was called while the stream was open: the rest was not fetched')
        close(true)
        deliver()
      }
    }
  } catch (failure) {
    request.fail(isPgError(failure) ? failure : encodeError('could not start the stream', failure))
  }

  const iterator: AsyncIterableIterator<R> = {
    next(): Promise<IteratorResult<R>> {
      return new Promise<IteratorResult<unknown>>((resolve, reject) => {
        waiters.push({ resolve, reject })
        deliver()
      }) as Promise<IteratorResult<R>>
    },
    async return(): Promise<IteratorResult<R>> {
      isReturned = true
      rows.length = 0
      if (phase === 'fetching' || phase === 'suspended') close(true)
      deliver()
      if (phase !== 'done') await new Promise<void>((resolve) => closers.push(resolve))
      // A dead connection is news to whoever breaks out of the loop; a failed statement is not.
      if (error && !isErrorDelivered && !isDatabaseFailure(error)) {
        isErrorDelivered = true
        throw error
      }
      return { value: undefined, done: true }
    },
    [Symbol.asyncIterator]() {
      return iterator
    },
  }
  return iterator
}

/** A failure the stream reports after the rows fetched before it (a server or decode error, an end()). */
function isDatabaseFailure(error: PgError): boolean {
  return error instanceof DatabaseError || error.kind === 'encode' || error.kind === 'closed'
}
