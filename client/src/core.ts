/**
 * The connection core shared by Client and Connection (see the contract at the top of `connection.ts`): the
 * FIFO of pending requests, the write buffer and its flushing, the read loop's dispatch, the not-driven
 * timer, the wire lease (see `wire-lease.ts`) and the requests held behind it, shutdown, and the way a
 * connection dies. Flows never call `enqueue` themselves: they send through `send()` (`send.ts`), which
 * carries every request's deadline and abort signal.
 */
import {
  closedError,
  DatabaseError,
  encodeError,
  isPgError,
  notDrivenError,
  type PgError,
  protocolError,
} from './errors.ts'
import { type Notice, type Notification, Notifications, type SideChannel } from './notifications.ts'
import { Outbox } from './outbox.ts'
import { type BackendMessage, BackendParser, type FrontendWriter } from './protocol/index.ts'
import { type Encoder, type Request, RequestQueue } from './request.ts'
import type { ByteStream, Transport } from './transport/transport.ts'
import type { TypeRegistry } from './types/index.ts'

/** Where a connection is in its life. */
export type ConnectionState =
  /** Startup and authentication in progress (inside `connect()`). */
  | 'connecting'
  /** Ready, but `run()` has not been called: requests wait (and reject after `notDrivenTimeout`). */
  | 'ready'
  /** Driven by `run()`: requests are written as they come. */
  | 'running'
  /** `end()` was called: Terminate is queued, responses still arrive. */
  | 'closing'
  | 'closed'

/** The server's transaction status from the last ReadyForQuery. */
export type TransactionStatus = 'idle' | 'transaction' | 'failed'

export interface CoreOptions {
  maxMessageSize: number
  notDrivenTimeout: number
  types: TypeRegistry
  /** Default per-request deadline in ms (`queryTimeout`); undefined = none. */
  queryTimeout: number | undefined
  /** How the connection was opened; a cancel request opens another stream the same way. */
  transport: Transport
  target: { host: string; port: number }
  /** Most statements `query(sql)` keeps prepared; 0 = none. */
  statementCacheSize: number
}

/** @internal Shared by Client and Connection; not exported from the package. */
export class ConnectionCore {
  state: ConnectionState = 'connecting'
  transactionStatus: TransactionStatus = 'idle'
  readonly parameters = new Map<string, string>()
  processId = 0
  secretKey: Uint8Array = new Uint8Array(0)
  readonly types: TypeRegistry
  readonly queryTimeout: number | undefined
  readonly transport: Transport
  readonly target: { host: string; port: number }
  readonly side: SideChannel = new Notifications()
  /** Most statements `query(sql)` keeps prepared (the cache lives above the core, in `statement-cache.ts`). */
  readonly statementCacheSize: number
  /**
   * Checked at every ReadyForQuery before the request it completes sees it; an error destroys the
   * connection with it. The pool sets it while the connection serves pipelined `pool.query()` calls.
   */
  checkStatus: ((status: TransactionStatus) => PgError | undefined) | undefined
  /** Called when the server reports `DEALLOCATE ALL` or `DISCARD ALL` (the statement cache listens). */
  onStatementsDropped: (() => void) | undefined

  readonly #stream: ByteStream
  readonly #parser: BackendParser
  readonly #outbox: Outbox
  /** Terminate is written: the stream closes once every response has arrived. */
  #isTerminated = false
  #isStreamClosing = false
  #idleWaiters: (() => void)[] = []
  readonly #pending = new RequestQueue()
  readonly #notDrivenTimeout: number
  #notDrivenTimer: ReturnType<typeof setTimeout> | undefined
  #error: PgError | undefined
  #done: { promise: Promise<void>; resolve(): void; reject(error: unknown): void } | undefined

