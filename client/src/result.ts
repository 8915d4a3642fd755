/**
 * Results and rows. Rows are objects with no `Object.prototype` in their chain, so column names such as
 * `__proto__`, `constructor` or `toString` are plain own properties and can never reach a prototype.
 */
import { DatabaseError, encodeError, isPgError, limitError, type PgError, protocolError } from './errors.ts'
import type { BackendMessage, DataRow, FieldDescription } from './protocol/index.ts'
import { readInt32 } from './protocol/read.ts'
import { copyBytes, type RangeDecoder } from './types/bytes.ts'
import type { TypeRegistry } from './types/index.ts'

export type { FieldDescription }

/** A row: column name → decoded value (`null` for SQL NULL). */
export type Row = Record<string, unknown>

export interface QueryResult<R = Row> {
  rows: R[]
  /** One entry per column, as the server described it. */
  fields: FieldDescription[]
  /** The command tag's verb: `SELECT`, `INSERT`, `CREATE TABLE`, … */
  command: string
  /** Rows affected or returned, when the command reports a count; otherwise null. */
  rowCount: number | null
}

/** Splits a CommandComplete tag (`INSERT 0 5`, `SELECT 3`, `CREATE TABLE`) into verb and count. */
export function parseCommandTag(tag: string): { command: string; rowCount: number | null } {
  const space = tag.lastIndexOf(' ')
  const last = space < 0 ? '' : tag.slice(space + 1)
  if (last !== '' && /^\d+$/.test(last)) {
    const verb = tag.slice(0, space)
    // INSERT's tag is `INSERT oid rows`.
    const command = verb.startsWith('INSERT ') ? 'INSERT' : verb
    return { command, rowCount: Number(last) }
  }
  return { command: tag, rowCount: null }
}

/**
 * The prototype of every row: an empty frozen object with no prototype of its own, so nothing from
 * `Object.prototype` is in a row's chain. Rows made with `Object.create(null)` would have the same safety, but
 * V8 keeps such objects in dictionary mode (several times larger and slower to build and read); rows made
 * from one constructor, with columns added in the same order, share a hidden class.
 */
const ROW_PROTOTYPE: object = Object.freeze(
  Object.create(null, {
    // Node, Deno and Bun print an object through this symbol's method when it has one: a row prints as the
    // plain object of its columns (`{ n: 42 }`), not as `Row <[Object: null prototype] {}> { n: 42 }`. A symbol
    // cannot collide with a column name, and it is not enumerable, so keys, spreads and JSON are unchanged.
    [Symbol.for('nodejs.util.inspect.custom')]: {
      value(this: Row) {
        return { ...this }
      },
    },
  }),
)

/**
 * A constructor of rows for one result. Rows made with `new` keep more of their columns inside the object than
 * rows made with `Object.create`, which hold four and put the rest in a second, separately allocated array:
 * V8 gives a constructor's objects room for about ten properties and then trims it to what its first objects
 * used (slack tracking). One constructor per result, so each result's rows are sized for its columns.
 */
function rowConstructor(): new () => Row {
  // biome-ignore lint/complexity/useArrowFunction: an arrow function cannot be called with `new`
  const Row = function () {} as unknown as new () => Row
  Row.prototype = ROW_PROTOTYPE
  return Row
}

/** Turns DataRows into row objects with decoders chosen once per column. */
export class RowDecoder {
  readonly fields: FieldDescription[]
  readonly #names: string[]
  readonly #decoders: RangeDecoder[]
  readonly #Row = rowConstructor()

  constructor(fields: FieldDescription[], types: TypeRegistry) {
    this.fields = fields
    this.#names = fields.map((f) => f.name)
    this.#decoders = fields.map((f) =>
      f.format === 1 ? (types.binaryRange(f.typeOid) ?? rawBytes) : types.textRange(f.typeOid),
    )
  }

  /** Reads the columns where they lie in the message's bytes: the decoders get ranges, not views. */
  decode(message: DataRow): Row {
    const { bytes, columnCount } = message
    const names = this.#names
    const decoders = this.#decoders
    if (columnCount !== names.length) {
      throw protocolError(`DataRow has ${columnCount} columns, expected ${names.length} from RowDescription`)
    }
    const row = new this.#Row()
    // The parser checked the lengths: each column is an int32 length (-1 for NULL) and that many bytes.
    let at = message.start
    for (let i = 0; i < columnCount; i++) {
      const length = readInt32(bytes, at)
      at += 4
      if (length < 0) {
        row[names[i]!] = null
      } else {
        row[names[i]!] = decoders[i]!(bytes, at, at + length)
        at += length
      }
    }
    return row
  }

  /** The row as an array in column order: duplicate column names keep every value. */
  decodeArray(message: DataRow): unknown[] {
    const { bytes, columnCount } = message
    const decoders = this.#decoders
    if (columnCount !== decoders.length) {
      throw protocolError(
        `DataRow has ${columnCount} columns, expected ${decoders.length} from RowDescription`,
      )
    }
    const row = new Array<unknown>(columnCount)
    let at = message.start
    for (let i = 0; i < columnCount; i++) {
      const length = readInt32(bytes, at)
      at += 4
      if (length < 0) {
        row[i] = null
      } else {
        row[i] = decoders[i]!(bytes, at, at + length)
        at += length
      }
    }
    return row
  }
}

