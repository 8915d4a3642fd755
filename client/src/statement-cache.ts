/**
 * The statement cache: `query(sql)` with the same text prepares a named statement once per connection and
 * then only binds it. A bounded LRU (`statementCacheSize`, default 100; 0 turns it off, as a transaction-mode
 * pooler such as PgBouncer needs).
 *
 * - The first query sends Parse (named) + Bind + Describe + Execute + Sync: no extra round trip. The entry
 *   exists from that moment, so a query pipelined right behind it already binds the name.
 * - Once the first answer described the columns, later queries skip Describe and ask for binary results
 *   where edgepg has a binary decoder (as prepared statements do).
 * - A statement the server no longer has (26000, after `DEALLOCATE` or `DISCARD ALL`) or whose result type
 *   changed (0A000 `cached plan must not change result type`, after `ALTER TABLE`) is evicted and the query
 *   prepared again once — only outside a transaction, where the failed query changed nothing.
 * - A Parse that fails (a syntax error) evicts its entry; queries pipelined behind it that bound the name
 *   fail with 26000 and are retried, so each gets the real error.
 * - Evicted statements, stale ones and those a retry replaced are closed on the server, pipelined behind
 *   whatever still uses them.
 *
 * The cache sits above the connection core: one per connection, found with {@link statementCacheOf}; the
 * core knows only its size.
 */
import type { ConnectionCore } from './core.ts'
import { DatabaseError, type PgError, PgError as PgErrorClass, protocolError } from './errors.ts'
import { type Plan, unnamedPlan } from './plan.ts'
import type { FieldDescription } from './protocol/index.ts'
import type { Request } from './request.ts'
import { RowDecoder } from './result.ts'
import { send } from './send.ts'
import type { TypeRegistry } from './types/index.ts'

interface Entry {
  readonly name: string
  /**
   * A ParseComplete confirmed it. Until then another query does not bind the name (the Parse may fail, be
   * skipped after an error in its batch, or be withdrawn unsent): it runs on the unnamed statement instead.
   */
  isParsed: boolean
  /** When a query last used it (the cache's own clock): the least recently used is evicted first. */
  used: number
  /** Why its Parse failed: what a query that bound the name behind it really failed with. */
  parseError?: DatabaseError
  /** Known once an answer described the columns; until then queries ask for text and a Describe. */
  fields: FieldDescription[] | undefined
  /** The result formats and row decoder per type registry (a query's own `types` has its own). */
  readonly views: WeakMap<TypeRegistry, View>
  /** Its Close is sent (it went stale, or a retry replaced it): close it once. */
  isClosed?: boolean
}

interface View {
  readonly decoder: RowDecoder
  readonly formats: number[]
  /** How a query binds the statement once it is known: one plan for every such query (no allocation each). */
  bound?: Plan
}

/** How a query with `types` binds and reads `entry`: binary where `types` has a binary decoder. */
function viewOf(entry: Entry, types: TypeRegistry): View | undefined {
  if (entry.fields === undefined) return undefined
  let view = entry.views.get(types)
  if (view === undefined) {
    const chosen = entry.fields.map((f) => ({ ...f, format: types.binary(f.typeOid) ? 1 : 0 }))
    view = { decoder: new RowDecoder(chosen, types), formats: chosen.map((f) => f.format) }
    entry.views.set(types, view)
  }
  return view
}

/** Marks a failure the cache recovers from by preparing again; never reaches the caller. */
export class StaleStatementError extends PgErrorClass {
  readonly original: PgError

  /** @internal */
  constructor(original: PgError) {
    super('db', original.message, { cause: original })
    this.original = original
  }
}

/**
 * SQL that drops every prepared statement of the session, comments allowed between the words (matched loosely:
 * a false match only closes the cached statements, which are then prepared anew).
 */
const GAP = String.raw`(?:\s|/\*[\s\S]*?\*/|--[^\n]*(?:\n|$))+`
const DROPS_STATEMENTS = new RegExp(String.raw`\b(?:discard|deallocate(?:${GAP}prepare)?)${GAP}all\b`, 'i')

