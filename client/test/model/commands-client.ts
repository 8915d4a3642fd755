/**
 * Model commands on the lane client: queries (pipelined, simple, prepared), failing queries, inserts,
 * abort through a signal, per-request timeouts, `queryTimeout` on every kind of request, `end()` and
 * reconnecting.
 */
import { isDatabaseError } from '@edgepg/client'
import fc from 'fast-check'
import {
  check,
  clientClosed,
  expectCode,
  expectedFor,
  expectKind,
  expectTokens,
  inserted,
  type Model,
  PROMPT,
  type Real,
  SLACK,
  serverError,
} from './state.ts'
import { clientOf, Step } from './step.ts'
import { describe, expectThat, type Outcome } from './tracker.ts'

type Via = 'client' | 'tx'

/** The requester: the lane client, or the open explicit transaction (same connection). */
function requester(r: Real, via: Via) {
  return via === 'tx' && r.tx ? r.tx : clientOf(r)
}

/** `count` pipelined queries, each selecting its own token; each result must be its own. */
export class QueryCmd extends Step {
  readonly variant = 'query'
  readonly count: number
  readonly via: Via
  readonly withOptions: boolean
  constructor(count: number, via: Via, withOptions: boolean) {
    super()
    this.count = count
    this.via = via
    this.withOptions = withOptions
  }
  // M3 in model-findings.md: pipelined requests of a new text in a failed transaction.
  override variantIn(m: Readonly<Model>) {
    return m.status === 'failed' && this.count > 1 ? 'pipelined-in-failed-transaction' : this.variant
  }
  override allowed(m: Readonly<Model>) {
    return this.via === 'client' || m.hasTx
  }
  protected async exec(m: Model, r: Real) {
    const target = requester(r, this.via)
    const tokens = Array.from({ length: this.count }, () => r.token())
    // A generous timeout and a signal that never fires: both must be disarmed cleanly.
    const options = this.withOptions ? { timeout: 10_000, signal: new AbortController().signal } : undefined
    const sent = tokens.map((t, i) =>
      r.tracker.track(
        `query #${i}`,
        target.query<{ token: string }>('select $1::text as token', [t], options),
      ),
    )
    const expected = expectedFor(m)
    for (const [i, promise] of sent.entries()) {
      const outcome = await r.tracker.settle(`query #${i}`, promise, PROMPT)
      const result = check(`query #${i}`, outcome, expected)
      if (result) expectTokens(`query #${i}`, result.rows, [{ token: tokens[i] }] as never)
    }
  }
  toString() {
    return `Query(${this.count}, ${this.via}${this.withOptions ? ', options' : ''})`
  }
}

/** Several statements in one simple Query message; one result per statement, each its own. */
export class SimpleQueryCmd extends Step {
  readonly variant = 'simple-query'
  protected async exec(m: Model, r: Real) {
    const [a, b] = [r.token(), r.token()]
    const sql = `select '${a}' as token; select '${b}' as token`
    const outcome = await r.tracker.settle('simpleQuery', clientOf(r).simpleQuery(sql), PROMPT)
    const results = check('simpleQuery', outcome, expectedFor(m))
    if (results) {
      expectTokens(
        'simpleQuery',
        results.map((x) => x.rows),
        [[{ token: a }], [{ token: b }]] as never,
      )
    }
  }
  toString() {
    return 'SimpleQuery'
  }
}

/** Inserts `count` rows of this sequence, pipelined; committed now or pending in the open transaction. */
export class InsertCmd extends Step {
  readonly variant = 'insert'
  readonly count: number
  readonly via: Via
  constructor(count: number, via: Via) {
    super()
    this.count = count
    this.via = via
  }
  // M3 in model-findings.md: pipelined requests of a new text in a failed transaction.
  override variantIn(m: Readonly<Model>) {
    return m.status === 'failed' && this.count > 1 ? 'pipelined-in-failed-transaction' : this.variant
  }
  override allowed(m: Readonly<Model>) {
    return this.via === 'client' || m.hasTx
  }
  protected async exec(m: Model, r: Real) {
    const target = requester(r, this.via)
    const tokens = Array.from({ length: this.count }, () => r.token())
    const sql = `insert into ${r.lane.table} (seq, token) values ($1, $2) returning token`
    const sent = tokens.map((t, i) =>
      r.tracker.track(`insert #${i}`, target.query<{ token: string }>(sql, [r.seq, t])),
    )
    const expected = expectedFor(m)
    for (const [i, promise] of sent.entries()) {
      const result = check(`insert #${i}`, await r.tracker.settle(`insert #${i}`, promise, PROMPT), expected)
      if (result) expectTokens(`insert #${i}`, result.rows, [{ token: tokens[i] }] as never)
    }
    if (expected === 'ok') inserted(m, tokens)
  }
  toString() {
    return `Insert(${this.count}, ${this.via})`
  }
}