const rawBytes: RangeDecoder = copyBytes

/** Bytes of a DataRow message before its columns: type, length and column count. */
const DATA_ROW_OVERHEAD = 7

/** How a query returns its rows: objects keyed by column name (default) or arrays in column order. */
export type RowMode = 'object' | 'array'

/** What a query asked of its result: its row mode and size limit. */
export interface CollectorLimits {
  rowMode?: RowMode | undefined
  maxResultBytes?: number | undefined
  /** Called once when the rows pass `maxResultBytes` (the query then cancels its statement). */
  onOverflow?: ((error: PgError) => void) | undefined
}

/**
 * Collects the rows of one statement's response and settles at ReadyForQuery. Used by `query`, prepared
 * statements and each statement of a simple query.
 */
export class ResultCollector {
  /** Row objects, or arrays in array mode (typed as rows: the caller chose `R`). */
  rows: Row[] = []
  decoder: RowDecoder | undefined
  command = ''
  rowCount: number | null = null
  error: PgError | undefined
  readonly #types: TypeRegistry
  readonly #isArrayMode: boolean
  /** Bytes of row data still allowed (`maxResultBytes`), or Infinity. */
  #budget: number
  readonly #maxResultBytes: number | undefined
  readonly #onOverflow: ((error: PgError) => void) | undefined

  constructor(types: TypeRegistry, decoder?: RowDecoder, limits: CollectorLimits = {}) {
    this.#types = types
    this.decoder = decoder
    this.#isArrayMode = limits.rowMode === 'array'
    this.#maxResultBytes = limits.maxResultBytes
    this.#budget = limits.maxResultBytes ?? Number.POSITIVE_INFINITY
    this.#onOverflow = limits.onOverflow
  }

  /** Whether the result went past `maxResultBytes` (its rows were dropped). */
  get isOverflowed(): boolean {
    return this.#budget < 0
  }

  /** Handles a message shared by every row-returning flow; returns false for messages it does not know. */
  accept(message: BackendMessage): boolean {
    switch (message.type) {
      // DataRow first: it is nearly every message, and the cases are tested in order.
      case 'DataRow':
        if (!this.decoder) throw protocolError('DataRow before RowDescription')
        if (this.error) return true
        // The whole message as it came over the wire (type, length, column count: 7 bytes), so that rows
        // of no or tiny columns are not nearly free: their decoded form costs more than their bytes.
        this.#budget -= message.end - message.start + DATA_ROW_OVERHEAD
        if (this.#budget < 0) {
          this.rows = []
          this.error = limitError(
            `the result is larger than maxResultBytes (${this.#maxResultBytes} bytes); its statement was cancelled`,
          )
          this.#onOverflow?.(this.error)
          return true
        }
        try {
          this.rows.push(
            this.#isArrayMode
              ? (this.decoder.decodeArray(message) as unknown as Row)
              : this.decoder.decode(message),
          )
        } catch (error) {
          if (isPgError(error, 'protocol')) throw error
          this.error = isPgError(error)
            ? error
            : encodeError(`could not decode a column: ${String(error)}`, error)
        }
        return true
      case 'RowDescription':
        this.decoder = new RowDecoder(message.fields, this.#types)
        return true
      case 'NoData':
      case 'EmptyQueryResponse':
        return true
      case 'CommandComplete': {
        const { command, rowCount } = parseCommandTag(message.tag)
        this.command = command
        this.rowCount = rowCount
        return true
      }
      case 'ErrorResponse':
        // After an overflow the server's answer is the cancel's 57014: the overflow is the error to report.
        if (!this.isOverflowed) this.error = new DatabaseError(message.fields)
        return true
      default:
        return false
    }
  }

  result(): QueryResult {
    return {
      rows: this.rows,
      fields: this.decoder?.fields ?? [],
      command: this.command,
      rowCount: this.rowCount,
    }
  }
}
