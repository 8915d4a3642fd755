/**
 * Model commands with a deadline or a signal: abort through an AbortSignal (before it is sent, while it
 * runs, at the head of a pipeline), a per-request timeout, and `queryTimeout` on every kind of request.
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
  type Model,
  PROMPT,
  type Real,
  SLACK,
  serverError,
} from './state.ts'
import { clientOf, Step } from './step.ts'
import { describe, expectThat, type Outcome } from './tracker.ts'

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

function errorOr<T>(outcome: Outcome<T>): unknown {
  return outcome.ok ? undefined : outcome.error
}

export const deadlineCommands = [
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
]
