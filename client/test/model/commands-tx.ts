/**
 * Model commands for transactions: `client.transaction(body)` with nested savepoints and every way a body
 * can end, an explicit `begin()` left open across commands with `savepoint()`, commit and rollback, and
 * plain BEGIN / COMMIT / ROLLBACK statements.
 */
import type { Transaction } from '@edgepg/client'
import fc from 'fast-check'
import {
  check,
  expectCode,
  expectedFor,
  expectKind,
  inserted,
  type Model,
  PROMPT,
  type Real,
  transactionEnded,
} from './state.ts'
import { clientOf, Marker, Step } from './step.ts'
import { describe, expectThat } from './tracker.ts'

async function insertVia(r: Real, tx: Transaction, count: number): Promise<string[]> {
  const tokens = Array.from({ length: count }, () => r.token())
  const sql = `insert into ${r.lane.table} (seq, token) values ($1, $2)`
  for (const t of tokens) await r.tracker.value('insert in transaction', tx.query(sql, [r.seq, t]), PROMPT)
  return tokens
}

export type Inner =
  | 'none'
  | 'nested-commit'
  | 'nested-throw'
  | 'nested-fail'
  | 'explicit-savepoint'
  | 'savepoint-throw'
  | 'caught-failure'

/**
 * `client.transaction(body)`: the body inserts rows, does `inner`, then returns a token or throws. Commit
 * keeps the rows; a throw (or a statement that failed inside) rolls everything back, and the client is
 * idle again either way.
 */
export class TransactionCmd extends Step {
  readonly variant: string
  readonly inner: Inner
  readonly throws: boolean
  readonly count: number
  constructor(inner: Inner, throws: boolean, count: number) {
    super()
    this.inner = inner
    this.throws = throws
    this.count = count
    this.variant = inner === 'savepoint-throw' ? 'savepoint-throw-rollback' : `transaction-${inner}`
  }
  override allowed(m: Readonly<Model>) {
    return m.closed || (m.status === 'idle' && !m.hasTx)
  }
  protected async exec(m: Model, r: Real) {
    const client = clientOf(r)
    const expected = expectedFor(m)
    const marker = new Marker('model transaction body threw on purpose')
    const result = r.token()
    let kept: string[] = []
    let isServerRollback = false
    const body = async (tx: Transaction) => {
      kept = await insertVia(r, tx, this.count)
      switch (this.inner) {
        case 'nested-commit':
          kept.push(...(await tx.transaction((sp) => insertVia(r, sp, 1))))
          break
        case 'nested-throw': {
          const inner = new Marker('nested body threw on purpose')
          const caught = await tx
            .transaction(async (sp) => {
              await insertVia(r, sp, 1)
              throw inner
            })
            .then(
              () => undefined,
              (e: unknown) => e,
            )
          expectThat(
            caught === inner,
            () => `nested throw: rejected with ${describe(caught)}, not the body's error`,
          )
          break
        }
        case 'nested-fail': {
          const caught = await tx
            .transaction((sp) => sp.query('select 1 / (length($1) - length($1))', ['x']))
            .then(
              () => undefined,
              (e: unknown) => e,
            )
          expectCode('nested failing statement', caught, '22012')
          break
        }
        case 'explicit-savepoint': {
          const sp = await r.tracker.value('tx.savepoint()', tx.savepoint(), PROMPT)
          const inSavepoint = await insertVia(r, sp, 1)
          await r.tracker.value('savepoint release', sp.commit(), PROMPT)
          kept.push(...inSavepoint)
          break
        }
        case 'savepoint-throw':
          await r.tracker.value('tx.savepoint()', tx.savepoint(), PROMPT)
          throw marker
        case 'caught-failure': {
          const failed = await tx.query('select 1 / (length($1) - length($1))', ['x']).then(
            () => undefined,
            (e: unknown) => e,
          )
          expectCode('failing statement in transaction', failed, '22012')
          isServerRollback = true
          break
        }
      }
      if (this.throws) throw marker
      return result
    }
    const outcome = await r.tracker.settle('client.transaction()', client.transaction(body), 4 * PROMPT)
    if (expected !== 'ok') {
      check('client.transaction()', outcome, expected)
      return
    }
    if (this.throws || this.inner === 'savepoint-throw') {
      expectThat(
        !outcome.ok && outcome.error === marker,
        () =>
          `transaction body threw: expected its own error, got ${outcome.ok ? 'a result' : describe(outcome.error)}`,
      )
    } else if (isServerRollback) {
      expectThat(!outcome.ok, () => 'commit after a failed statement: expected a rejection, it resolved')
      expectKind('commit after a failed statement', outcome.error, ['usage'])
    } else {
      expectThat(
        outcome.ok,
        () => `client.transaction(): rejected with ${describe(!outcome.ok && outcome.error)}`,
      )
      expectThat(
        outcome.value === result,
        () => `client.transaction(): resolved with ${outcome.value}, not ${result}`,
      )
      inserted(m, kept)
    }
  }
  toString() {
    return `Transaction(${this.inner}, ${this.throws ? 'throw' : 'return'}, ${this.count})`
  }
}

