/**
 * The model-based lifecycle test (issue 10, "Systematic tests"): random sequences of client, stream, COPY,
 * transaction, abort, timeout, end and pool commands against a real PostgreSQL, each checked against a
 * model of what must happen. After every sequence: every promise settled, the client's state is the
 * model's, the pool hands out a clean lease that sees committed data only, and the rows of the sequence are
 * exactly the ones the model committed. Used by `lifecycle-model.test.ts` and by `npm run soak`.
 */
import { createPool } from '@edgepg/client'
import fc from 'fast-check'
import pg from 'pg'
import { clientCommands } from './commands-client.ts'
import { deadlineCommands } from './commands-deadline.ts'
import { poolCommands } from './commands-pool.ts'
import { endBehindCommands, streamCommands } from './commands-stream.ts'
import { transactionCommands } from './commands-tx.ts'
import {
  assertClientState,
  expectTokens,
  Lane,
  type Model,
  type ModelEnv,
  PROMPT,
  type Real,
  transactionEnded,
} from './state.ts'
import { describe, expectThat, sleep, Tracker } from './tracker.ts'

export type { ModelEnv } from './state.ts'

export interface ModelOptions {
  /** Sequences in total, spread over the lanes. */
  runs: number
  /** Lanes run in parallel, each with its own client, pool and table. */
  lanes: number
  /** Base seed; lane i uses `seed + i`. */
  seed: number
  /** Most commands per sequence. */
  maxCommands: number
  /** Shrink a failing sequence to a minimal one (slower: a hang costs its bound on every attempt). */
  shrink: boolean
  /** Replay one counterexample: fast-check's `path` from a failure report (with its lane's seed, one lane). */
  path?: string
}

export interface ModelReport {
  seed: number
  sequences: number
  commands: number
  promises: number
  durationMs: number
  /** One entry per failing lane: fast-check's report (seed, path, counterexample) and the cause. */
  failures: string[]
}

const arbitraries = [
  ...clientCommands,
  ...deadlineCommands,
  ...streamCommands,
  ...endBehindCommands,
  ...transactionCommands,
  ...poolCommands,
]

/** Runs the model; never throws for a model failure (they are in `failures`). */
export async function runModel(env: ModelEnv, options: ModelOptions): Promise<ModelReport> {
  const started = performance.now()
  const report: ModelReport = {
    seed: options.seed,
    sequences: 0,
    commands: 0,
    promises: 0,
    durationMs: 0,
    failures: [],
  }
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown) => unhandled.push(reason)
  process.on('unhandledRejection', onUnhandled)
  const lanes: Lane[] = []
  try {
    for (let i = 0; i < options.lanes; i++) lanes.push(await openLane(env, i))
    const perLane = Math.ceil(options.runs / options.lanes)
    await Promise.all(lanes.map((lane, i) => runLane(lane, options.seed + i, perLane, options, report)))
    for (const lane of lanes) {
      const tracker = new Tracker()
      await lane.close(tracker)
      await lane.checker.query(`drop table ${lane.table}, ${lane.lockTable}`)
      await lane.checker.end()
    }
    const orphans = await orphanedBackends(env)
    if (orphans.length > 0)
      report.failures.push(`orphaned backends after every client ended: ${orphans.join('; ')}`)
  } finally {
    await sleep(20)
    process.off('unhandledRejection', onUnhandled)
  }
  for (const reason of unhandled) report.failures.push(`unhandled rejection: ${describe(reason)}`)
  report.durationMs = Math.round(performance.now() - started)
  return report
}

async function openLane(env: ModelEnv, index: number): Promise<Lane> {
  const checker = new pg.Client(env.superuser)
  await checker.connect()
  const name = `${env.label}_${index}_${Math.random().toString(36).slice(2, 8)}`
  const lane = new Lane(env, name, checker, () =>
    createPool(env.url, { transport: env.transport(), max: 2, pipeline: 4, idleTimeout: 0 }),
  )
  await checker.query(`create table ${lane.table} (seq int not null, token text not null)`)
  await checker.query(`create table ${lane.lockTable} (n int)`)
  await checker.query(`grant all on ${lane.table}, ${lane.lockTable} to public`)
  return lane
}

let sequenceIds = 0
/** The lane client's history when its sequence last failed. */
const lastHistory = new WeakMap<Lane, string>()