/** Division by zero (22012), optionally with a good query pipelined right behind it. */
export class FailCmd extends Step {
  readonly variant = 'failing-query'
  readonly followedBy: boolean
  constructor(followedBy: boolean) {
    super()
    this.followedBy = followedBy
  }
  protected async exec(m: Model, r: Real) {
    const client = clientOf(r)
    const token = r.token()
    const failing = r.tracker.track(
      'failing query',
      client.query('select $1::text as token, 1 / (length($1) - length($1)) as boom', [token]),
    )
    const next = this.followedBy
      ? r.tracker.track('query behind the failing one', client.query('select $1::text as token', [token]))
      : undefined
    const expected = expectedFor(m)
    const outcome = await r.tracker.settle('failing query', failing, PROMPT)
    expectThat(!outcome.ok, () => 'failing query: expected 22012, it resolved')
    if (expected === 'ok') expectCode('failing query', outcome.error, '22012')
    else check('failing query', outcome, expected)
    if (expected === 'ok') serverError(m)
    if (next) {
      const after = await r.tracker.settle('query behind the failing one', next, PROMPT)
      const result = check('query behind the failing one', after, expectedFor(m))
      if (result) expectTokens('query behind the failing one', result.rows, [{ token }] as never)
    }
  }
  toString() {
    return `Fail(${this.followedBy ? 'then query' : 'alone'})`
  }
}

/** prepare(), a query of the statement (binary results), optionally closeStatement(). */
export class PrepareCmd extends Step {
  readonly variant = 'prepare'
  readonly close: boolean
  constructor(close: boolean) {
    super()
    this.close = close
  }
  protected async exec(m: Model, r: Real) {
    const client = clientOf(r)
    const expected = expectedFor(m)
    const prepared = await r.tracker.settle(
      'prepare',
      client.prepare('select $1::text as token, 7 as n'),
      PROMPT,
    )
    const statement = check('prepare', prepared, expected)
    if (!statement) return
    const token = r.token()
    const result = await r.tracker.value('query of the statement', client.query(statement, [token]), PROMPT)
    expectTokens('query of the statement', result.rows, [{ token, n: 7 }] as never)
    if (this.close) await r.tracker.value('closeStatement', client.closeStatement(statement), PROMPT)
  }
  toString() {
    return `Prepare(${this.close ? 'close' : 'keep'})`
  }
}

export type AbortMode = 'before-send' | 'running' | 'pipelined-next'

/**
 * Abort through an AbortSignal: already aborted (nothing is sent), while the statement runs (CancelRequest:
 * 57014, the connection stays), or the head of a pipeline (the cancel must not hit the next caller's statement).
 */
