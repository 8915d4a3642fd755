/**
 * Short-lived relay tokens (runtime-neutral, WebCrypto): HMAC-SHA-256 in JWT compact form, HS256 only. A token
 * names one target (`tgt`); `exp` is required, lifetimes are capped, and a token id (`jti`) is accepted once.
 * The header is checked before the signature, the signature (constant time, by `crypto.subtle.verify`) before
 * any claim, so nothing an attacker wrote is trusted before it is authenticated.
 */
import { base64urlDecode, base64urlEncode } from './base64url.ts'

/** The claims of a relay token. Times are seconds since the epoch. */
export interface TokenClaims {
  /** The target the token allows: a configured target name or `host:port`. */
  tgt: string
  /** Expiry. */
  exp: number
  /** Not before. */
  nbf?: number
  /** Issued at. */
  iat?: number
  /** Audience: required to match when the verifier has one. */
  aud?: string
  /** Token id: with replay protection on, accepted once until the token expires. */
  jti?: string
}

/** The verifier's decision; `reason` is for logs only. */
export type TokenVerdict = { ok: true; claims: TokenClaims } | { ok: false; reason: string }

/** Verifies relay tokens. */
export interface TokenVerifier {
  /**
   * Verifies `token` at `now` (seconds since the epoch; default: the clock) and spends its id: the same as
   * {@link check} then {@link redeem}.
   */
  verify(token: string, now?: number): Promise<TokenVerdict>
  /**
   * Verifies `token` without spending its id (a used id still fails): for a caller that has more checks to
   * make, and redeems only once they all passed, so that a refusal for another reason does not burn it.
   */
  check(token: string, now?: number): Promise<TokenVerdict>
  /**
   * Spends the id of claims {@link check} accepted. Synchronous, so that of two requests checked with the
   * same id concurrently only one redeems it; returns the refusal reason for the other.
   */
  redeem(claims: TokenClaims, now?: number): string | undefined
}

/** Options of {@link createTokenVerifier}. */
export interface TokenVerifierOptions {
  /** Secrets that may have signed a token; any one verifies (rotation: add the new one, drop the old later). */
  secrets: (string | Uint8Array)[]
  /** Required `aud` claim, if set. */
  audience?: string | undefined
  /** Longest lifetime accepted, `exp − (iat ?? now)`, in seconds. Default 3600. */
  maxLifetimeSeconds?: number
  /** Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds. Default 30. */
  clockSkewSeconds?: number
  /** `reject` (default): a `jti` is accepted once until its token expires. */
  replay?: 'reject' | 'allow'
  /** Most token ids remembered at once; when all are live, tokens with an id are refused. Default 100 000. */
  maxReplayEntries?: number
}

/** Longest token accepted, in characters. */
const MAX_TOKEN = 4096
/** Longest token id accepted, in characters. */
const MAX_JTI = 128
const encoder = new TextEncoder()
const HEADER = base64urlEncode(encoder.encode(JSON.stringify({ alg: 'HS256', typ: 'JWT' })))

/**
 * Signs `claims` with `secret` (HS256). Throws when `tgt` is empty or `exp` is not a number.
 *
 * @example
 * ```ts
 * const now = Math.floor(Date.now() / 1000)
 * const token = await mintToken(secret, { tgt: 'main', iat: now, exp: now + 300, jti: crypto.randomUUID() })
 * ```
 */
export async function mintToken(secret: string | Uint8Array, claims: TokenClaims): Promise<string> {
  if (typeof claims.tgt !== 'string' || claims.tgt === '') throw new Error('token claims need a target (tgt)')
  if (!Number.isFinite(claims.exp)) throw new Error('token claims need an expiry (exp)')
  const input = `${HEADER}.${base64urlEncode(encoder.encode(JSON.stringify(claims)))}`
  const signature = await crypto.subtle.sign('HMAC', await importKey(secret), encoder.encode(input))
  return `${input}.${base64urlEncode(new Uint8Array(signature))}`
}

