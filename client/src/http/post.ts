/**
 * One HTTP request to the relay: Neon's headers, the body as JSON, the deadline and the abort signal, and the
 * answer as JSON or as the error it stands for. Every promise settles: the deadline and the signal end the
 * wait even if a custom `fetch` ignores its signal.
 */
import {
  abortedError,
  authError,
  ioError,
  isPgError,
  type PgError,
  protocolError,
  timeoutError,
  usageError,
} from '../errors.ts'
import { type RequestOptions, timeoutProblem } from '../send.ts'
import { answerError } from './response.ts'

/** A `fetch` as the entry calls it: the platform's, or one the caller passes (a mock, an instrumented fetch). */
export type Fetch = (url: string, init: RequestInit) => Promise<Response>

/** A relay token, or a function that gives one (called for every request, so it may rotate). */
export type Token = string | (() => string | Promise<string>)

/** Where requests go and what they carry on every request. */
export interface Endpoint {
  url: string
  /** `url` without its query, for messages. */
  where: string
  connectionString: string
  token: Token | undefined
  fetch: Fetch | undefined
}

/** A token goes into a header: printable ASCII only, and it is never shown in a message. */
const HEADER_TEXT = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/

/** Posts `body` with `headers` (besides the ones every request carries); resolves with the answer's JSON. */
export async function post(
  endpoint: Endpoint,
  body: unknown,
  headers: Record<string, string>,
  options: RequestOptions = {},
): Promise<unknown> {
  const { signal, timeout } = options
  const problem = timeoutProblem(timeout)
  if (problem) throw usageError(problem)
  if (signal !== undefined && typeof (signal as Partial<AbortSignal>)?.addEventListener !== 'function')
    throw usageError(`signal must be an AbortSignal, found ${typeof signal}`)
  if (signal?.aborted) throw abortedError('request aborted before it was sent', signal.reason)

  const controller = new AbortController()
  let stopped: PgError | undefined
  let stop: (error: PgError) => void = () => {}
  // Rejects when the deadline passes or the signal aborts; raced against every wait below.
  const halted = new Promise<never>((_, reject) => {
    stop = (error) => {
      if (stopped) return
      stopped = error
      controller.abort(error)
      reject(error)
    }
  })
  halted.catch(() => {})
  const onAbort = () => stop(abortedError('query aborted by its AbortSignal', signal?.reason))
  signal?.addEventListener('abort', onAbort)
  const timer =
    timeout === undefined
      ? undefined
      : setTimeout(() => stop(timeoutError(`query timed out after ${timeout} ms`)), timeout)
  try {
    const token = await Promise.race([tokenOf(endpoint.token), halted])
    const fetchFunction = endpoint.fetch ?? fetch
    const response = await Promise.race([
      fetchFunction(endpoint.url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'Neon-Connection-String': endpoint.connectionString,
          'Neon-Raw-Text-Output': 'true',
          'Neon-Array-Mode': 'true',
          ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }),
          ...headers,
        },
        body: JSON.stringify(body),
        signal: controller.signal,
      }),
      halted,
    ])
    const text = await Promise.race([response.text(), halted])
    if (response.status !== 200) throw answerError(response.status, text)
    try {
      return JSON.parse(text)
    } catch (cause) {
      throw protocolError(
        `expected JSON in the relay's answer, found ${JSON.stringify(text.slice(0, 100))}`,
        cause,
      )
    }
  } catch (error) {
    if (stopped) throw stopped
    if (isPgError(error)) throw error
    throw ioError(`could not reach the relay at ${endpoint.where}: ${String(error)}`, error)
  } finally {
    clearTimeout(timer)
    signal?.removeEventListener('abort', onAbort)
  }
}

async function tokenOf(token: Token | undefined): Promise<string | undefined> {
  if (token === undefined) return undefined
  let value: unknown
  try {
    value = typeof token === 'function' ? await token() : token
  } catch (cause) {
    throw authError(
      `could not get the relay token: ${cause instanceof Error ? cause.message : String(cause)}`,
      cause,
    )
  }
  if (typeof value !== 'string' || !HEADER_TEXT.test(value))
    throw authError(
      `expected the relay token as a non-empty string of printable ASCII characters, found ${typeof value === 'string' ? 'a string with other characters' : typeof value}`,
    )
  return value
}
