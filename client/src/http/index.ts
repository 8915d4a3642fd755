/**
 * `@edgepg/client/http`: queries over HTTP, one `fetch` per query (or per batch), in the request format of
 * Neon's HTTP query API — so it works against the edgepg relay's `POST /sql` and against Neon itself. For a
 * serverless function that cannot keep a connection: a warm `fetch` connection makes a query one round trip.
 *
 * Results are the same as `client.query` over TCP: the same row objects, fields, command and row count, values
 * decoded by the same decoders (from text), the same `DatabaseError` with its SQLSTATE. Parameters are
 * encoded as the wire path encodes them. No runtime dependency: `fetch`, `TextEncoder`/`TextDecoder` and
 * `AbortController` only, so it runs in browsers, Workers, Deno, Bun and Node.
 */
import { configError, encodeError, isPgError, protocolError, rowCountError, usageError } from '../errors.ts'
import { checkTypeOptions, isArrayRowMode } from '../query-checks.ts'
import type { QueryResult, Row, RowMode } from '../result.ts'
import type { RequestOptions } from '../send.ts'
import type { TransactionOptions } from '../transaction.ts'
import { hex } from '../types/bytes.ts'
import { encodeParam } from '../types/encode.ts'
import type { TypeOptions, TypeRegistry } from '../types/registry.ts'
import { textTypeRegistry } from '../types/text-registry.ts'
import { type Endpoint, type Fetch, post, type Token } from './post.ts'
import { readResult } from './response.ts'

export type { Fetch, Token }

/** Options of {@link http}. */
export interface HttpOptions {
  /**
   * The relay's (or Neon's) SQL endpoint, e.g. `https://relay.example.com/sql`. Default, as Neon's driver
   * derives it: `https://api.<host without its first label>/sql` (`apiauth.` when a `token` is given).
   */
  url?: string
  /** Sent as `Authorization: Bearer <token>`; a function is called for every request and may be async. */
  token?: Token
  /** The `fetch` to call (default: the global one, looked up at each request). */
  fetch?: Fetch
  /** Custom parsers and date handling, as `connect` takes them. */
  types?: TypeOptions
}

/** Options of one query. */
export interface HttpQueryOptions extends RequestOptions {
  /** `'object'` (default): rows keyed by column name. `'array'`: rows as arrays in column order. */
  rowMode?: RowMode
  /**
   * How this request's values are decoded, in place of the client's `types` (same shape). Decoders are built
   * once per options object: pass the same object each time.
   */
  types?: TypeOptions
}

/** Options of {@link HttpClient.transaction}: the transaction's characteristics and the request's. */
export interface HttpTransactionOptions extends TransactionOptions, HttpQueryOptions {}

/** One statement of a batch: its text and, optionally, its parameters. */
export type BatchQuery = readonly [text: string, params?: readonly unknown[]]

/**
 * A client that sends each query as one HTTP request. Nothing is opened: each call is independent, and
 * concurrent calls are concurrent requests (the relay pools the PostgreSQL connections).
 *
 * @example
 * ```ts
 * import { http } from '@edgepg/client/http'
 * const db = http(process.env.DATABASE_URL, { url: 'https://relay.example.com/sql', token })
 * const { rows } = await db.query('select $1::int as n', [42])
 * const people = await db.sql`select * from people where name = ${name}`
 * ```
 */
export function http(connectionString: string, options: HttpOptions = {}): HttpClient {
  return new HttpClient(connectionString, options)
}

const ISOLATION_HEADER: Record<string, string> = {
  serializable: 'Serializable',
  'repeatable read': 'RepeatableRead',
  'read committed': 'ReadCommitted',
  'read uncommitted': 'ReadUncommitted',
}

/** Made by {@link http}. Its methods mirror the wire `Client`'s. */
export class HttpClient {
  readonly #endpoint: Endpoint
  readonly #types: TypeRegistry