export class AbortCmd extends Step {
  readonly variant: string
  readonly mode: AbortMode
  readonly delay: number
  constructor(mode: AbortMode, delay: number) {
    super()
    this.mode = mode
    this.delay = delay
    this.variant = `abort-${mode}`
  }
  override allowed(m: Readonly<Model>) {
    return this.mode !== 'pipelined-next' || (m.status === 'idle' && !m.closed)
  }
  protected async exec(m: Model, r: Real) {
    const client = clientOf(r)
    const controller = new AbortController()
    const token = r.token()
    const expected = expectedFor(m)
    if (this.mode === 'before-send') {
      controller.abort()
      const sent = client.query('select $1::text as token', [token], { signal: controller.signal })
      const outcome = await r.tracker.settle('pre-aborted query', sent, PROMPT)
      expectThat(!outcome.ok, () => 'pre-aborted query: expected a rejection, it resolved')
      expectKind(
        'pre-aborted query',
        outcome.error,
        expected === 'closed' ? ['closed', 'aborted'] : ['aborted'],
      )
      return
    }
    const sleepFor = this.mode === 'running' ? 0.3 : this.delay / 1000
    const first = r.tracker.track(
      'aborted query',
      client.query('select pg_sleep($2), $1::text as token', [token, sleepFor], {
        signal: controller.signal,
      }),
    )
    const other = r.token()
    const second =
      this.mode === 'pipelined-next'
        ? r.tracker.track(
            'query behind the aborted one',
            client.query('select pg_sleep(0.2), $1::text as token', [other]),
          )
        : undefined
    setTimeout(() => controller.abort(), this.delay)
    const outcome = await r.tracker.settle('aborted query', first, 5000 + PROMPT)
    if (expected === 'closed') check('aborted query', outcome, expected)
    else if (outcome.ok)
      expectTokens(
        'aborted query (cancel came late)',
        outcome.value.rows.map((x) => x.token),
        [token],
      )
    else if (isDatabaseError(outcome.error) && outcome.error.code === '57014') {
      serverError(m)
      m.facts.hadCancel = true
    } else if (expected === 'in-failed-transaction' && isDatabaseError(outcome.error)) {
      expectCode('aborted query', outcome.error, '25P02')
    } else {
      expectKind('aborted query', outcome.error, ['aborted'])
      // Abandoned (the connection is destroyed), or taken back / discarded (the connection stays; inside a
      // transaction the statement may have been cancelled on the server after all).
      if (client.isClosed) clientClosed(m, r)
      else if (m.status === 'transaction' && client.transactionStatus === 'failed') serverError(m)
    }
    if (!second) return
    const after = await r.tracker.settle('query behind the aborted one', second, PROMPT)
    if (m.closed) expectKind('query behind the aborted one', errorOr(after), ['closed'])
    else {
      expectThat(
        after.ok,
        () => `query behind the aborted one: it was not aborted, yet ${describe(errorOr(after))}`,
      )
      expectTokens(
        'query behind the aborted one',
        after.value.rows.map((x) => x.token),
        [other],
      )
    }
  }
  toString() {
    return `Abort(${this.mode}, ${this.delay} ms)`
  }
}

/** A per-request timeout that fires: rejects with kind `timeout` in time and destroys the connection. */
export class TimeoutCmd extends Step {
  readonly variant = 'timeout'
  readonly timeout: number
  constructor(timeout: number) {
    super()
    this.timeout = timeout
  }
  protected async exec(m: Model, r: Real) {
    const client = clientOf(r)
    const expected = expectedFor(m)
    const sent = client.query('select pg_sleep(2)', [], { timeout: this.timeout })
    const outcome = await r.tracker.settle('timed-out query', sent, this.timeout + SLACK)
    if (expected === 'closed') {
      check('timed-out query', outcome, expected)
      return
    }
    expectThat(!outcome.ok, () => 'timed-out query: expected kind timeout, it resolved')
    if (expected === 'in-failed-transaction' && isDatabaseError(outcome.error)) {
      expectCode('timed-out query', outcome.error, '25P02')
      return
    }
    expectKind('timed-out query', outcome.error, ['timeout'])
    clientClosed(m, r)
  }
  toString() {
    return `Timeout(${this.timeout} ms)`
  }
}

export type TimedKind = 'query' | 'queryRaw' | 'simpleQuery' | 'batchExecute' | 'copyOut' | 'prepare'

/**
 * `queryTimeout` applies to every request (issue item 7): on a client of its own with a short
 * `queryTimeout`, a request that cannot finish (pg_sleep, or prepare behind a lock) rejects with kind
 * `timeout` by the deadline.
 */
