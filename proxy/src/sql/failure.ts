/**
 * What a failed `/sql` request is answered: one status and JSON body per kind of failure. PostgreSQL's own
 * errors (a login refused, a statement failed) are 400 with all their fields; the relay's limits are 413,
 * 503 and 507; a database the relay cannot reach is 502 with no detail that would help scanning ports.
 */
import { isDatabaseError, isPgError } from '@edgepg/client'
import { SqlPoolError } from './pool.ts'
import { databaseErrorBody } from './response.ts'

/** A status and the JSON body to answer it with. */
export interface Failure {
  status: 400 | 403 | 413 | 500 | 502 | 503 | 507
  body: Record<string, string>
}

/** Where the request was when it failed: opening (or waiting for) a connection, or running statements. */
export type Phase = 'connect' | 'run'

/** The answer for `error`; `maxResponseBytes` names the limit in a 507. */
export function failureOf(error: unknown, phase: Phase, maxResponseBytes: number): Failure {
  if (error instanceof SqlPoolError) return { status: 503, body: { message: error.message } }
  if (isDatabaseError(error)) return { status: 400, body: databaseErrorBody(error, maxResponseBytes) }
  if (isPgError(error)) {
    switch (error.kind) {
      case 'limit':
        return responseTooLarge(maxResponseBytes)
      case 'config':
      case 'auth':
      case 'encode':
        return { status: 400, body: { message: error.message } }
      case 'io':
      case 'timeout':
      case 'closed':
      case 'protocol':
        // While connecting, a huge "message" is another protocol's bytes (an HTTP server): not a result.
        if (phase === 'run' && isOversizedMessage(error)) return responseTooLarge(maxResponseBytes)
        return {
          status: 502,
          body: {
            message:
              phase === 'connect'
                ? 'could not connect to the database'
                : 'the connection to the database failed while the request ran',
          },
        }
      default:
        break
    }
  }
  return { status: 500, body: { message: 'internal error' } }
}

/** The 507 for a result over `sqlMaxResponseBytes`. */
export function responseTooLarge(maxResponseBytes: number): Failure {
  return {
    status: 507,
    body: {
      message: `the result is larger than the relay's limit of ${maxResponseBytes} bytes (sqlMaxResponseBytes)`,
    },
  }
}

/** The 400 of a malformed request. */
export function badRequest(message: string): Failure {
  return { status: 400, body: { message } }
}

/**
 * Whether the connection ended because the server sent one message (a row, an error) larger than the
 * connection's `maxMessageSize`, which the relay sets just above `sqlMaxResponseBytes`: refused from its
 * header, before its body is buffered. The error, or one of its causes, says so.
 */
function isOversizedMessage(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++)
    if (e.message.includes('exceeds maxMessageSize')) return true
  return false
}