/** `client.begin()`: an explicit transaction that stays open across the following commands. */
export class BeginCmd extends Step {
  readonly variant = 'begin'
  override allowed(m: Readonly<Model>) {
    return m.closed || (m.status === 'idle' && !m.hasTx)
  }
  protected async exec(m: Model, r: Real) {
    const outcome = await r.tracker.settle('client.begin()', clientOf(r).begin(), PROMPT)
    const tx = check('client.begin()', outcome, expectedFor(m))
    if (!tx) return
    r.tx = tx
    m.hasTx = true
    m.status = 'transaction'
  }
  toString() {
    return 'Begin'
  }
}

/** Commits or rolls back the explicit transaction; a failed one refuses to commit and is rolled back. */
export class FinishCmd extends Step {
  readonly variant = 'finish'
  readonly commit: boolean
  constructor(commit: boolean) {
    super()
    this.commit = commit
  }
  override allowed(m: Readonly<Model>) {
    return m.hasTx
  }
  protected async exec(m: Model, r: Real) {
    const tx = r.tx!
    const label = this.commit ? 'tx.commit()' : 'tx.rollback()'
    const outcome = await r.tracker.settle(label, this.commit ? tx.commit() : tx.rollback(), PROMPT)
    r.tx = undefined
    if (this.commit && m.status === 'failed') {
      expectThat(!outcome.ok, () => 'commit of a failed transaction: expected a rejection, it resolved')
      expectKind('commit of a failed transaction', outcome.error, ['usage'])
      transactionEnded(m, false)
      return
    }
    expectThat(outcome.ok, () => `${label}: rejected with ${describe(!outcome.ok && outcome.error)}`)
    transactionEnded(m, this.commit)
  }
  toString() {
    return this.commit ? 'Commit' : 'Rollback'
  }
}

