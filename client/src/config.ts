/**
 * Connection settings: `postgres://` URLs, libpq `key=value` strings and plain objects, validated before any
 * I/O. Every error names the field it rejects and never echoes a password.
 */

import type { ChannelBindingMode } from './auth/channel-binding.ts'
import { type AuthRequirement, parseRequireAuth } from './auth/require-auth.ts'
import { configError } from './errors.ts'

export type SslMode = 'disable' | 'prefer' | 'require' | 'verify-ca' | 'verify-full'

/** Where and as whom to connect. */
export interface ConnectionConfig {
  host: string
  port: number
  user: string
  password?: string | undefined
  /** Defaults to `user`. */
  database?: string | undefined
  applicationName?: string | undefined
  /** Command-line options sent to the server at startup (libpq's `options`, e.g. `-c search_path=app`). */
  options?: string | undefined
  /** Connect deadline in milliseconds (libpq's `connect_timeout` is in seconds). */
  connectTimeout?: number | undefined
  sslmode?: SslMode | undefined
  /**
   * SCRAM channel binding (libpq's `channel_binding`): `require` logs in only with SCRAM-SHA-256-PLUS bound
   * to the server's TLS certificate, and refuses before sending anything secret otherwise; `prefer`
   * (default) binds when the server offers it over TLS; `disable` never binds.
   */
  channelBinding?: ChannelBindingMode | undefined
  /**
   * The authentication methods accepted from the server (libpq's `require_auth`), e.g. `'scram-sha-256'`
   * or `'!password,!md5'`: a server that asks for another is refused before any password is sent.
   * Methods: password, md5, scram-sha-256, none (no authentication), gss, sspi. Default: any.
   */
  requireAuth?: string | readonly string[] | undefined
  /** Extra run-time parameters sent in the startup packet. */
  parameters?: Record<string, string> | undefined
}

/** A validated configuration: every field set. */
export interface ResolvedConfig {
  host: string
  port: number
  user: string
  password: string | undefined
  database: string
  applicationName: string | undefined
  options: string | undefined
  connectTimeout: number | undefined
  sslmode: SslMode
  channelBinding: ChannelBindingMode
  /** Undefined: any method is accepted. */
  requireAuth: AuthRequirement | undefined
  /** Extra startup parameters; client_encoding, DateStyle and IntervalStyle under those spellings. */
  parameters: Record<string, string>
  /**
   * The settings among client_encoding, DateStyle and IntervalStyle that `options` sets (`-c name=value`),
   * by lower-case name. Startup leaves out its own value for these, which would override them.
   */
  sessionSettings: Record<string, string>
}

const SSL_MODES: readonly SslMode[] = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full']

/** Keys accepted in URLs and key=value strings, with libpq's spelling. */
const KEYS = [
  'host',
  'hostaddr',
  'port',
  'user',
  'password',
  'dbname',
  'application_name',
  'options',
  'connect_timeout',
  'sslmode',
  'channel_binding',
  'require_auth',
] as const

