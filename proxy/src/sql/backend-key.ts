/**
 * The key of the relay's SQL pool: a pooled backend is only reused by a request whose key is equal, and the key
 * holds everything that decides what the login was and what session it made — the target, the user, the
 * database, every other connection setting (canonicalised), and a keyed hash of the password. A request with
 * another password computes another key, so it opens (and authenticates) its own connection: a wrong password
 * never rides a pooled login.
 */
import { createHmac, createSecretKey, type KeyObject, randomBytes } from 'node:crypto'

/** What a backend key is made of. */
export interface BackendKeyParts {
  /** The address the policy admitted, as `host:port`. */
  target: string
  user: string
  database: string
  /** The password presented; `undefined` when the connection string has none (kept apart from `''`). */
  password?: string | undefined
  /**
   * Every other setting that changes the session or how it is opened: startup parameters (`options`,
   * `application_name`, …) and connection settings (`sslmode`, `channel_binding`, `require_auth`, …).
   * Names are kept as given; the order does not matter.
   */
  parameters?: Readonly<Record<string, string>> | undefined
}

/** Bytes of the per-process HMAC key made by {@link newHmacKey}; shorter keys are refused. */
export const HMAC_KEY_BYTES = 32

/** A fresh random key for {@link backendKey}; make one per process and never store or log it. */
export function newHmacKey(): Uint8Array {
  return new Uint8Array(randomBytes(HMAC_KEY_BYTES))
}

/**
 * The pool key for `parts`: a JSON array of the target, user, database, the parameters sorted by name, and
 * the HMAC-SHA-256 (under `hmacKey`) of the password in hex. The password itself is never part of it, and
 * without `hmacKey` the hash cannot be tested against guesses. Equal parts give equal keys; any difference
 * (a parameter's spelling included) gives another key. Throws on parts that are not strings.
 *
 * @example
 * ```ts
 * const hmacKey = newHmacKey()
 * const key = backendKey({ target: 'db:5432', user: 'app', database: 'app', password }, hmacKey)
 * ```
 */
export function backendKey(parts: BackendKeyParts, hmacKey: Uint8Array): string {
  if (!(hmacKey instanceof Uint8Array) || hmacKey.length < HMAC_KEY_BYTES) {
    throw new TypeError(
      `hmacKey must be at least ${HMAC_KEY_BYTES} random bytes (newHmacKey()), found ${describe(hmacKey)}`,
    )
  }
  for (const field of ['target', 'user', 'database'] as const) {
    if (typeof parts?.[field] !== 'string') {
      throw new TypeError(`backend key ${field} must be a string, found ${describe(parts?.[field])}`)
    }
  }
  const { password } = parts
  if (password !== undefined && typeof password !== 'string') {
    throw new TypeError(`backend key password must be a string or undefined, found ${describe(password)}`)
  }
  const parameters = Object.entries(parts.parameters ?? {})
  for (const [name, value] of parameters) {
    if (typeof value !== 'string') {
      throw new TypeError(`backend key parameter "${name}" must be a string, found ${describe(value)}`)
    }
  }
  parameters.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  // 'n' (no password) and 'p…' never collide, so an absent password is not the empty one.
  const secret = createHmac('sha256', keyObjectOf(hmacKey))
    .update(password === undefined ? 'n' : `p${password}`)
    .digest('hex')
  return JSON.stringify([parts.target, parts.user, parts.database, parameters, secret])
}

/** The type of a value for an error message, never the value (it may be a password). */
function describe(value: unknown): string {
  if (value === null) return 'null'
  if (value instanceof Uint8Array) return `${value.length} bytes`
  return typeof value
}

/**
 * The key as a KeyObject, made once per key: HMAC with a raw byte key imports it on every call (about 17 µs,
 * 8 % of the relay's CPU per HTTP query in a profile), with a KeyObject about 2.5 µs.
 */
const keyObjects = new WeakMap<Uint8Array, KeyObject>()
function keyObjectOf(hmacKey: Uint8Array): KeyObject {
  let key = keyObjects.get(hmacKey)
  if (key === undefined) {
    key = createSecretKey(hmacKey)
    keyObjects.set(hmacKey, key)
  }
  return key
}
