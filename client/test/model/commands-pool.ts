/**
 * Model commands on the lane pool: pipelined `pool.query`, leases released in every state (issue item 5:
 * a lease must never hand its transaction, portal or COPY to the next one), `pool.transaction`, and a
 * statement that leaves a transaction open through `pool.query`.
 */
import { isPgError } from '@edgepg/client'
import fc from 'fast-check'
import { expectKind, expectTokens, type Model, PROMPT, type Real } from './state.ts'
import { Marker, Step } from './step.ts'
import { describe, expectThat } from './tracker.ts'

/** `count` concurrent pool queries (inserts or selects), each with its own token. */
export class PoolQueryCmd extends Step {
  readonly variant = 'pool-query'
  readonly count: number
  readonly insert: boolean
  constructor(count: number, insert: boolean) {
    super()
    this.count = count
    this.insert = insert
  }
  protected async exec(m: Model, r: Real) {
    const pool = r.lane.ensurePool()
    const tokens = Array.from({ length: this.count }, () => r.token())
    const sql = this.insert
      ? `insert into ${r.lane.table} (seq, token) values ($2, $1) returning token`
      : 'select $1::text as token, $2::int as seq'
    const sent = tokens.map((t) => pool.query<{ token: string }>(sql, [t, r.seq]))
    for (const [i, promise] of sent.entries()) {
      const result = await r.tracker.value(`pool.query #${i}`, promise, PROMPT)
      expectTokens(
        `pool.query #${i}`,
        result.rows.map((x) => x.token),
        [tokens[i]!],
      )
    }
    if (this.insert) for (const t of tokens) m.committed.add(t)
  }
  toString() {
    return `PoolQuery(${this.count}, ${this.insert ? 'insert' : 'select'})`
  }
}

export type LeaseMode =
  | 'clean'
  | 'begin-release'
  | 'begin-inflight-release'
  | 'insert-inflight-release'
  | 'failed-release'
  | 'stream-open-release'
  | 'copy-open-release'

/**
 * Leases a client, leaves it in `mode`, releases it; then a second lease must be idle, and its insert
 * (which resolved) must be committed, not swallowed by the first lease's transaction.
 */
export class PoolLeaseCmd extends Step {
  readonly variant: string
  readonly mode: LeaseMode
  constructor(mode: LeaseMode) {
    super()
    this.mode = mode
    this.variant = `pool-lease-${mode}`
  }
  protected async exec(m: Model, r: Real) {
    const pool = r.lane.ensurePool()
    const insert = `insert into ${r.lane.table} (seq, token) values ($1, $2) returning token`
    const a = await r.tracker.value('pool.connect() #1', pool.connect(), PROMPT)
    const loose: Promise<unknown>[] = []
    const track = (label: string, p: Promise<unknown>) => loose.push(r.tracker.settle(label, p, PROMPT))
    let aToken: string | undefined
    switch (this.mode) {
      case 'clean':
        aToken = r.token()
        await r.tracker.value('lease insert', a.query(insert, [r.seq, aToken]), PROMPT)
        break
      case 'begin-release':
        await r.tracker.value('lease begin', a.query('begin'), PROMPT)
        await r.tracker.value('lease insert in transaction', a.query(insert, [r.seq, r.token()]), PROMPT)
        break
      case 'begin-inflight-release':
        track('lease begin in flight at release', a.query('begin'))
        break
      case 'insert-inflight-release':
        await r.tracker.value('lease begin', a.query('begin'), PROMPT)
        track('lease insert in flight at release', a.query(insert, [r.seq, r.token()]))
        break
      case 'failed-release':
        await r.tracker.value('lease begin', a.query('begin'), PROMPT)
        await r.tracker.settle('lease failing statement', a.query('select 1 / 0'), PROMPT)
        break
      case 'stream-open-release': {
        const stream = a.queryRaw('select i from generate_series(1, 3) i', [], { batchSize: 1 })
        await r.tracker.value('lease stream first row', stream.next(), PROMPT)
        loose.push(releasedThen(r, () => stream.next(), 'stream next() after release'))
        break
      }
      case 'copy-open-release':
        await r.tracker.value(
          'lease copyOut',
          a.copyOut('copy (select generate_series(1, 3)) to stdout'),
          PROMPT,
        )
        break
    }
    a.release()
    if (aToken) m.committed.add(aToken)
    const b = await r.tracker.value('pool.connect() #2', pool.connect(), PROMPT)
    try {
      expectThat(
        b.transactionStatus === 'idle',
        () => `second lease: transactionStatus ${b.transactionStatus}`,
      )
      const bToken = r.token()
      const result = await r.tracker.value('second lease insert', b.query(insert, [r.seq, bToken]), PROMPT)
      expectTokens(
        'second lease insert',
        result.rows.map((x) => x.token),
        [bToken],
      )
      expectThat(b.transactionStatus === 'idle', () => `second lease after insert: ${b.transactionStatus}`)
      m.committed.add(bToken)
    } finally {
      b.release()
    }
    // Whatever was in flight on the first lease settles: with its answer, or rejected (never hangs).
    await Promise.all(loose)
  }
  toString() {
    return `PoolLease(${this.mode})`
  }
}