  constructor(stream: ByteStream, options: CoreOptions) {
    this.#stream = stream
    this.#parser = new BackendParser({ maxMessageSize: options.maxMessageSize })
    this.#notDrivenTimeout = options.notDrivenTimeout
    this.types = options.types
    this.queryTimeout = options.queryTimeout
    this.transport = options.transport
    this.target = options.target
    this.statementCacheSize = options.statementCacheSize
    const core = this
    this.#outbox = new Outbox(stream, {
      get isClosed() {
        return core.state === 'closed'
      },
      get isClosing() {
        return core.state === 'closing'
      },
      terminated: () => {
        this.#isTerminated = true
        this.#closeIfDrained()
      },
    })
    stream.start({
      data: (chunk) => {
        try {
          this.#parser.parse(chunk, this.#dispatch)
        } catch (error) {
          this.fail(isPgError(error) ? error : protocolError('failed to handle a message', error))
        }
      },
      end: () => this.#onEnd(),
      error: (error) => this.fail(isPgError(error) ? error : closedError('transport failed', error)),
    })
  }

  /** The error that closed the connection, if any. */
  get error(): PgError | undefined {
    return this.#error
  }

  get pendingCount(): number {
    return this.#pending.count
  }

  /** Whether every request queued behind the one being answered satisfies `test`. */
  everyPendingBehind(test: (request: Request) => boolean): boolean {
    return this.#pending.everyBehindHead(test)
  }

  /**
   * Queues a request: `encode` writes its messages into the write buffer (or, behind a lease holder, into the
   * held queue); without one the request encodes itself. Rejects it at once when the connection is closing or
   * closed; an encoding error rejects it without writing a byte. Only `send()` calls this.
   */
  enqueue(request: Request, encode: Encoder | undefined): void {
    if (this.state === 'closing' || this.state === 'closed' || this.state === 'connecting') {
      request.lease?.drop()
      request.fail(this.#closedFor())
      return
    }
    let isHeld: boolean
    try {
      isHeld = this.#outbox.add(request, encode)
    } catch (error) {
      request.lease?.drop()
      request.fail(isPgError(error) ? error : protocolError('failed to encode a request', error))
      return
    }
    this.#pending.push(request)
    if (isHeld) return
    if (this.state === 'running') this.#outbox.scheduleFlush()
    else this.#armNotDriven()
  }

  /**
   * Takes back a request that is still held (never written): it leaves the queue without a trace and the
   * connection stays as it was. False when its bytes are already on the wire.
   */
  withdraw(request: Request): boolean {
    if (!this.#outbox.withdraw(request)) return false
    this.#pending.remove(request)
    request.lease?.drop()
    return true
  }

  /** Resolves once no request is pending (or the connection closed). */
  whenIdle(): Promise<void> {
    if (this.pendingCount === 0 || this.state === 'closed') return Promise.resolve()
    return new Promise((resolve) => this.#idleWaiters.push(resolve))
  }

  /** True while a portal stream or a COPY owns the wire or waits for it: work only its user can finish. */
  get hasExclusiveWork(): boolean {
    return this.#outbox.hasExclusiveWork
  }

  /**
   * Writes bytes at once, bypassing the run() gate and the held queue: startup and authentication, and the
   * answer to a server that waits for one (CopyFail to a CopyInResponse nobody asked for).
   */
  writeNow(encode: (writer: FrontendWriter) => void): void {
    this.#outbox.writeNow(encode)
  }

  /** Bytes written to the transport but not yet sent: COPY FROM STDIN waits while it is high. */
  get bufferedAmount(): number {
    return this.#stream.bufferedAmount
  }

  /** Stops reading from the transport (COPY TO STDOUT whose consumer lags); `resumeReading()` undoes it. */
  pauseReading(): void {
    this.#stream.pause()
  }

  resumeReading(): void {
    this.#stream.resume()
  }

  /** Puts a request at the head of the FIFO without writing (startup's handler). */
  expect(request: Request): void {
    this.#pending.push(request)
  }

  /** Drives the connection: starts writing queued requests. Settles when the connection ends. */
  run(): Promise<void> {
    if (!this.#done) {
      let resolve!: () => void
      let reject!: (error: unknown) => void
      const promise = new Promise<void>((res, rej) => {
        resolve = res
        reject = rej
      })
      this.#done = { promise, resolve, reject }
      if (this.state === 'closed') {
        if (this.#error) reject(this.#error)
        else resolve()
      }
    }
    if (this.state === 'ready') {
      this.state = 'running'
      this.#disarmNotDriven()
      this.#outbox.flush()
    }
    return this.#done.promise
  }

  /**
   * Sends Terminate after everything queued (behind a lease holder, once it is released: the holder is asked
   * to wind down) and closes the stream once every response has arrived; resolves once it is closed.
   */
  end(): Promise<void> {
    if (this.state === 'closed') return Promise.resolve()
    if (this.state !== 'closing') {
      if (this.state === 'ready')
        this.#rejectUnwritten(closedError('client ended before connection.run() was called'))
      this.state = 'closing'
      this.#outbox.terminate()
    }
    return this.#ended()
  }

  /**
   * Gives up on one request (timeout or abort): it rejects with `error`, and because its response is still
   * on the wire — and would land on the next request — the connection is destroyed; the other pending
   * requests reject with a closed error whose cause is `error`. Cancelling server-side comes with cancel().
   */
  abandon(request: Request, error: PgError): void {
    if (this.state === 'closed') return
    if (!this.#pending.remove(request)) return
    request.lease?.drop()
    request.fail(error)
    this.fail(closedError(`connection destroyed: a request was abandoned (${error.message})`, error))
  }

  /** True when `request` is the one whose response is being read (the statement the server is running). */
  isHead(request: Request): boolean {
    return this.state === 'running' && this.#pending.head === request
  }

  /** Destroys the connection with `error`: every pending request rejects with it. */
  fail(error: PgError): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.#error = error
    this.#disarmNotDriven()
    this.#stream.destroy()
    this.#rejectAll(error)
    this.#settleIdle()
    this.side.close(error)
    this.#done?.reject(error)
    this.#settleEnded()
  }

  #endWaiters: (() => void)[] = []

  #ended(): Promise<void> {
    return new Promise((resolve) => this.#endWaiters.push(resolve))
  }

  #settleEnded() {
    for (const resolve of this.#endWaiters.splice(0)) resolve()
  }

  #onEnd() {
    if (this.state === 'closed') return
    if (this.state === 'closing') {
      this.state = 'closed'
      this.#rejectAll(closedError('connection closed before the response arrived'))
      this.#settleIdle()
      this.side.close(undefined)
      this.#done?.resolve()
      this.#settleEnded()
      return
    }
    this.fail(closedError('server closed the connection unexpectedly'))
  }

  readonly #dispatch = (message: BackendMessage): void => {
    switch (message.type) {
      case 'NoticeResponse':
        this.side.notice(message.fields as Notice)
        return
      case 'NotificationResponse':
        this.side.notification(message as Notification)
        return
      case 'ParameterStatus': {
        this.parameters.set(message.name, message.value)
        // A setting the decoders cannot read under (a SET DateStyle = 'SQL', client_encoding = LATIN1) would
        // garble every later value: close the connection with an error that names it.
        const refusal = this.types.follow(message.name, message.value)
        if (refusal) {
          this.fail(refusal)
          return
        }
        this.side.parameter(message.name, message.value)
        return
      }
      case 'ErrorResponse': {
        const severity = message.fields.severityNonLocalized ?? message.fields.severity
        if (severity === 'FATAL' || severity === 'PANIC') {
          this.#fatal(new DatabaseError(message.fields))
          return
        }
        break
      }
      case 'CommandComplete':
        if (
          this.onStatementsDropped !== undefined &&
          (message.tag === 'DEALLOCATE ALL' || message.tag === 'DISCARD ALL')
        )
          this.onStatementsDropped()
        break
      case 'ReadyForQuery':
        this.transactionStatus =
          message.status === 'I' ? 'idle' : message.status === 'T' ? 'transaction' : 'failed'
        if (this.checkStatus) {
          const refusal = this.checkStatus(this.transactionStatus)
          if (refusal) {
            this.fail(refusal)
            return
          }
        }
        break
    }
    const request = this.#pending.head
    if (!request) throw protocolError(`unexpected ${message.type} with no request pending`)
    let isDone: boolean
    try {
      isDone = request.handle(message)
    } catch (error) {
      // Bytes that are not valid protocol kill the connection; anything else (a value that cannot be
      // decoded, a custom parser that throws) fails only this request, whose response is still read off.
      if (isPgError(error, 'protocol')) throw error
      isDone = this.#failHead(request, message, error)
    }
    if (isDone) this.#complete(request)
  }

  /** The head request threw while reading its response: reject it now and discard the rest of its response. */
  #failHead(request: Request, message: BackendMessage, error: unknown): boolean {
    const failure = isPgError(error) ? error : encodeError('could not read the result', error)
    const sink: Request = {
      handle: (next) => next.type === 'ReadyForQuery',
      fail: () => {},
      lease: request.lease,
    }
    this.#pending.replaceHead(sink)
    request.fail(failure)
    if (message.type !== 'ReadyForQuery') return false
    this.#complete(sink)
    return false
  }

  #complete(request: Request) {
    this.#shift()
    request.lease?.complete()
    if (this.#isTerminated) this.#closeIfDrained()
    this.#pending.head?.onHead?.()
  }

  /** A FATAL error: the request that receives it rejects with it, the rest with a closed error. */
  #fatal(error: DatabaseError) {
    const request = this.#pending.head
    if (request) {
      this.#shift()
      request.lease?.drop()
      request.fail(error)
    }
    this.fail(closedError(`connection terminated by the server: ${error.message} (${error.code})`, error))
  }

  #shift() {
    this.#pending.shift()
    if (this.#pending.count === 0 && this.#idleWaiters.length > 0) this.#settleIdle()
  }

  #rejectAll(error: PgError) {
    this.#outbox.drop()
    const requests = this.#pending.takeAll()
    for (const request of requests) {
      request.lease?.drop()
      request.fail(error)
    }
  }

  #settleIdle() {
    for (const resolve of this.#idleWaiters.splice(0)) resolve()
  }

  #rejectUnwritten(error: PgError) {
    this.#outbox.clear()
    this.#rejectAll(error)
  }

  /** After Terminate: close the stream once every response has arrived (the server closes too). */
  #closeIfDrained() {
    if (this.pendingCount > 0 || this.state !== 'closing' || this.#isStreamClosing) return
    this.#isStreamClosing = true
    this.#stream.close()
  }

  #closedFor(): PgError {
    if (this.#error) return closedError(`connection is closed: ${this.#error.message}`, this.#error)
    if (this.state === 'connecting') return closedError('connection is still starting up')
    return closedError('client is closed')
  }

  #armNotDriven() {
    if (this.#notDrivenTimer !== undefined) return
    this.#notDrivenTimer = setTimeout(() => {
      this.#notDrivenTimer = undefined
      if (this.state !== 'ready') return
      this.#rejectUnwritten(
        notDrivenError(
          `request was not sent: connection.run() was never called (waited ${this.#notDrivenTimeout} ms). ` +
            'Drive the connection with connection.run(), or ctx.waitUntil(connection.run()) in a Worker',
        ),
      )
    }, this.#notDrivenTimeout)
  }

  #disarmNotDriven() {
    if (this.#notDrivenTimer === undefined) return
    clearTimeout(this.#notDrivenTimer)
    this.#notDrivenTimer = undefined
  }
}
