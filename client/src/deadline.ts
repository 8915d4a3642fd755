/**
 * Per-request deadlines and abort signals. A request that times out or is aborted is abandoned: it rejects
 * at once and the connection is destroyed, because its response would otherwise land on the next request.
 */
import type { ConnectionCore, Request } from './connection.ts'
import { abortedError, timeoutError, usageError } from './errors.ts'

/** Options every request method accepts. */
export interface RequestOptions {
  /** Deadline in ms for this request (overrides `queryTimeout`). */
  timeout?: number
  /** Aborts the request (the connection is then destroyed). */
  signal?: AbortSignal
}

/**
 * Arms the deadline and the abort signal for `request`; returns a function that disarms both (call it when
 * the request settles). Throws synchronously for invalid options or an already-aborted signal.
 */
export function guard(
  core: ConnectionCore,
  request: Request,
  options: RequestOptions | undefined,
): () => void {
  const timeout = options?.timeout ?? core.queryTimeout
  const signal = options?.signal
  if (timeout !== undefined && (!Number.isFinite(timeout) || timeout <= 0)) {
    throw usageError(`timeout must be a positive number of milliseconds, found ${timeout}`)
  }
  if (signal?.aborted) throw abortedError('request aborted before it was sent', signal.reason)
  if (timeout === undefined && !signal) return noop
  const timer =
    timeout === undefined
      ? undefined
      : setTimeout(() => core.abandon(request, timeoutError(`query timed out after ${timeout} ms`)), timeout)
  const onAbort = () =>
    core.abandon(request, abortedError('query aborted by its AbortSignal', signal?.reason))
  signal?.addEventListener('abort', onAbort, { once: true })
  return () => {
    clearTimeout(timer)
    signal?.removeEventListener('abort', onAbort)
  }
}

const noop = () => {}
