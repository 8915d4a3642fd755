/**
 * A `POST /sql` request, parsed and validated before anything is dialed: the Neon headers, the connection
 * string and the JSON body. Runtime-neutral. Every refusal is a lower-case message saying what was expected
 * and what was found — never the connection string or its password.
 */
import { keptNumber, parseKeepingNumbers, TooManyKeptNumbersError } from './json-numbers.ts'
import { toParamText } from './params.ts'

/** The batch isolation levels Neon's header takes, with their SQL. */
export const ISOLATION_LEVELS = {
  Serializable: 'SERIALIZABLE',
  RepeatableRead: 'REPEATABLE READ',
  ReadCommitted: 'READ COMMITTED',
  ReadUncommitted: 'READ UNCOMMITTED',
} as const

/** A `Neon-Batch-Isolation-Level` value. */
export type IsolationLevel = keyof typeof ISOLATION_LEVELS

/** How a batch's transaction begins (`Neon-Batch-*` headers); unset fields keep the server's defaults. */
export interface BatchOptions {
  isolation: IsolationLevel | undefined
  readOnly: boolean | undefined
  deferrable: boolean | undefined
}

/** What the Neon headers ask for. */
export interface SqlHeaders {
  connection: ConnectionTarget
  /** `Neon-Raw-Text-Output: true`: every value a string, as PostgreSQL wrote it. */
  isRawText: boolean
  /** `Neon-Array-Mode: true`: rows are arrays in column order. */
  isArrayMode: boolean
  batch: BatchOptions
}

/** The parts of `Neon-Connection-String` the relay needs before it dials. */
export interface ConnectionTarget {
  /** The string itself, handed to `connect()` (it holds the password: never log it). */
  connectionString: string
  /** `host:port` as the URL names it, for the target policy. */
  address: string
  user: string
  database: string
  password: string | undefined
  /** The URL's other parameters (`application_name`, `options`, `sslmode`, …), by name. */
  parameters: Record<string, string>
}

/** One statement and its parameters, each as PostgreSQL text or null. */
export interface SqlQuery {
  query: string
  params: (string | null)[]
}

/** The body: one statement, or a batch run in one transaction. */
export type SqlBody = { kind: 'single'; query: SqlQuery } | { kind: 'batch'; queries: SqlQuery[] }

/** A parse result: the value, or the message of a 400. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string }

/** The connection-string parameters passed on to `connect()`; the rest belong in the URL itself or nowhere. */
export const CONNECTION_PARAMETERS = [
  'application_name',
  'options',
  'sslmode',
  'channel_binding',
  'require_auth',
  'connect_timeout',
] as const

/** Parameters that would name another host, port or login than the URL's authority: refused. */
const AUTHORITY_PARAMETERS = ['host', 'hostaddr', 'port', 'user', 'password', 'dbname']

const fail = (message: string): { ok: false; message: string } => ({ ok: false, message })

/** Reads the Neon headers (`get` looks a header up by lower-case name). */
export function parseHeaders(get: (name: string) => string | undefined): Parsed<SqlHeaders> {
  const text = get('neon-connection-string')
  if (text === undefined || text.trim() === '')
    return fail('missing header neon-connection-string: expected a postgres:// url with user and password')
  const connection = parseConnectionString(text.trim())
  if (!connection.ok) return connection
  const flags: Record<string, boolean | undefined> = {}
  for (const name of [
    'neon-raw-text-output',
    'neon-array-mode',
    'neon-batch-read-only',
    'neon-batch-deferrable',
  ]) {
    const value = get(name)
    if (value === undefined) continue
    const flag = parseFlag(value)
    if (flag === undefined) return fail(`header ${name}: expected true or false, found ${quote(value)}`)
    flags[name] = flag
  }
  const level = get('neon-batch-isolation-level')
  let isolation: IsolationLevel | undefined
  if (level !== undefined) {
    isolation = (Object.keys(ISOLATION_LEVELS) as IsolationLevel[]).find(
      (name) => name.toLowerCase() === level.trim().toLowerCase(),
    )
    if (!isolation) {
      return fail(
        `header neon-batch-isolation-level: expected ${Object.keys(ISOLATION_LEVELS).join(', ')}, found ${quote(level)}`,
      )
    }
  }
  return {
    ok: true,
    value: {
      connection: connection.value,
      isRawText: flags['neon-raw-text-output'] ?? false,
      isArrayMode: flags['neon-array-mode'] ?? false,
      batch: {
        isolation,
        readOnly: flags['neon-batch-read-only'],
        deferrable: flags['neon-batch-deferrable'],
      },
    },
  }
}

function parseFlag(value: string): boolean | undefined {
  const lower = value.trim().toLowerCase()
  return lower === 'true' ? true : lower === 'false' ? false : undefined
}

/** A header value for an error message: quoted, cut short, control characters escaped. */
function quote(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
}

/**
 * Parses `Neon-Connection-String`: a `postgres://` or `postgresql://` URL with a host and a user; the
 * database defaults to the user, the port to 5432. Only {@link CONNECTION_PARAMETERS} may follow `?`, each
 * once.
 */