/** Parses a `postgres://` URL, a `key=value` string, or validates an object. */
export function parseConfig(input: string | ConnectionConfig): ResolvedConfig {
  if (typeof input === 'string') {
    const text = input.trim()
    if (text === '')
      throw configError('connection string is empty: expected a postgres:// URL or key=value pairs')
    return resolve(/^postgres(ql)?:\/\//i.test(text) ? fromUrl(text) : fromKeyValue(text))
  }
  if (input === null || typeof input !== 'object') {
    throw configError(
      `connection config must be a string or an object, found ${input === null ? 'null' : typeof input}`,
    )
  }
  const unknown = Object.keys(input).filter((key) => !OBJECT_KEYS.includes(key))
  if (unknown.length > 0) {
    throw configError(
      `unknown connection setting${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}: ` +
        `expected ${OBJECT_KEYS.join(', ')}`,
    )
  }
  return resolve({
    host: input.host,
    port: input.port,
    user: input.user,
    password: input.password,
    dbname: input.database,
    application_name: input.applicationName,
    options: input.options,
    connect_timeout_ms: input.connectTimeout,
    sslmode: input.sslmode,
    channel_binding: input.channelBinding,
    require_auth: input.requireAuth,
    parameters: input.parameters,
  })
}

/** The keys of a {@link ConnectionConfig} object; any other (a typo, a libpq spelling) is refused. */
const OBJECT_KEYS: readonly string[] = [
  'host',
  'port',
  'user',
  'password',
  'database',
  'applicationName',
  'options',
  'connectTimeout',
  'sslmode',
  'channelBinding',
  'requireAuth',
  'parameters',
]

interface Raw {
  host?: unknown
  port?: unknown
  user?: unknown
  password?: unknown
  dbname?: unknown
  application_name?: unknown
  options?: unknown
  connect_timeout?: unknown
  connect_timeout_ms?: unknown
  sslmode?: unknown
  channel_binding?: unknown
  require_auth?: unknown
  parameters?: unknown
}

function fromUrl(text: string): Raw {
  let url: URL
  try {
    // WHATWG URL only parses authority for special schemes; swap in http: to reuse its parser.
    url = new URL(text.replace(/^postgres(ql)?:/i, 'http:'))
  } catch {
    throw configError('connection URL is malformed: expected postgres://user:password@host:port/database')
  }
  const raw: Raw = {}
  if (url.hostname) raw.host = decode(url.hostname.replace(/^\[(.*)\]$/, '$1'), 'host')
  if (url.port) raw.port = url.port
  if (url.username) raw.user = decode(url.username, 'user')
  if (url.password) raw.password = decode(url.password, 'password')
  const path = url.pathname.replace(/^\//, '')
  if (path) raw.dbname = decode(path, 'database')
  for (const [key, value] of url.searchParams) assign(raw, key, value)
  return raw
}

function decode(value: string, field: string): string {
  try {
    return decodeURIComponent(value)
  } catch {
    throw configError(`connection URL has a malformed percent-encoding in the ${field}`)
  }
}

/** libpq's `key=value` form: values may be single-quoted with `\'` and `\\` escapes. */
function fromKeyValue(text: string): Raw {
  const raw: Raw = {}
  let i = 0
  while (i < text.length) {
    while (text[i] === ' ' || text[i] === '\t' || text[i] === '\n') i++
    if (i >= text.length) break
    const eq = text.indexOf('=', i)
    if (eq < 0)
      throw configError(`connection string is malformed near "${text.slice(i, i + 20)}": expected key=value`)
    const key = text.slice(i, eq).trim()
    i = eq + 1
    while (text[i] === ' ') i++
    let value = ''
    if (text[i] === "'") {
      i++
      let isClosed = false
      while (i < text.length) {
        const c = text[i]!
        if (c === '\\' && i + 1 < text.length) {
          value += text[i + 1]
          i += 2
        } else if (c === "'") {
          i++
          isClosed = true
          break
        } else {
          value += c
          i++
        }
      }
      if (!isClosed) throw configError(`connection string has an unterminated quoted value for "${key}"`)
    } else {
      while (i < text.length && text[i] !== ' ' && text[i] !== '\t' && text[i] !== '\n') {
        if (text[i] === '\\' && i + 1 < text.length) i++
        value += text[i]
        i++
      }
    }
    assign(raw, key, value)
  }
  return raw
}

function assign(raw: Raw, key: string, value: string) {
  if (!(KEYS as readonly string[]).includes(key)) {
    throw configError(`unknown connection parameter "${key}": expected one of ${KEYS.join(', ')}`)
  }
  const field = key === 'hostaddr' ? 'host' : (key as keyof Raw)
  raw[field] = value
}

function resolve(raw: Raw): ResolvedConfig {
  const host = text(raw.host, 'host') ?? 'localhost'
  if (host.startsWith('/'))
    throw configError(`host "${host}" is a unix socket path: edgepg connects over TCP or a relay`)
  const user = text(raw.user, 'user')
  if (!user)
    throw configError('user is missing: expected a user name in the URL (postgres://user@host/db) or config')
  const sslmode = text(raw.sslmode, 'sslmode') ?? 'disable'
  if (!(SSL_MODES as readonly string[]).includes(sslmode)) {
    throw configError(`sslmode "${sslmode}" is invalid: expected one of ${SSL_MODES.join(', ')}`)
  }
  const channelBinding = resolveChannelBinding(raw.channel_binding, sslmode as SslMode)
  const requireAuth = raw.require_auth === undefined ? undefined : parseRequireAuth(raw.require_auth)
  let connectTimeout: number | undefined
  if (raw.connect_timeout_ms !== undefined)
    connectTimeout = number(raw.connect_timeout_ms, 'connectTimeout', 0)
  else if (raw.connect_timeout !== undefined)
    connectTimeout = number(raw.connect_timeout, 'connect_timeout', 0) * 1000
  const parameters: Record<string, string> = {}
  if (raw.parameters !== undefined) {
    if (raw.parameters === null || typeof raw.parameters !== 'object')
      throw configError('parameters must be an object')
    for (const [key, value] of Object.entries(raw.parameters)) {
      const pinned = PINNED[key.toLowerCase()]
      if (pinned) checkPinned(pinned, String(value), 'parameters')
      parameters[pinned?.name ?? key] = String(value)
    }
  }
  const options = text(raw.options, 'options')
  const sessionSettings: Record<string, string> = {}
  for (const [name, value] of optionSettings(options ?? '')) {
    const pinned = PINNED[name]
    if (!pinned) continue
    checkPinned(pinned, value, 'options')
    sessionSettings[name] = value
  }
  return {
    host,
    port: raw.port === undefined || raw.port === '' ? 5432 : integer(raw.port, 'port', 1, 65535),
    user,
    password: text(raw.password, 'password', true),
    database: text(raw.dbname, 'database') || user,
    applicationName: text(raw.application_name, 'application_name'),
    options,
    connectTimeout: connectTimeout === 0 ? undefined : connectTimeout,
    sslmode: sslmode as SslMode,
    channelBinding,
    requireAuth,
    parameters,
    sessionSettings,
  }
}

/** Validates `channel_binding` (default `prefer`); `require` needs TLS, so `sslmode=disable` is refused. */
export function resolveChannelBinding(value: unknown, sslmode: SslMode): ChannelBindingMode {
  const mode = text(value, 'channel_binding') ?? 'prefer'
  if (!['disable', 'prefer', 'require'].includes(mode)) {
    throw configError(`channel_binding "${mode}" is invalid: expected disable, prefer or require`)
  }
  if (mode === 'require' && sslmode === 'disable') {
    throw configError('channel_binding=require needs TLS to PostgreSQL: set sslmode=require or stricter')
  }
  return mode as ChannelBindingMode
}

// ---- settings the decoders depend on ----------------------------------------------------------------------

/** A session setting the decoders depend on: its spelling in the startup packet, and the values accepted. */
interface Pinned {
  name: 'client_encoding' | 'DateStyle' | 'IntervalStyle' | 'extra_float_digits'
  accepts: RegExp
  expected: string
}

/** By lower-case name (GUC names are case-insensitive). */
const PINNED: Record<string, Pinned> = {
  // PostgreSQL ignores case and anything but letters and digits in encoding names.
  client_encoding: {
    name: 'client_encoding',
    accepts: /^[^a-z\d]*(u[^a-z\d]*t[^a-z\d]*f[^a-z\d]*8|unicode)[^a-z\d]*$/i,
    expected: 'UTF8 (edgepg decodes text as UTF-8 only)',
  },
  // The output style must be ISO (or DEFAULT, which is ISO); the field order is free.
  datestyle: {
    name: 'DateStyle',
    accepts:
      /^(?=.*\b(iso|default)\b)\s*(iso|default|ymd|dmy|mdy|euro(pean)?|us|non-?euro(pean)?)(\s*,\s*(iso|default|ymd|dmy|mdy|euro(pean)?|us|non-?euro(pean)?))*\s*$/i,
    expected: "the ISO output style with any field order, e.g. 'ISO, DMY' (edgepg decodes ISO dates only)",
  },
  intervalstyle: {
    name: 'IntervalStyle',
    accepts: /^(postgres|postgres_verbose|sql_standard|iso_8601)$/i,
    expected: 'postgres, postgres_verbose, sql_standard or iso_8601',
  },
  // 0 or less rounds floats in text results, which would then differ from the same values in binary.
  extra_float_digits: {
    name: 'extra_float_digits',
    accepts: /^\s*\+?[1-3]\s*$/,
    expected:
      '1, 2 or 3 (a lower value rounds floats in text results, so they would differ from binary ones)',
  },
}

function checkPinned(pinned: Pinned, value: string, where: 'options' | 'parameters') {
  if (!pinned.accepts.test(value))
    throw configError(`${pinned.name} "${value}" (in ${where}) is not supported: expected ${pinned.expected}`)
}

/**
 * The `-c name=value`, `-cname=value` and `--name=value` settings in libpq's `options`, in order, with
 * lower-case names and `-` read as `_` (as the server reads them). Words are separated by spaces; a
 * backslash makes the next character literal.
 */
function optionSettings(options: string): [name: string, value: string][] {
  const words = (options.match(/(\\.|[^\s\\])+/g) ?? []).map((word) => word.replace(/\\(.)/g, '$1'))
  const settings: [string, string][] = []
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!
    const setting = word === '-c' ? words[++i] : /^-[-c]/.test(word) ? word.slice(2) : undefined
    const eq = setting?.indexOf('=') ?? -1
    if (eq > 0)
      settings.push([setting!.slice(0, eq).toLowerCase().replaceAll('-', '_'), setting!.slice(eq + 1)])
  }
  return settings
}

function text(value: unknown, field: string, isSecret = false): string | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string') {
    throw configError(`${field} must be a string, found ${isSecret ? 'another type' : typeof value}`)
  }
  if (value.includes('\0')) throw configError(`${field} contains a NUL character`)
  return value
}

function number(value: unknown, field: string, min: number): number {
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && value.trim() !== ''
        ? Number(value)
        : Number.NaN
  if (!Number.isFinite(n) || n < min)
    throw configError(`${field} must be a number ≥ ${min}, found ${JSON.stringify(value)}`)
  return n
}

function integer(value: unknown, field: string, min: number, max: number): number {
  const n = number(value, field, min)
  if (!Number.isInteger(n) || n > max) {
    throw configError(`${field} must be an integer from ${min} to ${max}, found ${JSON.stringify(value)}`)
  }
  return n
}
