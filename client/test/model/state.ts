/**
 * The model of one client's lifecycle, the real system it describes, and the checks that compare them.
 * A lane is one client plus one pool with their own table; sequences run on a lane one after another and
 * reuse its connections while the model says they are clean.
 */
import {
  type Client,
  type Connection,
  type ConnectOptions,
  connect,
  isDatabaseError,
  isPgError,
  type PgErrorKind,
  type Pool,
  type Transaction,
  type Transport,
} from '@edgepg/client'
import type pg from 'pg'
import { describe, expectThat, type Outcome, type Tracker } from './tracker.ts'

export type TxStatus = 'idle' | 'transaction' | 'failed'

/** What the model expects of the lane's client and table. */
export interface Model {
  /** The lane client was ended or destroyed: every request rejects with kind `closed`. */
  closed: boolean
  /** The server's transaction status the client must report. */
  status: TxStatus
  /** A `Transaction` object from `client.begin()` is open (`Real.tx`). */
  hasTx: boolean
  /** Tokens committed in this sequence's rows of the lane table. */
  committed: Set<string>
  /** Tokens inserted inside the open transaction (visible to the lane client only). */
  pending: Set<string>
  /** Command variants switched off (`ModelEnv.awaitingFix`). */
  off: ReadonlySet<string>
  /** Facts about the current lane client's past (it outlives sequences); replaced on reconnect. */
  facts: ClientFacts
}

/** What happened on a lane client before, as far as a switched-off variant depends on it. */
export interface ClientFacts {
  /** A statement of this client was cancelled (57014) through its signal. */
  hadCancel: boolean
}

/** Where the model runs: the server, how to reach it, and which commands are switched off. */
export interface ModelEnv {
  /** Connection URL for the lane clients and pools (carries the application_name the orphan check uses). */
  url: string
  /** The `application_name` in `url`. */
  applicationName: string
  transport: () => Transport
  /** Superuser settings for node-postgres (the independent checker and lock holder). */
  superuser: pg.ClientConfig
  /** Short label for names and reports, e.g. `tcp`. */
  label: string
  /** Command variants not generated (known defects awaiting a fix; see model-findings.md). */
  awaitingFix: ReadonlySet<string>
}

/** Bound for a request that should answer promptly (loopback, loaded 2-core machine). */
export const PROMPT = 5000
/** Slack on top of a deadline before a promise counts as hung (the "deadline + 1 s"). */
export const SLACK = 1000

/** The real side: one lane, this sequence's id and token source, and an open explicit transaction. */
export interface Real {
  lane: Lane
  tracker: Tracker
  seq: number
  tx: Transaction | undefined
  /** Commands run so far in this sequence. */
  steps: number
  /** A fresh unique token (safe to inline in SQL: letters, digits and dashes). */
  token(): string
}

/** A client, a pool and a table that sequences reuse. */
export class Lane {
  readonly env: ModelEnv
  readonly name: string
  readonly table: string
  /** A table only the lock holder locks (prepare-behind-a-lock). */
  readonly lockTable: string
  readonly checker: pg.Client
  client: Client | undefined
  connection: Connection | undefined
  pool: Pool | undefined
  /** Commands run on the current lane client since it connected (a failure's reproduction needs them). */
  history: string[] = []
  facts: ClientFacts = { hadCancel: false }
  #createPool: () => Pool

  constructor(env: ModelEnv, name: string, checker: pg.Client, createPool: () => Pool) {
    this.env = env
    this.name = name
    this.table = `model_${name}`
    this.lockTable = `model_${name}_lock`
    this.checker = checker
    this.#createPool = createPool
  }

  /** Connects the lane client unless it is open; resolves with it. */
  async ensureClient(tracker: Tracker): Promise<Client> {
    if (this.client && !this.client.isClosed) return this.client
    const [client, connection] = await tracker.value(
      'connect lane client',
      connect(this.env.url, { transport: this.env.transport() }),
      PROMPT,
    )
    const done = connection.run()
    done.catch(() => {})
    // Notices (BEGIN inside a transaction, COMMIT outside one) are expected: keep them off the console.
    connection.on('notice', () => {})
    this.client = client
    this.connection = connection
    this.history = []
    this.facts = { hadCancel: false }
    return client
  }

  ensurePool(): Pool {
    this.pool ??= this.#createPool()
    return this.pool
  }

  /** Opens a client of its own with `options` (timeouts), driven; end it when done. */
  async extraClient(tracker: Tracker, options: Partial<ConnectOptions>): Promise<Client> {
    const [client, connection] = await tracker.value(
      'connect extra client',
      connect(this.env.url, { transport: this.env.transport(), ...options }),
      PROMPT,
    )
    connection.run().catch(() => {})
    return client
  }

