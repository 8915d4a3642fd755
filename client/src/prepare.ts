/** `prepare`: a named statement (Parse + Describe), its parameter types and result columns known up front. */
import type { ConnectionCore } from './core.ts'
import { DatabaseError, encodeError, type PgError, protocolError } from './errors.ts'
import type { FieldDescription } from './protocol/index.ts'
import { RowDecoder } from './result.ts'
import { type RequestOptions, send } from './send.ts'

let counter = 0

/** A prepared statement on one connection. Pass it to `client.query()` instead of SQL text. */
export class Statement {
  /** The server-side name. */
  readonly name: string
  readonly text: string
  /** Parameter type OIDs, as the server inferred or was told. */
  readonly params: readonly number[]
  /** Result columns; `format` is the one edgepg requests (binary where it has a binary decoder). */
  readonly fields: readonly FieldDescription[]
  /** @internal */
  readonly decoder: RowDecoder
  /** @internal */
  readonly core: ConnectionCore

  /** @internal */
  constructor(
    core: ConnectionCore,
    name: string,
    text: string,
    params: number[],
    fields: FieldDescription[],
  ) {
    this.core = core
    this.name = name
    this.text = text
    this.params = params
    const chosen = fields.map((f) => ({ ...f, format: core.types.binary(f.typeOid) ? 1 : 0 }))
    this.fields = chosen
    this.decoder = new RowDecoder(chosen, core.types)
  }

  /** Result format code per column, for Bind. */
  get resultFormats(): number[] {
    return this.fields.map((f) => f.format)
  }
}

/** Parses and describes `text` as a named statement. */
export function prepare(
  core: ConnectionCore,
  text: string,
  types: readonly number[] = [],
  options?: RequestOptions,
): Promise<Statement> {
  if (typeof text !== 'string')
    return Promise.reject(encodeError(`statement text must be a string, found ${typeof text}`))
  const name = `edgepg_${++counter}`
  return new Promise((resolve, reject) => {
    let params: number[] = []
    let fields: FieldDescription[] = []
    let error: PgError | undefined
    send(
      core,
      {
        handle(message) {
          switch (message.type) {
            case 'ParseComplete':
            case 'NoData':
              return false
            case 'ParameterDescription':
              params = message.typeOids
              return false
            case 'RowDescription':
              fields = message.fields
              return false
            case 'ErrorResponse':
              error = new DatabaseError(message.fields)
              return false
            case 'ReadyForQuery':
              if (error) reject(error)
              else resolve(new Statement(core, name, text, params, fields))
              return true
            default:
              throw protocolError(`unexpected ${message.type} in response to prepare`)
          }
        },
        fail: reject,
      },
      options,
      (w) => w.parse(name, text, types).describe('S', name).sync(),
    )
  })
}

/** Closes a prepared statement on the server. */
export function closeStatement(
  core: ConnectionCore,
  statement: Statement,
  options?: RequestOptions,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let error: PgError | undefined
    send(
      core,
      {
        handle(message) {
          switch (message.type) {
            case 'CloseComplete':
              return false
            case 'ErrorResponse':
              error = new DatabaseError(message.fields)
              return false
            case 'ReadyForQuery':
              if (error) reject(error)
              else resolve()
              return true
            default:
              throw protocolError(`unexpected ${message.type} in response to closing a statement`)
          }
        },
        fail: reject,
      },
      options,
      (w) => w.close('S', statement.name).sync(),
    )
  })
}
