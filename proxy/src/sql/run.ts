/**
 * Runs a `/sql` body on a leased connection: one statement, or a batch in one transaction (`BEGIN …`, each
 * statement, `COMMIT`; `ROLLBACK` at the first error). Every statement carries the request's signal (deadline
 * or client gone: a CancelRequest stops it on the server) and the byte budget left of `sqlMaxResponseBytes`.
 * Runtime-neutral.
 */
import { type Client, isPgError, type QueryOptions, type QueryResult } from '@edgepg/client'
import { type BatchOptions, beginStatement, type SqlBody, type SqlQuery } from './request.ts'
import { type FormatOptions, formatResult } from './response.ts'

/** What {@link runSql} needs besides the connection and the body. */
export interface RunOptions {
  /** Aborts every statement (deadline, or the client went away). */
  signal: AbortSignal
  /** Largest answer body in bytes: the row data of every result, and the JSON written. */
  maxResponseBytes: number
  format: FormatOptions
  batch: BatchOptions
}

/** Thrown when the JSON of the answer would exceed `maxResponseBytes` (answered 507). */
export class ResponseTooLargeError extends Error {
  override readonly name = 'ResponseTooLargeError'
}

/** A bound on ROLLBACK after a failed batch statement (the request's own signal may have aborted). */
const ROLLBACK_TIMEOUT_MS = 5_000

/**
 * Runs `body` and resolves with the JSON text of the 200 answer: a result, or `{ "results": [...] }` for a
 * batch. Rejects with the first error (a DatabaseError, a PgError of kind `limit`, …) or a
 * {@link ResponseTooLargeError}; a failed batch has been rolled back when the connection allowed it.
 */
export async function runSql(client: Client, body: SqlBody, options: RunOptions): Promise<string> {
  const budget = new Budget(options.maxResponseBytes)
  if (body.kind === 'single') return budget.take(await statement(client, body.query, options, budget))
  await client.query(beginStatement(options.batch), [], { signal: options.signal })
  const parts: string[] = []
  try {
    for (const query of body.queries) parts.push(budget.take(await statement(client, query, options, budget)))
    await client.query('COMMIT', [], { signal: options.signal })
  } catch (error) {
    await rollback(client)
    throw error
  }
  return `{"results":[${parts.join(',')}]}`
}

async function statement(client: Client, query: SqlQuery, options: RunOptions, budget: Budget) {
  const queryOptions: QueryOptions = {
    rowMode: 'array',
    maxResultBytes: Math.max(1, budget.remaining),
    signal: options.signal,
  }
  const result: QueryResult<unknown[]> = await client.query<unknown[]>(
    query.query,
    query.params,
    queryOptions,
  )
  // Object rows repeat every column name: refuse an answer those alone put over the limit before it is built.
  if (!options.format.isArrayMode && result.rows.length > 0) {
    const names = result.fields.reduce((sum, field) => sum + JSON.stringify(field.name).length + 2, 0)
    if (names * result.rows.length > budget.remaining)
      throw new ResponseTooLargeError('the answer is larger than sqlMaxResponseBytes')
  }
  return JSON.stringify(formatResult(result, options.format))
}

async function rollback(client: Client): Promise<void> {
  if (client.isClosed || client.transactionStatus === 'idle') return
  try {
    await client.query('ROLLBACK', [], { timeout: ROLLBACK_TIMEOUT_MS })
  } catch {
    // The connection is then not idle (or closed), and the pool ends it instead of reusing it.
  }
}

/** The bytes left of the answer's limit; each result's JSON is taken from it. */
class Budget {
  remaining: number

  constructor(limit: number) {
    this.remaining = limit
  }

  /** Counts `json` against the limit and returns it; throws {@link ResponseTooLargeError} past it. */
  take(json: string): string {
    // Each UTF-16 unit is at least one UTF-8 byte: a string longer than the budget is over it uncounted.
    const bytes = json.length > this.remaining ? json.length : utf8Length(json)
    if (bytes > this.remaining)
      throw new ResponseTooLargeError('the answer is larger than sqlMaxResponseBytes')
    this.remaining -= bytes
    return json
  }
}

function utf8Length(text: string): number {
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x80) bytes += 1
    else if (code < 0x800) bytes += 2
    else if (code >= 0xd800 && code <= 0xdbff) {
      bytes += 4
      i++
    } else bytes += 3
  }
  return bytes
}

/** Whether the connection may go back to the pool after `error` (a cancelled statement: never). */
export function isReusableAfter(error: unknown, signal: AbortSignal): boolean {
  if (signal.aborted) return false
  if (error === undefined || error instanceof ResponseTooLargeError) return true
  return (
    !isPgError(error) || !['limit', 'aborted', 'timeout', 'io', 'closed', 'protocol'].includes(error.kind)
  )
}