export class QueryTimeoutCmd extends Step {
  readonly variant: string
  static readonly deadline = 150
  readonly kind: TimedKind
  constructor(kind: TimedKind) {
    super()
    this.kind = kind
    this.variant = `queryTimeout-${kind}`
  }
  protected async exec(_m: Model, r: Real) {
    const lane = r.lane
    const client = await lane.extraClient(r.tracker, { queryTimeout: QueryTimeoutCmd.deadline })
    const locked = this.kind === 'prepare'
    if (locked) {
      await lane.checker.query('begin')
      await lane.checker.query(`lock table ${lane.lockTable} in access exclusive mode`)
    }
    try {
      const request = this.#request(client, lane.lockTable)
      const bound = QueryTimeoutCmd.deadline + SLACK
      const outcome = await r.tracker.settle(`${this.kind} with queryTimeout`, request, bound)
      expectThat(!outcome.ok, () => `${this.kind} with queryTimeout: expected kind timeout, it resolved`)
      expectKind(`${this.kind} with queryTimeout`, outcome.error, ['timeout'])
    } finally {
      if (locked) await lane.checker.query('rollback')
      await r.tracker.settle('end the queryTimeout client', client.end(), PROMPT)
    }
  }
  #request(client: ReturnType<typeof clientOf>, lockTable: string): Promise<unknown> {
    const sleepy = 'select pg_sleep(3)'
    switch (this.kind) {
      case 'query':
        return client.query(sleepy)
      case 'queryRaw':
        return client.queryRaw(sleepy).next()
      case 'simpleQuery':
        return client.simpleQuery(sleepy)
      case 'batchExecute':
        return client.batchExecute(sleepy)
      case 'copyOut':
        return client.copyOut(`copy (${sleepy}) to stdout`)
      case 'prepare':
        return client.prepare(`select * from ${lockTable}`)
    }
  }
  toString() {
    return `QueryTimeout(${this.kind})`
  }
}

/** `end()`, alone or with a query in flight (it still gets its answer). */
export class EndCmd extends Step {
  readonly variant = 'end'
  readonly withInflight: boolean
  constructor(withInflight: boolean) {
    super()
    this.withInflight = withInflight
  }
  protected async exec(m: Model, r: Real) {
    const client = clientOf(r)
    const expected = expectedFor(m)
    const token = r.token()
    const inflight = this.withInflight
      ? r.tracker.track('query in flight at end()', client.query('select $1::text as token', [token]))
      : undefined
    const ending = await r.tracker.settle('end()', client.end(), PROMPT)
    expectThat(ending.ok, () => `end(): expected to resolve, rejected with ${describe(errorOr(ending))}`)
    if (inflight) {
      const result = check(
        'query in flight at end()',
        await r.tracker.settle('query in flight at end()', inflight, PROMPT),
        expected,
      )
      if (result) expectTokens('query in flight at end()', result.rows, [{ token }] as never)
    }
    clientClosed(m, r)
    const after = await r.tracker.settle('query after end()', client.query('select 1'), PROMPT)
    check('query after end()', after, 'closed')
  }
  toString() {
    return `End(${this.withInflight ? 'in flight' : 'idle'})`
  }
}

/** Opens a new lane client after the old one closed. */
export class ReconnectCmd extends Step {
  readonly variant = 'reconnect'
  override allowed(m: Readonly<Model>) {
    return m.closed
  }
  protected async exec(m: Model, r: Real) {
    await r.lane.ensureClient(r.tracker)
    m.facts = r.lane.facts
    m.closed = false
    m.status = 'idle'
  }
  toString() {
    return 'Reconnect'
  }
}

function errorOr<T>(outcome: Outcome<T>): unknown {
  return outcome.ok ? undefined : outcome.error
}

/** Arbitraries for the commands above. */
export const clientCommands = [
  fc
    .tuple(fc.integer({ min: 1, max: 3 }), fc.constantFrom<Via>('client', 'tx'), fc.boolean())
    .map(([n, via, o]) => new QueryCmd(n, via, o)),
  fc.constant(new SimpleQueryCmd()),
  fc
    .tuple(fc.integer({ min: 1, max: 3 }), fc.constantFrom<Via>('client', 'tx'))
    .map(([n, via]) => new InsertCmd(n, via)),
  fc.boolean().map((b) => new FailCmd(b)),
  fc.boolean().map((b) => new PrepareCmd(b)),
  fc
    .tuple(
      fc.constantFrom<AbortMode>('before-send', 'running', 'pipelined-next'),
      fc.integer({ min: 0, max: 30 }),
    )
    .map(([mode, delay]) => new AbortCmd(mode, delay)),
  fc.integer({ min: 20, max: 80 }).map((t) => new TimeoutCmd(t)),
  fc
    .constantFrom<TimedKind>('query', 'queryRaw', 'simpleQuery', 'batchExecute', 'copyOut', 'prepare')
    .map((kind) => new QueryTimeoutCmd(kind)),
  fc.boolean().map((b) => new EndCmd(b)),
  fc.constant(new ReconnectCmd()),
]
