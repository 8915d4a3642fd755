/**
 * `simpleQuery`: the simple protocol (one Query message). Several statements separated by semicolons run in
 * one round trip, in an implicit transaction unless they manage their own; no parameters; text results.
 */

import { refuseCopyIn } from './copy-guard.ts'
import type { ConnectionCore } from './core.ts'
import { DatabaseError, type PgError, protocolError, usageError } from './errors.ts'
import { checkTypeOptions, isArrayRowMode } from './query-checks.ts'
import { type QueryResult, ResultCollector, type RowMode } from './result.ts'
import { type RequestOptions, send } from './send.ts'
import { statementCacheOf } from './statement-cache.ts'
import type { TypeOptions } from './types/index.ts'
import { typeRegistryOf } from './types/registry.ts'

/** Options of `simpleQuery`: the request's, and how its rows are built and decoded (as `query` takes them). */
export interface SimpleQueryOptions extends RequestOptions {
  /** `'array'`: rows as arrays in column order. Default `'object'`. */
  rowMode?: RowMode
  /** This request's decoders, in place of the connection's (see `QueryOptions.types`). */
  types?: TypeOptions
}

/** Runs every statement in `text`; resolves with one result per statement. */
export function simpleQuery(
  core: ConnectionCore,
  text: string,
  options?: SimpleQueryOptions,
): Promise<QueryResult[]> {
  if (typeof text !== 'string')
    return Promise.reject(usageError(`query text must be a string, found ${typeof text}`))
  const rowMode = options?.rowMode
  const types = options?.types
  try {
    isArrayRowMode(rowMode)
    checkTypeOptions(types)
  } catch (error) {
    return Promise.reject(error)
  }
  const registry = types === undefined ? core.types : typeRegistryOf(types)
  const collect = () => new ResultCollector(registry, undefined, { rowMode })
  return new Promise((resolve, reject) => {
    const results: QueryResult[] = []
    let collector = collect()
    send(
      core,
      {
        handle(message) {
          if (collector.accept(message)) {
            if (message.type === 'CommandComplete' || message.type === 'EmptyQueryResponse') {
              results.push(collector.result())
              const error = collector.error
              collector = collect()
              collector.error = error
            }
            return false
          }
          switch (message.type) {
            case 'CopyOutResponse':
            case 'CopyData':
            case 'CopyDone':
              return false
            case 'CopyInResponse':
              refuseCopyIn(core, false)
              return false
            case 'ReadyForQuery':
              if (collector.error) reject(withResults(collector.error, results))
              else resolve(results)
              return true
            default:
              throw protocolError(`unexpected ${message.type} in response to a simple query`)
          }
        },
        fail: reject,
      },
      options,
      (w) => w.query(text),
    )
    statementCacheOf(core)?.sending(core, text)
  })
}

/** A statement's error, carrying the results of the statements before it (non-enumerable). */
function withResults(error: PgError, results: QueryResult[]): PgError {
  if (error instanceof DatabaseError) Object.defineProperty(error, 'results', { value: results })
  return error
}