export function parseConnectionString(text: string): Parsed<ConnectionTarget> {
  const expected = 'expected postgres://user:password@host:port/database'
  if (!/^postgres(ql)?:\/\//i.test(text))
    return fail(`header neon-connection-string: ${expected}, found a value of another form`)
  let url: URL
  try {
    // WHATWG URL parses the authority of special schemes only: read it as http.
    url = new URL(text.replace(/^postgres(ql)?:/i, 'http:'))
  } catch {
    return fail(`header neon-connection-string is not a valid url: ${expected}`)
  }
  if (url.hostname === '') return fail(`header neon-connection-string has no host: ${expected}`)
  const decoded = decodeParts(url)
  if (!decoded.ok) return decoded
  const { user, password, database } = decoded.value
  if (user === '') return fail(`header neon-connection-string has no user: ${expected}`)
  if (url.hash !== '') return fail('header neon-connection-string: expected no #fragment')
  const parameters: Record<string, string> = {}
  for (const [name, value] of url.searchParams) {
    if (AUTHORITY_PARAMETERS.includes(name)) {
      return fail(
        `header neon-connection-string: the parameter ${name} is not accepted, the url's own host, port, user, password and database are used`,
      )
    }
    if (!(CONNECTION_PARAMETERS as readonly string[]).includes(name)) {
      return fail(
        `header neon-connection-string: unknown parameter ${quote(name)}, expected one of ${CONNECTION_PARAMETERS.join(', ')}`,
      )
    }
    if (Object.hasOwn(parameters, name))
      return fail(`header neon-connection-string: the parameter ${name} is given twice`)
    parameters[name] = value
  }
  return {
    ok: true,
    value: {
      connectionString: text,
      address: `${url.hostname}:${url.port || '5432'}`,
      user,
      database: database || user,
      password,
      parameters,
    },
  }
}

function decodeParts(url: URL): Parsed<{ user: string; password: string | undefined; database: string }> {
  const decode = (value: string): string | undefined => {
    try {
      return decodeURIComponent(value)
    } catch {
      return undefined
    }
  }
  const user = decode(url.username)
  const password = url.password === '' ? undefined : decode(url.password)
  const database = decode(url.pathname.replace(/^\//, ''))
  if (user === undefined || database === undefined || (url.password !== '' && password === undefined))
    return fail('header neon-connection-string has a malformed percent-encoding')
  if (database.includes('/'))
    return fail('header neon-connection-string: expected one path segment, the database')
  return { ok: true, value: { user, password, database } }
}

/**
 * Parses the JSON body: `{ "query": string, "params"?: [...] }` or `{ "queries": [{ query, params }, ...] }`.
 * Parameters become PostgreSQL text ({@link toParamText}).
 */
export function parseBody(text: string): Parsed<SqlBody> {
  if (text.trim() === '')
    return fail('expected a json body { "query": …, "params": […] }, found an empty body')
  let json: unknown
  try {
    json = parseKeepingNumbers(text)
  } catch (error) {
    if (error instanceof TooManyKeptNumbersError) return fail(`the body has ${error.message}`)
    return fail(`the body is not valid json (${(error as Error).message.toLowerCase()})`)
  }
  if (!isJsonObject(json))
    return fail(`expected a json object { "query": … } or { "queries": […] }, found ${kindOf(json)}`)
  const body = json as Record<string, unknown>
  const hasQuery = Object.hasOwn(body, 'query')
  const hasQueries = Object.hasOwn(body, 'queries')
  if (hasQuery === hasQueries) {
    return fail(
      hasQuery
        ? 'expected either "query" or "queries" in the body, found both'
        : 'expected "query" (one statement) or "queries" (a batch) in the body, found neither',
    )
  }
  if (hasQuery) {
    const query = parseQuery(body, 'the body')
    return query.ok ? { ok: true, value: { kind: 'single', query: query.value } } : query
  }
  if (!Array.isArray(body.queries)) return fail(`"queries" must be an array, found ${kindOf(body.queries)}`)
  const queries: SqlQuery[] = []
  for (const [i, item] of body.queries.entries()) {
    if (!isJsonObject(item))
      return fail(`queries[${i}] must be an object { "query": …, "params": […] }, found ${kindOf(item)}`)
    const query = parseQuery(item as Record<string, unknown>, `queries[${i}]`)
    if (!query.ok) return query
    queries.push(query.value)
  }
  return { ok: true, value: { kind: 'batch', queries } }
}

function parseQuery(item: Record<string, unknown>, where: string): Parsed<SqlQuery> {
  if (typeof item.query !== 'string')
    return fail(`${where}: "query" must be a string, found ${kindOf(item.query)}`)
  const given = item.params ?? []
  if (!Array.isArray(given)) return fail(`${where}: "params" must be an array, found ${kindOf(given)}`)
  const params: (string | null)[] = []
  for (const [i, value] of given.entries()) {
    const converted = toParamText(value)
    if (!converted.ok) return fail(`${where}: params[${i}] ${converted.message}`)
    params.push(converted.value)
  }
  return { ok: true, value: { query: item.query, params } }
}

/** A JSON object (not an array, not a number kept as digits). */
function isJsonObject(value: unknown): value is Record<string, unknown> {
  return (
    value !== null && typeof value === 'object' && !Array.isArray(value) && keptNumber(value) === undefined
  )
}

/** The JSON kind of a value, for messages (never the value: it may be long or secret). */
export function kindOf(value: unknown): string {
  if (value === null) return 'null'
  if (keptNumber(value) !== undefined) return 'a number'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') return 'an object'
  if (value === undefined) return 'nothing'
  return `a ${typeof value}`
}

/** The statement that begins a batch's transaction, e.g. `BEGIN ISOLATION LEVEL SERIALIZABLE, READ ONLY`. */
export function beginStatement(batch: BatchOptions): string {
  const modes: string[] = []
  if (batch.isolation) modes.push(`ISOLATION LEVEL ${ISOLATION_LEVELS[batch.isolation]}`)
  if (batch.readOnly !== undefined) modes.push(batch.readOnly ? 'READ ONLY' : 'READ WRITE')
  if (batch.deferrable !== undefined) modes.push(batch.deferrable ? 'DEFERRABLE' : 'NOT DEFERRABLE')
  return modes.length === 0 ? 'BEGIN' : `BEGIN ${modes.join(', ')}`
}