/** After `release()`, a call on the released stream must settle (a row, done, or a PgError). */
async function releasedThen(r: Real, call: () => Promise<unknown>, label: string) {
  await Promise.resolve()
  const outcome = await r.tracker.settle(label, call(), PROMPT)
  if (!outcome.ok) {
    expectThat(isPgError(outcome.error), () => `${label}: rejected with ${describe(outcome.error)}`)
  }
}

/** `pool.transaction(body)`: rows committed on return, none on throw. */
export class PoolTransactionCmd extends Step {
  readonly variant = 'pool-transaction'
  readonly count: number
  readonly throws: boolean
  constructor(count: number, throws: boolean) {
    super()
    this.count = count
    this.throws = throws
  }
  protected async exec(m: Model, r: Real) {
    const pool = r.lane.ensurePool()
    const marker = new Marker('pool transaction body threw on purpose')
    const tokens = Array.from({ length: this.count }, () => r.token())
    const run = pool.transaction(async (tx) => {
      for (const t of tokens)
        await tx.query(`insert into ${r.lane.table} (seq, token) values ($1, $2)`, [r.seq, t])
      if (this.throws) throw marker
      return tokens.length
    })
    const outcome = await r.tracker.settle('pool.transaction()', run, 2 * PROMPT)
    if (this.throws) {
      expectThat(!outcome.ok && outcome.error === marker, () => 'pool.transaction(): expected the body error')
      return
    }
    expectThat(
      outcome.ok,
      () => `pool.transaction(): rejected with ${describe(!outcome.ok && outcome.error)}`,
    )
    for (const t of tokens) m.committed.add(t)
  }
  toString() {
    return `PoolTransaction(${this.count}, ${this.throws ? 'throw' : 'return'})`
  }
}

/** `pool.query('begin')` must not leave a transaction for the pipelined callers after it. */
export class PoolBeginCmd extends Step {
  readonly variant = 'pool-query-begin'
  protected async exec(m: Model, r: Real) {
    const pool = r.lane.ensurePool()
    const outcome = await r.tracker.settle("pool.query('begin')", pool.query('begin'), PROMPT)
    if (!outcome.ok) expectKind("pool.query('begin')", outcome.error, ['usage'])
    const t = r.token()
    const sql = `insert into ${r.lane.table} (seq, token) values ($1, $2) returning token`
    const result = await r.tracker.value(
      "pool insert after pool.query('begin')",
      pool.query(sql, [r.seq, t]),
      PROMPT,
    )
    expectTokens(
      "pool insert after pool.query('begin')",
      result.rows.map((x) => x.token),
      [t],
    )
    m.committed.add(t)
  }
  toString() {
    return 'PoolBegin'
  }
}

export const poolCommands = [
  fc.tuple(fc.integer({ min: 1, max: 6 }), fc.boolean()).map(([n, insert]) => new PoolQueryCmd(n, insert)),
  fc
    .constantFrom<LeaseMode>(
      'clean',
      'begin-release',
      'begin-inflight-release',
      'insert-inflight-release',
      'failed-release',
      'stream-open-release',
      'copy-open-release',
    )
    .map((mode) => new PoolLeaseCmd(mode)),
  fc.tuple(fc.integer({ min: 0, max: 2 }), fc.boolean()).map(([n, t]) => new PoolTransactionCmd(n, t)),
  fc.constant(new PoolBeginCmd()),
]
