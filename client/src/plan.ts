/** How one `query` is written and what it learns from the answer: unnamed, prepared, or from the statement cache. */
import type { PgError } from './errors.ts'
import type { BackendMessage, FrontendWriter } from './protocol/index.ts'
import type { RowDecoder } from './result.ts'

/** How one query is written and what it learns from the answer. */
export interface Plan {
  /** The named statement it binds (a cached one), if any. */
  readonly name?: string
  /** Set when the result columns are known before the answer (prepared or cached statements). */
  readonly decoder: RowDecoder | undefined
  /** Writes the statement's messages up to Execute; the caller ends them with Sync (one per query or batch). */
  encode(w: FrontendWriter, values: readonly (string | Uint8Array | null)[]): void
  /** Sees every message before the result collector does. */
  observe?(message: BackendMessage): void
  /** Turns the request's error into the one to reject with (a cache marks stale statements here). */
  settle?(error: PgError, status: 'I' | 'T' | 'E'): PgError
  /** The request failed without an answer (refused before it was sent, taken back, connection died). */
  abandon?(): void
}

/** A query on the unnamed statement: Parse, Bind, Describe, Execute, text results (the columns are unknown). */
export const unnamedPlan = (text: string): Plan => ({
  decoder: undefined,
  encode: (w, values) => w.parse('', text, []).bind('', '', values, []).describe('P', '').execute('', 0),
})
