/**
 * `simpleQuery`: the simple protocol (one Query message). Several statements separated by semicolons run in
 * one round trip, in an implicit transaction unless they manage their own; no parameters; text results.
 */

import { refuseCopyIn } from './copy-guard.ts'
import type { ConnectionCore } from './core.ts'
import { protocolError, usageError } from './errors.ts'
import { type QueryResult, ResultCollector } from './result.ts'
import { type RequestOptions, send } from './send.ts'

/** Runs every statement in `text`; resolves with one result per statement. */
export function simpleQuery(
  core: ConnectionCore,
  text: string,
  options?: RequestOptions,
): Promise<QueryResult[]> {
  if (typeof text !== 'string')
    return Promise.reject(usageError(`query text must be a string, found ${typeof text}`))
  return new Promise((resolve, reject) => {
    const results: QueryResult[] = []
    let collector = new ResultCollector(core.types)
    send(
      core,
      {
        handle(message) {
          if (collector.accept(message)) {
            if (message.type === 'CommandComplete' || message.type === 'EmptyQueryResponse') {
              results.push(collector.result())
              const error = collector.error
              collector = new ResultCollector(core.types)
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
              if (collector.error) reject(collector.error)
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
  })
}
