/**
 * Per-request deadlines and abort signals.
 * - A timeout abandons the request: it rejects at once and the connection is destroyed, because its response
 *   would otherwise land on the next request.
 * - An abort sends a CancelRequest when the request is the one the server is running: the request then fails
 *   with 57014 and the connection stays usable. If it is still queued behind others, or the server does not
 *   answer the cancel within `CANCEL_GRACE_MS`, the request is abandoned like a timeout.
 */
import { CancelToken } from './cancel.ts'
import type { ConnectionCore, Request } from './core.ts'
import { abortedError, timeoutError, usageError } from './errors.ts'
import type { FrontendWriter } from './protocol/index.ts'

/** Options every request method accepts. */
export interface RequestOptions {
  /** Deadline in ms for this request (overrides `queryTimeout`); the connection is destroyed when it passes. */
  timeout?: number
  /** Cancels the request (CancelRequest when it is running; otherwise the connection is destroyed). */
  signal?: AbortSignal
}

const CANCEL_GRACE_MS = 5000

/**
 * Queues `request` (see `ConnectionCore.send`) with its deadline and abort signal armed; both are disarmed
 * when it completes or fails. Invalid options or an already-aborted signal reject it without writing a byte.
 */
export function sendGuarded(
  core: ConnectionCore,
  request: Request,
  options: RequestOptions | undefined,
  encode: (writer: FrontendWriter) => void,
  isExclusive = false,
): void {
  const timeout = options?.timeout ?? core.queryTimeout
  const signal = options?.signal
  if (timeout !== undefined && (!Number.isFinite(timeout) || timeout <= 0)) {
    request.fail(usageError(`timeout must be a positive number of milliseconds, found ${timeout}`))
    return
  }
  if (signal?.aborted) {
    request.fail(abortedError('request aborted before it was sent', signal.reason))
    return
  }
  if (timeout === undefined && !signal) {
    core.send(request, encode, isExclusive)
    return
  }

  let grace: ReturnType<typeof setTimeout> | undefined
  const disarm = () => {
    clearTimeout(timer)
    clearTimeout(grace)
    signal?.removeEventListener('abort', onAbort)
  }
  const guarded: Request = {
    handle(message) {
      const isDone = request.handle(message)
      if (isDone) disarm()
      return isDone
    },
    fail(error) {
      disarm()
      request.fail(error)
    },
  }
  const timer =
    timeout === undefined
      ? undefined
      : setTimeout(() => core.abandon(guarded, timeoutError(`query timed out after ${timeout} ms`)), timeout)
  const abandon = () =>
    core.abandon(guarded, abortedError('query aborted by its AbortSignal', signal?.reason))
  const onAbort = () => {
    if (!core.isHead(guarded)) return abandon()
    grace = setTimeout(abandon, CANCEL_GRACE_MS)
    new CancelToken(core.processId, core.secretKey, core.transport, core.target).cancel().catch(abandon)
  }
  signal?.addEventListener('abort', onAbort, { once: true })
  core.send(guarded, encode, isExclusive)
}