const INVALID_STATEMENT_NAME = '26000'
const FEATURE_NOT_SUPPORTED = '0A000'

let counter = 0

const caches = new WeakMap<ConnectionCore, StatementCache | null>()
/** The cache's own Close requests: a stale query may be retried behind them (they change nothing it reads). */
const closes = new WeakSet<Request>()

/** True for a Close the statement cache sent. */
export const isCacheClose = (request: Request): boolean => closes.has(request)

/** The statement cache of a connection (created on first use); undefined when `statementCacheSize` is 0. */
export function statementCacheOf(core: ConnectionCore): StatementCache | undefined {
  let cache = caches.get(core)
  if (cache === undefined) {
    cache = core.statementCacheSize > 0 ? new StatementCache(core.statementCacheSize) : null
    caches.set(core, cache)
    if (cache) core.onStatementsDropped = () => cache!.dropped(core)
  }
  return cache ?? undefined
}

export class StatementCache {
  readonly #max: number
  readonly #entries = new Map<string, Entry>()
  /** Ticks once per query: entries remember when they were last used, instead of moving in the map. */
  #clock = 0
  #heldCloses: Entry[] | undefined

  constructor(max: number) {
    this.#max = max
  }

  /** The server dropped every prepared statement (`DEALLOCATE ALL`, `DISCARD ALL`): prepare anew. */
  clear(): void {
    this.#entries.clear()
  }

  /**
   * `text` was just queued: if it may drop every prepared statement (`DISCARD ALL`, `DEALLOCATE ALL`; matched
   * loosely), forget them now and close them behind it. Queries queued after it prepare anew instead of binding
   * names that are gone when they run; and whether it dropped them or not (a false match, an error, taken back
   * unsent), nothing is left on the server: closing a statement that no longer exists is not an error.
   */
  sending(core: ConnectionCore, text: string): void {
    if (DROPS_STATEMENTS.test(text)) this.#closeAll(core)
  }

  /**
   * The server reports `DEALLOCATE ALL` or `DISCARD ALL` (from a text `sending` did not match, or one it did):
   * forget every entry and close it behind what is in flight — the names made before the drop are gone, those
   * made since are closed after the requests that bound them.
   */
  dropped(core: ConnectionCore): void {
    this.#closeAll(core)
  }

  #closeAll(core: ConnectionCore) {
    const entries = [...this.#entries.values()]
    this.#entries.clear()
    for (const entry of entries) this.#close(core, entry)
  }

  /**
   * While a batch is planned, the Closes of the statements its planning evicts wait (`releaseCloses` sends
   * them once the batch is queued): the batch may still bind them, and Closes sent at once would go first.
   */
  holdCloses(): void {
    this.#heldCloses ??= []
  }

  releaseCloses(core: ConnectionCore): void {
    const held = this.#heldCloses ?? []
    this.#heldCloses = undefined
    for (const entry of held) this.#sendClose(core, entry)
  }

  get size(): number {
    return this.#entries.size
  }

