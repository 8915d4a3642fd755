/**
 * The Origin check (runtime-neutral). A browser's `Origin` must equal one of the configured origins exactly
 * (`scheme://host[:port]`, compared lower-cased); `null`, suffix tricks and any non-canonical spelling are
 * refused. A missing Origin means a non-browser client, allowed only as configured.
 *
 * Cookies are never authentication: the check has no cookie input at all, by design. A browser attaches
 * cookies to any cross-site WebSocket request, so they prove nothing about who opened it.
 */

/** The check's decision; `reason` is for logs only. */
export type OriginVerdict = { ok: true } | { ok: false; status: 401 | 403; reason: string }

/** Checks the `Origin` of an upgrade request. */
export interface OriginCheck {
  /** Judges `origin` (the header, or undefined when absent); `hasValidToken` when a token was verified. */
  check(origin: string | undefined, hasValidToken: boolean): OriginVerdict
}

/** Options of {@link createOriginCheck}. */
export interface OriginCheckOptions {
  /** Exact origins allowed (`https://app.example.com`, `http://localhost:5173`). */
  allowedOrigins: string[]
  /**
   * A request without an Origin: allowed only with a valid token (`with-token`, otherwise 401), `always`, or
   * `never` (403).
   */
  allowMissingOrigin: 'with-token' | 'always' | 'never'
}

/**
 * Builds the check; throws when a configured origin is not `scheme://host[:port]`.
 *
 * @example
 * ```ts
 * const origins = createOriginCheck({ allowedOrigins: ['https://app.example.com'], allowMissingOrigin: 'with-token' })
 * origins.check(request.headers.get('origin') ?? undefined, hasValidToken)
 * ```
 */
export function createOriginCheck(options: OriginCheckOptions): OriginCheck {
  const allowed = new Set(
    options.allowedOrigins.map((origin) => {
      const serialized = serializedOrigin(origin)
      if (serialized === undefined)
        throw new Error(`"${origin}" is not an origin: expected scheme://host[:port]`)
      return serialized
    }),
  )
  return {
    check(origin, hasValidToken) {
      if (origin === undefined) {
        if (options.allowMissingOrigin === 'always') return { ok: true }
        if (options.allowMissingOrigin === 'never') return { ok: false, status: 403, reason: 'no origin' }
        if (hasValidToken) return { ok: true }
        return { ok: false, status: 401, reason: 'no origin and no valid token' }
      }
      if (origin === 'null') return { ok: false, status: 403, reason: 'null origin' }
      const lower = origin.toLowerCase()
      if (serializedOrigin(lower) !== lower) return { ok: false, status: 403, reason: 'malformed origin' }
      if (!allowed.has(lower)) return { ok: false, status: 403, reason: 'origin not allowed' }
      return { ok: true }
    },
  }
}

/** The WHATWG serialization of `text` when it is an http(s) origin and nothing more; undefined otherwise. */
function serializedOrigin(text: string): string | undefined {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return undefined
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined
  if (url.username || url.password || url.pathname !== '/' || url.search || url.hash) return undefined
  return url.origin
}
