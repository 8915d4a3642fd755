/**
 * What the page's parts share: the open session, the schema the editor completes from, and the editor
 * itself as the other parts see it (draft a query, run one). `main.ts` makes one {@link Context} and hands it
 * to every part; no part reaches into another's DOM.
 */
import type { Client, Connection } from '@edgepg/client'

/** A connection opened from the panel: both halves, and whom it connected as. */
export interface Session {
  client: Client
  connection: Connection
  user: string
  database: string
}

/** A value the parts watch: `set` calls every subscriber with the new value. */
export class Store<T> {
  #value: T
  readonly #listeners = new Set<(value: T) => void>()

  constructor(value: T) {
    this.#value = value
  }

  get value(): T {
    return this.#value
  }

  set(value: T): void {
    this.#value = value
    for (const listener of this.#listeners) listener(value)
  }

  /** Calls `listener` on every change (not with the current value); returns the unsubscribe. */
  subscribe(listener: (value: T) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }
}

/**
 * The database's tables for completion, as `@codemirror/lang-sql` takes a schema: schema → table → column
 * names (tables of `public` are also offered without the schema prefix by the editor).
 */
export type SchemaCompletion = Record<string, Record<string, string[]>>

/** What every part of the page gets. */
export interface Context {
  /** The open session; `undefined` while disconnected. Set after each connect and after each close. */
  session: Store<Session | undefined>
  /** Tables and columns of the connected database (empty until the schema browser has read them). */
  schema: Store<SchemaCompletion>
  /** Bumped after every run the editor started (the schema browser reloads: the run may have been DDL). */
  runs: Store<number>
  /**
   * True while a run the editor started is in flight (set before it connects, cleared before `runs` is
   * bumped): other parts keep their own queries out of its round trips, so the wire shows the user's alone.
   */
  running: Store<boolean>
  /**
   * The last run: its SQL and the command tags of its completed statements (`undefined` when it did not
   * reach the server), set just before `runs` is bumped; the schema browser reads the catalog again only
   * after a run that may have changed it.
   */
  lastRun: Store<{ sql: string; commands?: readonly string[] | undefined } | undefined>
  /** The open session, or a new one opened with the connection panel's settings. */
  connect(): Promise<Session>
  /**
   * Runs a part's own query on the session (the schema browser's catalog read, the LISTEN panel's commands):
   * after the editor's run in flight, if any, and before the editor's next run goes out, so the two never
   * share a round trip and a Cancel only ever reaches the user's statement. The caller still checks the
   * transaction state once `work` starts.
   */
  aside<T>(work: () => Promise<T>): Promise<T>
  /** Replaces the editor's text with `sql` and focuses it (nothing runs). */
  draft(sql: string): void
  /** Puts `sql` in the editor and runs it as the Run button would. */
  run(sql: string): Promise<void>
}
