/**
 * CORS for `/sql`: only an Origin on the relay's allowlist is echoed back (exactly as the browser sent it),
 * always with `Vary: Origin`; never `*`, never credentials. Runtime-neutral.
 */
import { createOriginCheck, type OriginCheck } from '../policy/origin.ts'

/** Request headers a browser may send to `/sql` (answered in a preflight). */
export const SQL_REQUEST_HEADERS = [
  'authorization',
  'content-type',
  'neon-connection-string',
  'neon-raw-text-output',
  'neon-array-mode',
  'neon-batch-isolation-level',
  'neon-batch-read-only',
  'neon-batch-deferrable',
] as const

/** How long a browser may cache a preflight, seconds (Chromium caps it at 7200). */
export const PREFLIGHT_MAX_AGE = 7200

/** Decides the CORS headers of `/sql` answers. */
export class SqlCors {
  readonly #listed: OriginCheck

  constructor(allowedOrigins: string[]) {
    // The allowlist alone: a missing Origin is no CORS request, so it gets no CORS headers.
    this.#listed = createOriginCheck({ allowedOrigins, allowMissingOrigin: 'never' })
  }

  /** Whether `origin` (the header as sent) is on the allowlist. */
  isListed(origin: string | undefined): origin is string {
    return origin !== undefined && this.#listed.check(origin, false).ok
  }

  /** The headers of an answer to a request from `origin`: the echo when listed, and `Vary: Origin`. */
  headers(origin: string | undefined): Record<string, string> {
    return this.isListed(origin)
      ? { 'access-control-allow-origin': origin, vary: 'Origin' }
      : { vary: 'Origin' }
  }

  /** The headers of a successful preflight from a listed `origin`. */
  preflightHeaders(origin: string): Record<string, string> {
    return {
      ...this.headers(origin),
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers': SQL_REQUEST_HEADERS.join(', '),
      'access-control-max-age': String(PREFLIGHT_MAX_AGE),
    }
  }
}
