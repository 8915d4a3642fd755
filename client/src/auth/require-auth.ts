/**
 * libpq's `require_auth`: which authentication methods the client accepts from the server, so that a server
 * (or a man in the middle) cannot downgrade a SCRAM login to a cleartext or md5 password and harvest it.
 * A comma-separated list of `password`, `md5`, `scram-sha-256`, `gss`, `sspi` and `none` (no
 * authentication at all); or the same names each prefixed with `!`, meaning "any method except these".
 */
import { authError, configError } from '../errors.ts'

/** The methods `require_auth` can name (libpq's spelling). edgepg itself speaks only the first four. */
export type AuthMethod = 'password' | 'md5' | 'scram-sha-256' | 'none' | 'gss' | 'sspi'

const METHODS: readonly AuthMethod[] = ['password', 'md5', 'scram-sha-256', 'none', 'gss', 'sspi']

/** A parsed `require_auth`: the methods allowed, and the setting as given (for error messages). */
export interface AuthRequirement {
  readonly allowed: ReadonlySet<AuthMethod>
  readonly text: string
}

/** Parses `require_auth` (a string as in libpq, or a list of method names). Throws kind `config`. */
export function parseRequireAuth(value: unknown): AuthRequirement {
  const items = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value : [value]
  const text = items.join(',')
  const isNegated = String(items[0]).trim().startsWith('!')
  const named = new Set<AuthMethod>()
  for (const item of items) {
    const word = typeof item === 'string' ? item.trim() : ''
    const name = (isNegated === word.startsWith('!') ? word.replace(/^!/, '') : '') as AuthMethod
    // An unknown or empty name, a repeated one, or plain and negated names mixed.
    if (!METHODS.includes(name) || named.has(name)) {
      throw configError(
        `require_auth "${text}" is invalid: expected a comma-separated list of distinct methods from ` +
          `${METHODS.join(', ')}, all plain or all prefixed with !`,
      )
    }
    named.add(name)
  }
  const allowed = isNegated ? new Set(METHODS.filter((method) => !named.has(method))) : named
  return { allowed, text }
}

/**
 * Throws kind `auth` unless `requirement` allows `method` — called when the server asks for a method,
 * before any secret is written.
 */
export function checkAuthMethod(
  requirement: AuthRequirement | undefined,
  method: AuthMethod,
  requested: string,
): void {
  if (!requirement || requirement.allowed.has(method)) return
  throw authError(
    `authentication method requirement "${requirement.text}" failed: the server ${requested}; ` +
      'nothing secret was sent',
  )
}
