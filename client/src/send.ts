/**
 * The one way to send a request. Every flow — query, prepare, close, simple query, portal stream, COPY, the
 * statement cache's Close — calls {@link send}, which carries the request's deadline (`timeout` or the
 * connection's `queryTimeout`), its abort signal, and the choice between cancelling and abandoning.
 *
 * - **Not yet written** (held behind a lease holder): a deadline or an abort takes the request back
 *   (`withdraw`); nothing reached the server and the connection is untouched.
 * - **Deadline passed after it was written**: the request is abandoned. Its response is still on the wire and
 *   would land on the next request, so the connection is destroyed (the others reject with a closed error
 *   whose cause is the timeout) and a CancelRequest stops the statement on the server. A timeout never
 *   leaves a connection out of sync and never leaves a backend running.
 * - **Aborted after it was written**: a request with a signal holds the wire lease, so nothing is written
 *   behind it and a CancelRequest can only reach it. When it is the statement the server runs, the cancel is
 *   sent and the request fails with 57014 (or succeeds, if it finished first); the lease stays pinned until
 *   the cancel has been delivered, so the next statement cannot be its victim. When it still waits behind
 *   others, it rejects at once, its response is discarded, and the cancel is sent when it reaches the head.
 *   If the server does not answer within {@link CANCEL_GRACE_MS}, the request is abandoned like a timeout.
 */
import { CancelToken } from './cancel.ts'
import type { ConnectionCore } from './core.ts'
import { abortedError, closedError, type PgError, timeoutError, usageError } from './errors.ts'
import type { Encoder, Request } from './request.ts'
import { WireLease } from './wire-lease.ts'

/** Options every request method accepts. */
export interface RequestOptions {
  /**
   * Deadline in ms for this request (overrides `queryTimeout`). Passed after the request was written, the
   * connection is destroyed and the statement cancelled on the server. For a stream or a COPY the deadline
   * covers each wait for the server, not the time spent waiting for the consumer or the source.
   */
  timeout?: number
  /** Cancels the request (a CancelRequest when it is running; otherwise it is taken back or discarded). */
  signal?: AbortSignal
}

/** What a flow needs from the send path besides the request itself. */
export interface SendHooks {
  /** The request owns the wire from when it is written until it completes (portal stream, COPY). */
  isExclusive?: boolean
  /**
   * Called first when the signal aborts a written request. Return true when the flow stopped by itself
   * because nothing runs on the server for it (a suspended portal, a COPY waiting for its source).
   */
  onAbort?(error: PgError): boolean
}

/** The sent request, as its flow sees it. */
export interface SentRequest {
  /** The lease of an exclusive request: how it writes its own messages. */
  readonly lease: WireLease | undefined
  /** Stops the deadline while the flow waits on the user rather than the server. */
  pauseDeadline(): void
  /** Restarts the deadline in full: the flow waits on the server again. */
  resumeDeadline(): void
}

/** The longest delay a timer can hold (2^31 − 1 ms, about 24.8 days); a longer one would fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * What is wrong with a `timeout` option, if anything. A timer longer than 2^31 − 1 ms fires at once, so it is
 * refused rather than allowed to time out after 1 ms.
 */
export function timeoutProblem(timeout: unknown): string | undefined {
  if (timeout === undefined) return undefined
  if (typeof timeout === 'number' && Number.isFinite(timeout) && timeout > 0 && timeout <= MAX_TIMER_MS)
    return undefined
  return `timeout must be a positive number of milliseconds up to ${MAX_TIMER_MS}, found ${String(timeout)}`
}

/** How long an aborted request waits for the server to answer its cancel before it is abandoned. */
export const CANCEL_GRACE_MS = 5000

const unguarded: SentRequest = { lease: undefined, pauseDeadline() {}, resumeDeadline() {} }

/**
 * Sends `request`: validates the options, arms the deadline and the abort signal (both disarmed when it
 * completes or fails) and queues it on the core. Invalid options or an already-aborted signal reject it
 * without writing a byte. `encode` writes its messages; without one, the request's own `encode` does (a
 * query, so that the pipelined path allocates no closure per query).
 */