  /**
   * How to run `text` now, its rows read with `types`: bind the cached statement, or prepare it within this
   * query. `isRetry` always prepares anew, so a retry never binds a name whose Parse might fail again.
   */
  plan(core: ConnectionCore, text: string, isRetry = false, types = core.types): Plan {
    let entry = isRetry ? undefined : this.#entries.get(text)
    const isNew = entry === undefined
    if (entry) {
      entry.used = ++this.#clock
    } else {
      // A retry replaces what another retry of the same text made: that statement is closed, behind its use.
      const replaced = this.#entries.get(text)
      entry = {
        name: `edgepg_s${++counter}`,
        isParsed: false,
        used: ++this.#clock,
        fields: undefined,
        views: new WeakMap(),
      }
      this.#entries.set(text, entry)
      if (replaced) this.#close(core, replaced)
      if (this.#entries.size > this.#max) this.#evictOldest(core)
    }
    if (!isNew && !entry.isParsed) return unnamedPlan(text)
    const known = viewOf(entry, types)
    if (!isNew && known) {
      known.bound ??= this.#boundPlan(core, text, entry, known)
      return known.bound
    }
    const { name } = entry
    let isParsed = !isNew
    return {
      name,
      decoder: known?.decoder,
      encode: (w, values) => {
        if (isNew) w.parse(name, text, [])
        if (known) w.bind('', name, values, known.formats)
        else w.bind('', name, values, []).describe('P', '')
        w.execute('', 0)
      },
      observe: (message) => {
        switch (message.type) {
          case 'ParseComplete':
            isParsed = true
            entry.isParsed = true
            return
          case 'RowDescription':
            // A copy: the first result hands these fields to its caller, who may change them.
            entry.fields ??= message.fields.map((field) => ({ ...field }))
            return
          case 'NoData':
            entry.fields ??= []
            return
        }
      },
      settle: (error, status) => {
        if (!(error instanceof DatabaseError)) return error
        if (!isParsed) {
          if (isNew) entry.parseError = error
          this.#forget(text, entry)
          return isNew ? error : (entry.parseError ?? error)
        }
        return this.#settleParsed(core, text, entry, error, status)
      },
      abandon: () => {
        // A Parse whose answer will not be read (never sent, or sent and its answer discarded) must not leave a
        // name that later queries would bind, nor a statement on the server: closed behind it (harmless if
        // it never ran).
        if (isNew && !isParsed) {
          this.#forget(text, entry)
          this.#close(core, entry)
        }
      },
    }
  }

  /** A known statement bound by name: Bind, Execute, Sync, and the stale check on failure. */
  #boundPlan(core: ConnectionCore, text: string, entry: Entry, view: View): Plan {
    const { name } = entry
    return {
      name,
      decoder: view.decoder,
      encode: (w, values) => {
        w.bind('', name, values, view.formats).execute('', 0)
      },
      settle: (error, status) =>
        error instanceof DatabaseError ? this.#settleParsed(core, text, entry, error, status) : error,
    }
  }

  /** A failure of a statement the server had parsed: stale ones are forgotten, closed, and retried when idle. */
  #settleParsed(
    core: ConnectionCore,
    text: string,
    entry: Entry,
    error: DatabaseError,
    status: 'I' | 'T' | 'E',
  ): PgError {
    const isStale =
      error.code === INVALID_STATEMENT_NAME ||
      (error.code === FEATURE_NOT_SUPPORTED && /cached plan must not change result type/.test(error.message))
    if (!isStale) return error
    this.#forget(text, entry)
    // A statement whose result type changed still exists on the server (one that is gone closes harmlessly).
    this.#close(core, entry)
    if (status === 'I') return new StaleStatementError(error)
    // Bound behind a Parse that failed (inside a transaction nothing is retried): report that failure.
    return entry.parseError ?? error
  }

  #forget(text: string, entry: Entry) {
    if (this.#entries.get(text) === entry) this.#entries.delete(text)
  }

  /** Evicts the least recently used entry: a scan, but only when a new statement overflows the cache. */
  #evictOldest(core: ConnectionCore) {
    let oldest: [string, Entry] | undefined
    for (const pair of this.#entries) if (oldest === undefined || pair[1].used < oldest[1].used) oldest = pair
    if (oldest === undefined) return
    this.#entries.delete(oldest[0])
    this.#close(core, oldest[1])
  }

  /** Closes `entry`'s statement on the server, pipelined behind whatever still uses it; once. */
  #close(core: ConnectionCore, entry: Entry) {
    if (entry.isClosed) return
    entry.isClosed = true
    if (this.#heldCloses) this.#heldCloses.push(entry)
    else this.#sendClose(core, entry)
  }

  #sendClose(core: ConnectionCore, entry: Entry) {
    const request: Request = {
      handle(message) {
        switch (message.type) {
          case 'CloseComplete':
          case 'ErrorResponse':
            return false
          case 'ReadyForQuery':
            return true
          default:
            throw protocolError(`unexpected ${message.type} in response to closing a cached statement`)
        }
      },
      fail() {},
    }
    closes.add(request)
    send(core, request, undefined, (w) => w.close('S', entry.name).sync())
  }
}