async function runLane(lane: Lane, seed: number, runs: number, options: ModelOptions, report: ModelReport) {
  const property = fc.asyncProperty(
    fc.commands(arbitraries, { maxCommands: options.maxCommands }),
    async (commands) => {
      const tracker = new Tracker()
      const seq = ++sequenceIds
      let tokens = 0
      const real: Real = {
        lane,
        tracker,
        seq,
        tx: undefined,
        steps: 0,
        token: () => `${lane.name}-${seq}-${tokens++}`,
      }
      const model: Model = {
        closed: false,
        status: 'idle',
        hasTx: false,
        committed: new Set(),
        pending: new Set(),
        off: lane.env.awaitingFix,
        facts: lane.facts,
      }
      let isClean = false
      try {
        await lane.ensureClient(tracker)
        model.facts = lane.facts
        lane.history.push(`| sequence ${seq}:`)
        lane.ensurePool()
        await fc.asyncModelRun(() => ({ model, real }), commands)
        await afterSequence(model, real)
        isClean = true
      } finally {
        report.sequences++
        report.commands += real.steps
        report.promises += tracker.count
        if (!isClean) {
          lastHistory.set(lane, lane.history.join(' '))
          // Whatever wedged stays wedged: start the next sequence on fresh connections.
          lane.discard(tracker)
          tracker.forget()
        }
      }
    },
  )
  try {
    const replay = options.path === undefined ? {} : { path: options.path }
    await fc.assert(property, { numRuns: runs, seed, endOnFailure: !options.shrink, ...replay })
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    const cause = error instanceof Error && error.cause !== undefined ? describe(error.cause) : 'unknown'
    const history = lastHistory.get(lane) ?? ''
    report.failures.push(
      `lane ${lane.name} (seed ${seed}): ${cause}\n${message}\nthe failing client's history since it connected: ${history}`,
    )
  }
}

/** The checks after every sequence; leaves the lane client idle (or closed) for the next one. */
async function afterSequence(m: Model, r: Real): Promise<void> {
  const { lane, tracker } = r
  await tracker.assertAllSettled(PROMPT)
  assertClientState(m, r, 'end of sequence')
  const committed = [...m.committed].sort()
  expectTokens('committed rows seen from outside the driver', await lane.committedTokens(r.seq), committed)

  const pool = lane.ensurePool()
  const lease = await tracker.value('final pool.connect()', pool.connect(), PROMPT)
  try {
    expectThat(
      lease.transactionStatus === 'idle',
      () => `fresh lease: transactionStatus ${lease.transactionStatus}`,
    )
    const sql = `select token from ${lane.table} where seq = $1 order by token`
    const seen = await tracker.value(
      'fresh lease reads the rows',
      lease.query<{ token: string }>(sql, [r.seq]),
      PROMPT,
    )
    expectTokens(
      'rows a fresh lease sees',
      seen.rows.map((x) => x.token),
      committed,
    )
    expectThat(
      lease.transactionStatus === 'idle',
      () => `fresh lease after a read: ${lease.transactionStatus}`,
    )
  } finally {
    lease.release()
  }

  if (!m.closed && m.status !== 'idle') {
    const client = lane.client!
    const rollback = r.tx ? r.tx.rollback() : client.query('rollback').then(() => {})
    await tracker.value('rollback at end of sequence', rollback, PROMPT)
    r.tx = undefined
    transactionEnded(m, false)
    assertClientState(m, r, 'rollback at end of sequence')
  }
  await tracker.assertAllSettled(PROMPT)
}

/** Backends of `env.applicationName` still there 10 s after every client and pool ended. */
async function orphanedBackends(env: ModelEnv): Promise<string[]> {
  const checker = new pg.Client(env.superuser)
  await checker.connect()
  try {
    const deadline = Date.now() + 10_000
    for (;;) {
      const { rows } = await checker.query(
        `select pid, state, query from pg_stat_activity where application_name = $1`,
        [env.applicationName],
      )
      if (rows.length === 0 || Date.now() > deadline) {
        return rows.map(
          (x: { pid: number; state: string; query: string }) => `${x.pid} ${x.state} ${x.query}`,
        )
      }
      await sleep(100)
    }
  } finally {
    await checker.end()
  }
}