export function send(
  core: ConnectionCore,
  request: Request,
  options: RequestOptions | undefined,
  encode?: Encoder,
  hooks?: SendHooks,
): SentRequest {
  const timeout = options?.timeout ?? core.queryTimeout
  const signal = options?.signal
  const problem = timeoutProblem(timeout)
  if (problem) {
    request.fail(usageError(problem))
    return unguarded
  }
  if (signal !== undefined && !isSignal(signal)) {
    request.fail(usageError(`signal must be an AbortSignal, found ${describe(signal)}`))
    return unguarded
  }
  if (signal?.aborted) {
    request.fail(abortedError('request aborted before it was sent', signal.reason))
    return unguarded
  }
  const isExclusive = hooks?.isExclusive === true
  if (timeout === undefined && !signal && !isExclusive) {
    core.enqueue(request, encode)
    return unguarded
  }

  const lease = isExclusive || signal ? new WireLease(isExclusive) : undefined
  let timer: ReturnType<typeof setTimeout> | undefined
  let grace: ReturnType<typeof setTimeout> | undefined
  /** The caller's promise has settled (the request may still be reading its response off the wire). */
  let isSettled = false
  /** Rejected early: its response is read and discarded. */
  let isDiscarding = false
  let isCancelWanted = false
  let isCancelSent = false

  const disarm = () => {
    clearTimeout(timer)
    clearTimeout(grace)
    timer = undefined
    signal?.removeEventListener('abort', onAbort)
  }
  const settle = (error: PgError) => {
    if (isSettled) return
    isSettled = true
    request.fail(error)
  }
  const guarded: Request = {
    lease,
    inner: request,
    handle(message) {
      if (isDiscarding) {
        if (message.type !== 'ReadyForQuery') return false
        clearTimeout(grace)
        return true
      }
      const isDone = request.handle(message)
      if (isDone) {
        isSettled = true
        disarm()
      }
      return isDone
    },
    fail(error) {
      disarm()
      settle(error)
    },
    onHead() {
      if (isCancelWanted) cancel()
    },
  }
  const abandon = (error: PgError) => {
    disarm()
    const wasWritten = !core.withdraw(guarded)
    settle(error)
    if (!wasWritten) return
    core.abandon(guarded, error)
    // The statement may still run on the server: stop it (the connection is gone, so nothing else can be hit).
    if (core.processId !== 0)
      token(core)
        .cancel()
        .catch(() => {})
  }
  const cancel = () => {
    if (isCancelSent) return
    isCancelSent = true
    const unpin = lease?.pin() ?? (() => {})
    grace = setTimeout(
      () => abandon(abortedError('query aborted, and the server did not answer its cancel request')),
      CANCEL_GRACE_MS,
    )
    token(core)
      .cancel()
      .then(unpin, (error: unknown) => {
        // Delivered or not, nobody knows: no statement may run behind it on this connection again.
        const failure = abortedError('query aborted, and its cancel request was not confirmed', error)
        disarm()
        settle(failure)
        core.fail(closedError(`connection destroyed: ${failure.message}`, failure))
      })
  }
  const onAbort = () => {
    clearTimeout(timer)
    const error = abortedError('query aborted by its AbortSignal', signal?.reason)
    if (core.withdraw(guarded)) return settle(error)
    if (hooks?.onAbort?.(error)) return
    if (core.isHead(guarded)) return cancel()
    isCancelWanted = true
    // An exclusive flow must answer the server to finish (Sync, CopyDone): it sees the cancel's 57014.
    if (isExclusive) return
    // Still behind others on the wire: reject now, discard its response, cancel it when it runs.
    settle(error)
    isDiscarding = true
  }
  const arm = () => {
    if (timeout === undefined || isSettled) return
    clearTimeout(timer)
    timer = setTimeout(() => abandon(timeoutError(`query timed out after ${timeout} ms`)), timeout)
  }

  arm()
  signal?.addEventListener('abort', onAbort, { once: true })
  core.enqueue(guarded, encode ?? ((w) => request.encode?.(w)))
  return {
    lease,
    pauseDeadline() {
      clearTimeout(timer)
      timer = undefined
    },
    resumeDeadline: arm,
  }
}

const token = (core: ConnectionCore) =>
  new CancelToken(core.processId, core.secretKey, core.transport, core.target)

function isSignal(value: unknown): value is AbortSignal {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AbortSignal).addEventListener === 'function' &&
    typeof (value as AbortSignal).aborted === 'boolean'
  )
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'object') return value.constructor?.name ?? 'an object'
  return typeof value
}
