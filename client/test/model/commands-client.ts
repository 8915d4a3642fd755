import fc from 'fast-check'
import {
  check,
  clientClosed,
  expectCode,
  expectedFor,
  expectTokens,
  inserted,
  type Model,
  PROMPT,
  type Real,
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
  fc.boolean().map((b) => new EndCmd(b)),
  fc.constant(new ReconnectCmd()),
]