/** Builds a verifier; throws when no secret (or an empty one) is given. */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  if (options.secrets.length === 0) throw new Error('token verifier needs at least one secret')
  if (options.secrets.some((secret) => secret.length === 0))
    throw new Error('token secrets must not be empty')
  const keys = Promise.all(options.secrets.map(importKey))
  const maxLifetime = options.maxLifetimeSeconds ?? 3600
  const skew = options.clockSkewSeconds ?? 30
  const isReplayChecked = options.replay !== 'allow'
  const maxEntries = options.maxReplayEntries ?? 100_000
  /** jti → the time after which it may be forgotten (its expiry plus skew). */
  const seen = new Map<string, number>()

  const checkClaims = (claims: Record<string, unknown>, now: number): string | undefined => {
    const { tgt, exp, nbf, iat, aud, jti } = claims
    if (typeof tgt !== 'string' || tgt === '') return 'no target claim'
    if (exp === undefined) return 'no expiry claim'
    for (const time of [exp, nbf, iat]) {
      if (time !== undefined && !Number.isFinite(time)) return 'time claim is not a number'
    }
    if ((aud !== undefined && typeof aud !== 'string') || (jti !== undefined && typeof jti !== 'string'))
      return 'aud or jti is not a string'
    // Bounds the replay cache's memory: ids are remembered until their tokens expire.
    if (typeof jti === 'string' && (jti === '' || jti.length > MAX_JTI)) return 'jti empty or too long'
    if (now > (exp as number) + skew) return 'expired'
    if (nbf !== undefined && now + skew < (nbf as number)) return 'not valid yet'
    if (iat !== undefined && (iat as number) > now + skew) return 'issued in the future'
    if ((exp as number) - ((iat as number | undefined) ?? now) > maxLifetime) return 'lifetime too long'
    if (options.audience !== undefined && aud !== options.audience) return 'wrong audience'
    return undefined
  }

  const isUsed = (jti: string, now: number) => {
    const forgetAt = seen.get(jti)
    return forgetAt !== undefined && forgetAt >= now
  }

  const remember = (jti: string, exp: number, now: number): string | undefined => {
    if (isUsed(jti, now)) return 'token id already used'
    if (seen.size >= maxEntries) {
      for (const [id, at] of seen) if (at < now) seen.delete(id)
      // Fail closed: forgetting a live id would let its token be replayed.
      if (seen.size >= maxEntries) return 'replay cache full'
    }
    seen.set(jti, exp + skew)
    return undefined
  }

  const redeem = (claims: TokenClaims, now = Date.now() / 1000): string | undefined =>
    claims.jti !== undefined && isReplayChecked ? remember(claims.jti, claims.exp, now) : undefined

  const check = async (token: string, now = Date.now() / 1000): Promise<TokenVerdict> => {
    if (typeof token !== 'string' || token.length === 0) return { ok: false, reason: 'malformed: empty' }
    if (token.length > MAX_TOKEN) return { ok: false, reason: 'malformed: too long' }
    const parts = token.split('.')
    if (parts.length !== 3) return { ok: false, reason: 'malformed: not three parts' }
    const [h, p, s] = parts as [string, string, string]
    const header = decodeJson(h)
    const payload = decodeJson(p)
    const signature = base64urlDecode(s)
    if (!header || !payload || !signature) return { ok: false, reason: 'malformed: bad encoding' }
    // Only HS256: `none`, HS384/512 and RS256 (HS/RS confusion: a public key used as an HMAC secret) fail here.
    if (header.alg !== 'HS256') return { ok: false, reason: `algorithm ${describe(header.alg)} not accepted` }
    if (header.typ !== undefined && header.typ !== 'JWT') return { ok: false, reason: 'unexpected typ' }
    if (header.crit !== undefined) return { ok: false, reason: 'critical header not understood' }
    const data = encoder.encode(`${h}.${p}`)
    let isSigned = false
    for (const key of await keys) {
      if (await crypto.subtle.verify('HMAC', key, signature, data)) isSigned = true
    }
    if (!isSigned) return { ok: false, reason: 'bad signature' }
    const invalid = checkClaims(payload, now)
    if (invalid) return { ok: false, reason: invalid }
    const claims = payload as unknown as TokenClaims
    if (claims.jti !== undefined && isReplayChecked && isUsed(claims.jti, now))
      return { ok: false, reason: 'token id already used' }
    return { ok: true, claims }
  }

  return {
    check,
    redeem,
    async verify(token, now = Date.now() / 1000) {
      const verdict = await check(token, now)
      if (!verdict.ok) return verdict
      const spent = redeem(verdict.claims, now)
      return spent ? { ok: false, reason: spent } : verdict
    },
  }
}

function importKey(secret: string | Uint8Array): ReturnType<typeof crypto.subtle.importKey> {
  const raw = typeof secret === 'string' ? encoder.encode(secret) : new Uint8Array(secret)
  return crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify'])
}

/** A header value for the logs: short alphanumerics as they are, anything else only by its type. */
function describe(value: unknown): string {
  return typeof value === 'string' && /^[A-Za-z0-9]{1,16}$/.test(value) ? value : typeof value
}

function decodeJson(text: string): Record<string, unknown> | undefined {
  const raw = base64urlDecode(text)
  if (!raw) return undefined
  try {
    const value: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw))
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}