  /** Drops the client and pool without waiting on them (after a failure: they may be wedged). */
  discard(tracker: Tracker): void {
    const { client, pool } = this
    this.client = undefined
    this.connection = undefined
    this.pool = undefined
    if (client) tracker.track('discard: client.end()', client.end()).catch(() => {})
    if (pool) tracker.track('discard: pool.end()', pool.end()).catch(() => {})
  }

  /** Ends client and pool; each must settle promptly. */
  async close(tracker: Tracker): Promise<void> {
    const { client, pool } = this
    this.client = undefined
    this.pool = undefined
    if (client) await tracker.settle('close lane: client.end()', client.end(), PROMPT)
    if (pool) await tracker.settle('close lane: pool.end()', pool.end(), PROMPT)
  }

  /** The tokens of sequence `seq` as a connection outside the driver sees them (committed data). */
  async committedTokens(seq: number): Promise<string[]> {
    const { rows } = await this.checker.query(`select token from ${this.table} where seq = $1`, [seq])
    return rows.map((r: { token: string }) => r.token).sort()
  }
}

/** The lane client's state must be what the model says. */
export function assertClientState(m: Model, r: Real, after: string): void {
  const client = r.lane.client
  expectThat(client, () => `${after}: no lane client`)
  expectThat(
    client.isClosed === m.closed,
    () => `${after}: client.isClosed is ${client.isClosed}, the model expects ${m.closed}`,
  )
  if (!m.closed) {
    expectThat(
      client.transactionStatus === m.status,
      () => `${after}: transactionStatus is ${client.transactionStatus}, the model expects ${m.status}`,
    )
  }
}

/** What a statement on the lane client must do in the model's state. */
export type Expected = 'ok' | 'closed' | 'in-failed-transaction'

export function expectedFor(m: Model): Expected {
  if (m.closed) return 'closed'
  if (m.status === 'failed') return 'in-failed-transaction'
  return 'ok'
}

/**
 * Checks a statement's outcome against `expected`; on 'ok' returns the value. For the other cases the
 * rejection must be the right one (kind `closed`, or SQLSTATE 25P02) and undefined is returned.
 */
export function check<T>(label: string, outcome: Outcome<T>, expected: Expected): T | undefined {
  if (expected === 'ok') {
    expectThat(outcome.ok, () => `${label}: expected a result, rejected with ${describe(errorOf(outcome))}`)
    return outcome.value
  }
  expectThat(!outcome.ok, () => `${label}: expected a rejection (${expected}), it resolved`)
  if (expected === 'closed') expectKind(label, outcome.error, ['closed'])
  else expectCode(label, outcome.error, '25P02')
  return undefined
}

/** The rejection must be a `PgError` of one of `kinds`. */
export function expectKind(label: string, error: unknown, kinds: readonly PgErrorKind[]): void {
  expectThat(
    isPgError(error) && kinds.includes(error.kind),
    () => `${label}: expected a PgError of kind ${kinds.join(' or ')}, got ${describe(error)}`,
  )
}

/** The rejection must be a `DatabaseError` with SQLSTATE `code`. */
export function expectCode(label: string, error: unknown, code: string): void {
  expectThat(
    isDatabaseError(error) && error.code === code,
    () => `${label}: expected DatabaseError ${code}, got ${describe(error)}`,
  )
}

/** A statement that failed on the server: an open transaction is now aborted. */
export function serverError(m: Model): void {
  if (m.status === 'transaction') m.status = 'failed'
}

/** Rows inserted by a statement that succeeded: committed at once, or pending in the open transaction. */
export function inserted(m: Model, tokens: readonly string[]): void {
  for (const token of tokens) (m.status === 'idle' ? m.committed : m.pending).add(token)
}

/** The transaction ended (commit of a healthy one, or anything else): pending rows land or vanish. */
export function transactionEnded(m: Model, isCommitted: boolean): void {
  if (isCommitted) for (const token of m.pending) m.committed.add(token)
  m.pending.clear()
  m.status = 'idle'
  m.hasTx = false
}

/** The lane client is gone (ended or destroyed): the server rolls back whatever was open. */
export function clientClosed(m: Model, r: Real): void {
  m.closed = true
  m.pending.clear()
  m.hasTx = false
  m.status = 'idle'
  r.tx = undefined
}

/** The rows must be exactly the expected tokens (each result its own). */
export function expectTokens(label: string, actual: readonly unknown[], expected: readonly string[]): void {
  const a = JSON.stringify(actual)
  const e = JSON.stringify(expected)
  expectThat(a === e, () => `${label}: expected ${e}, got ${a}`)
}

function errorOf<T>(outcome: Outcome<T>): unknown {
  return outcome.ok ? undefined : outcome.error
}