  /** @internal use {@link http} */
  constructor(connectionString: string, options: HttpOptions) {
    const { token, fetch } = options
    if (token !== undefined && typeof token !== 'string' && typeof token !== 'function')
      throw configError(`token must be a string or a function, found ${typeof token}`)
    if (fetch !== undefined && typeof fetch !== 'function')
      throw configError(`fetch must be a function, found ${typeof fetch}`)
    const url = options.url ?? defaultUrl(connectionString, token !== undefined)
    checkConnectionString(connectionString)
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      throw configError(`url must be an absolute http or https URL, found ${JSON.stringify(String(url))}`)
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
      throw configError(`url must be an http or https URL, found ${parsed.protocol}`)
    this.#endpoint = { url, where: parsed.origin + parsed.pathname, connectionString, token, fetch }
    this.#types = textTypeRegistry(options.types)
  }

  /** The query's own `types`, or the client's. */
  #typesOf(options: HttpQueryOptions): TypeRegistry {
    return options.types === undefined ? this.#types : registryOf(options.types)
  }

  /** Runs one statement with parameters `$1…$n`; resolves with rows, fields, command and row count. */
  async query<R = Row>(
    text: string,
    params: readonly unknown[] = [],
    options: HttpQueryOptions = {},
  ): Promise<QueryResult<R>> {
    const isArrayMode = arrayMode(options)
    const types = this.#typesOf(options)
    const json = await post(this.#endpoint, statement(text, params), {}, options)
    return readResult(json, types, isArrayMode) as QueryResult<R>
  }

  /** Like `query`, but resolves with the only row; rejects (kind `row-count`) unless exactly one row came back. */
  async queryOne<R = Row>(text: string, params?: readonly unknown[], options?: HttpQueryOptions): Promise<R> {
    const { rows } = await this.query<R>(text, params, options)
    if (rows.length !== 1) throw rowCountError(`query returned ${rows.length} rows, expected exactly one`)
    return rows[0]!
  }

  /** Like `query`, but resolves with the row or null; rejects (kind `row-count`) on more than one row. */
  async queryOpt<R = Row>(
    text: string,
    params?: readonly unknown[],
    options?: HttpQueryOptions,
  ): Promise<R | null> {
    const { rows } = await this.query<R>(text, params, options)
    if (rows.length > 1) throw rowCountError(`query returned ${rows.length} rows, expected at most one`)
    return rows[0] ?? null
  }

  /** Runs one statement; resolves with the number of rows it affected (0 when the command reports none). */
  async execute(text: string, params?: readonly unknown[], options?: HttpQueryOptions): Promise<number> {
    return (await this.query(text, params, options)).rowCount ?? 0
  }

  /**
   * A tagged template: every `${value}` becomes a parameter, never text in the SQL.
   * Resolves with the rows. Calling it as a plain function is refused.
   */
  async sql<R = Row>(strings: TemplateStringsArray, ...values: unknown[]): Promise<R[]> {
    if (!Array.isArray(strings) || !Array.isArray((strings as TemplateStringsArray).raw))
      throw usageError(
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the message shows the tagged-template syntax
        'sql must be used as a tagged template (db.sql`select ${x}`); use db.query(text, params)',
      )
    let text = strings[0]!
    for (let i = 1; i < strings.length; i++) text += `$${i}${strings[i]}`
    return (await this.query<R>(text, values)).rows
  }

  /**
   * Runs the statements in one transaction, in one request: committed when all succeed, rolled back at the
   * first error (which rejects the call). Resolves with one result per statement.
   *
   * @example
   * ```ts
   * const [inserted, listed] = await db.transaction(
   *   [['insert into t values ($1)', [1]], ['select * from t']],
   *   { isolation: 'serializable', readOnly: false },
   * )
   * ```
   */
  async transaction<R = Row>(
    queries: readonly BatchQuery[],
    options: HttpTransactionOptions = {},
  ): Promise<QueryResult<R>[]> {
    if (!Array.isArray(queries))
      throw usageError(`transaction expects an array of [text, params] queries, found ${typeof queries}`)
    const isArrayMode = arrayMode(options)
    const types = this.#typesOf(options)
    const body = {
      queries: queries.map((query, i) => {
        if (!Array.isArray(query))
          throw usageError(`transaction query ${i + 1} must be a [text, params] array, found ${typeof query}`)
        return statement(query[0], query[1] ?? [])
      }),
    }
    const headers = batchHeaders(options)
    if (queries.length === 0) return []
    const json = await post(this.#endpoint, body, headers, options)
    const results = (json as { results?: unknown } | null)?.results
    if (!Array.isArray(results) || results.length !== queries.length)
      throw protocolError(
        `expected ${queries.length} results in the relay's answer to a batch, found ${Array.isArray(results) ? results.length : typeof results}`,
      )
    return results.map((result) => readResult(result, types, isArrayMode) as QueryResult<R>)
  }
}

const registries = new WeakMap<TypeOptions, TypeRegistry>()

function registryOf(types: TypeOptions): TypeRegistry {
  checkTypeOptions(types)
  let registry = registries.get(types)
  if (registry === undefined) {
    registry = textTypeRegistry(types)
    registries.set(types, registry)
  }
  return registry
}

function arrayMode(options: HttpQueryOptions): boolean {
  return isArrayRowMode(options?.rowMode)
}

/** One statement as Neon's format sends it: parameters as text (`null` for NULL), bytes as `\x` hex. */
function statement(text: unknown, params: readonly unknown[]): { query: string; params: (string | null)[] } {
  if (typeof text !== 'string') throw usageError(`query text must be a string, found ${typeof text}`)
  if (!Array.isArray(params)) throw usageError(`query parameters must be an array, found ${typeof params}`)
  // As the wire path refuses it (the protocol's strings end at a NUL), before anything is sent.
  const nul = text.indexOf('\0')
  if (nul >= 0) throw encodeError(`query text contains a NUL character at index ${nul}`)
  return {
    query: text,
    params: params.map((param, i) => {
      try {
        const value = encodeParam(param)
        return value instanceof Uint8Array ? `\\x${hex(value)}` : value
      } catch (error) {
        const reason = isPgError(error) ? error.message : String(error)
        throw encodeError(`parameter $${i + 1} could not be encoded: ${reason}`, error)
      }
    }),
  }
}

/** `Neon-Batch-*` headers from the transaction options, each from a fixed list. */
function batchHeaders({ isolation, readOnly, deferrable }: TransactionOptions): Record<string, string> {
  const headers: Record<string, string> = {}
  if (isolation !== undefined) {
    if (!Object.hasOwn(ISOLATION_HEADER, isolation))
      throw usageError(`unknown isolation level "${isolation}"`)
    headers['Neon-Batch-Isolation-Level'] = ISOLATION_HEADER[isolation]!
  }
  if (readOnly !== undefined) headers['Neon-Batch-Read-Only'] = flag('readOnly', readOnly)
  if (deferrable !== undefined) headers['Neon-Batch-Deferrable'] = flag('deferrable', deferrable)
  return headers
}

function flag(name: string, value: unknown): string {
  if (typeof value !== 'boolean') throw usageError(`${name} must be a boolean, found ${typeof value}`)
  return String(value)
}

/** A connection string goes into a header as it is: a postgres URL, in printable ASCII (never shown). */
function checkConnectionString(connectionString: unknown): void {
  if (typeof connectionString !== 'string')
    throw configError(`expected a connection string (postgres://…), found ${typeof connectionString}`)
  if (!/^postgres(ql)?:\/\//.test(connectionString))
    throw configError('expected a connection string starting with postgres:// or postgresql://')
  if (!/^[\x20-\x7e]*$/.test(connectionString))
    throw configError(
      'expected the connection string in printable ASCII; percent-encode other characters (in the password too)',
    )
}

/** Neon's driver's default endpoint: `https://api.<host without its first label>/sql`. */
function defaultUrl(connectionString: string, hasToken: boolean): string {
  checkConnectionString(connectionString)
  let host: string
  try {
    host = new URL(connectionString).hostname
  } catch {
    throw configError('expected the connection string to be a valid URL; it is not')
  }
  if (host === '') throw configError('the connection string names no host; pass the endpoint as options.url')
  return `https://${host.replace(/^[^.]+\./, hasToken ? 'apiauth.' : 'api.')}/sql`
}