/** `tx.savepoint()` inside the explicit transaction: rows in it, maybe a failure, then release or rollback. */
export class SavepointCmd extends Step {
  readonly variant = 'savepoint'
  readonly count: number
  readonly fails: boolean
  readonly release: boolean
  constructor(count: number, fails: boolean, release: boolean) {
    super()
    this.count = count
    this.fails = fails
    this.release = release
  }
  override allowed(m: Readonly<Model>) {
    return m.hasTx
  }
  protected async exec(m: Model, r: Real) {
    const opened = await r.tracker.settle('tx.savepoint()', r.tx!.savepoint(), PROMPT)
    if (m.status === 'failed') {
      check('tx.savepoint() in a failed transaction', opened, 'in-failed-transaction')
      return
    }
    const sp = check('tx.savepoint()', opened, 'ok')!
    const tokens = await insertVia(r, sp, this.count)
    // The parent refuses statements while its savepoint is open. By design (style.md rule 5) misuse throws
    // synchronously with kind usage; a rejection of kind usage is accepted too.
    let refusal: unknown
    try {
      const pending = r.tx!.query('select 1')
      const refused = await r.tracker.settle('tx.query() while its savepoint is open', pending, PROMPT)
      refusal = refused.ok ? undefined : refused.error
    } catch (error) {
      refusal = error
    }
    expectKind('tx.query() while its savepoint is open', refusal, ['usage'])
    if (this.fails) {
      const failed = await r.tracker.settle(
        'failing statement in savepoint',
        sp.query('select 1 / 0 as boom'),
        PROMPT,
      )
      expectCode('failing statement in savepoint', failed.ok ? undefined : failed.error, '22012')
    }
    const label = this.release ? 'savepoint release' : 'savepoint rollback'
    const finished = await r.tracker.settle(label, this.release ? sp.commit() : sp.rollback(), PROMPT)
    if (this.release && this.fails) {
      // RELEASE in an aborted transaction is refused; the savepoint stays open so it can be rolled back to.
      expectCode(label, finished.ok ? undefined : finished.error, '25P02')
      expectThat(
        sp.state === 'open',
        () => `savepoint after a refused release: state ${sp.state}, expected open`,
      )
      await r.tracker.value('savepoint rollback after a refused release', sp.rollback(), PROMPT)
      return
    }
    expectThat(finished.ok, () => `${label}: rejected with ${describe(!finished.ok && finished.error)}`)
    if (this.release) inserted(m, tokens)
  }
  toString() {
    return `Savepoint(${this.count}, ${this.fails ? 'failing' : 'ok'}, ${this.release ? 'release' : 'rollback'})`
  }
}

/** BEGIN / COMMIT / ROLLBACK as plain statements (no Transaction object). */
export class RawTxCmd extends Step {
  readonly variant = 'raw-transaction'
  readonly statement: 'begin' | 'commit' | 'rollback'
  constructor(statement: 'begin' | 'commit' | 'rollback') {
    super()
    this.statement = statement
  }
  override allowed(m: Readonly<Model>) {
    return !m.hasTx
  }
  protected async exec(m: Model, r: Real) {
    const outcome = await r.tracker.settle(this.statement, clientOf(r).query(this.statement), PROMPT)
    if (m.closed) {
      check(this.statement, outcome, 'closed')
      return
    }
    if (this.statement === 'begin') {
      if (m.status === 'failed') check('begin in a failed transaction', outcome, 'in-failed-transaction')
      else {
        check('begin', outcome, 'ok')
        m.status = 'transaction'
      }
      return
    }
    const result = check(this.statement, outcome, 'ok')!
    const isCommit = this.statement === 'commit' && m.status === 'transaction'
    if (this.statement === 'commit') {
      const tag = m.status === 'failed' ? 'ROLLBACK' : 'COMMIT'
      expectThat(result.command === tag, () => `commit: command tag ${result.command}, expected ${tag}`)
    }
    transactionEnded(m, isCommit)
  }
  toString() {
    return `Raw(${this.statement})`
  }
}

export const transactionCommands = [
  fc
    .tuple(
      fc.constantFrom<Inner>(
        'none',
        'nested-commit',
        'nested-throw',
        'nested-fail',
        'explicit-savepoint',
        'savepoint-throw',
        'caught-failure',
      ),
      fc.boolean(),
      fc.integer({ min: 0, max: 2 }),
    )
    .map(([inner, throws, n]) => new TransactionCmd(inner, throws, n)),
  fc.constant(new BeginCmd()),
  fc.boolean().map((c) => new FinishCmd(c)),
  fc
    .tuple(fc.integer({ min: 0, max: 2 }), fc.boolean(), fc.boolean())
    .map(([n, fails, release]) => new SavepointCmd(n, fails, release)),
  fc.constantFrom<'begin' | 'commit' | 'rollback'>('begin', 'commit', 'rollback').map((s) => new RawTxCmd(s)),
]
