/**
 * 50 callers sharing one pool of 10 connections, each running its queries one after another. Measures the
 * pool and the driver together, the way a server handling requests uses them.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { Context } from '../context.ts'
import { type DriverId, drivers, type Endpoint } from '../drivers.ts'
import { interleave } from '../interleave.ts'
import { findPgbench } from '../pgbench.ts'
import { type Measure, row } from '../report.ts'
import { endpoint } from '../setup.ts'

const IDS: DriverId[] = ['edgepg', 'postgres.js', 'pg', 'neon-ws', 'neon-ws-nocoalesce']
const CALLERS = 50
const POOL_SIZE = 10
/** Queries in flight on each connection when the callers are spread evenly over the pool. */
const IN_FLIGHT = CALLERS / POOL_SIZE
const LIBPQ = 'libpq'

export async function concurrency(ctx: Context): Promise<Measure> {
  const perCaller = ctx.quick ? 40 : 200
  const rounds = ctx.quick ? 1 : 5
  const e = endpoint(ctx.pg, ctx.pg.roles.scram, { relayPort: ctx.relay.port })
  ctx.log(`concurrency: ${CALLERS} callers × ${perCaller} queries, pool of ${POOL_SIZE}, ${rounds} rounds`)
  const pgbench = await findPgbench(ctx.log)
  const libpq = {
    id: LIBPQ,
    run: async () =>
      'path' in pgbench ? pgbenchConnections(pgbench.path, e, CALLERS * perCaller) : undefined,
  }
  const results = await interleave(
    [
      libpq,
      ...IDS.map((id) => ({
        id,
        async run() {
          const pool = await drivers[id].pool?.(e, POOL_SIZE)
          if (!pool) return undefined
          try {
            // open the connections before the clock starts
            await Promise.all(
              Array.from({ length: 2 * POOL_SIZE }, (_, i) => pool.query('select $1::int', [i])),
            )
            const start = performance.now()
            await Promise.all(
              Array.from({ length: CALLERS }, async (_, caller) => {
                for (let i = 0; i < perCaller; i++) {
                  const rows = (await pool.query('select $1::int as n', [caller * perCaller + i])) as {
                    n: number
                  }[]
                  if (rows[0]!.n !== caller * perCaller + i) throw new Error('wrong result')
                }
              }),
            )
            return (CALLERS * perCaller) / ((performance.now() - start) / 1000)
          } finally {
            await pool.end()
          }
        },
      })),
    ],
    rounds,
  )
  const libpqResult = results.get(LIBPQ)!
  return {
    id: 'concurrency',
    title: `${CALLERS} callers sharing a pool of ${POOL_SIZE} connections`,
    unit: 'queries/s',
    better: 'higher',
    rows: [
      row(
        LIBPQ,
        `libpq (C): pgbench, ${POOL_SIZE} connections, pipelines of ${IN_FLIGHT}`,
        false,
        libpqResult.samples,
        'missing' in pgbench ? pgbench.missing : libpqResult.note,
      ),
      ...IDS.map((id) => {
        const r = results.get(id)!
        const note =
          r.note === 'not available' && id === 'edgepg'
            ? 'not available: @edgepg/client does not export createPool yet'
            : r.note
        return row(id, `${drivers[id].label.replace(/\)$/, '')}, pool)`, drivers[id].isOurs, r.samples, note)
      }),
    ],
    compare: [
      ['edgepg', 'postgres.js'],
      ['edgepg', 'pg'],
      ['edgepg', 'neon-ws'],
    ],
    notes: [
      "pg.Pool, postgres({ max: 10 }), Neon's Pool (through the relay) and edgepg's createPool (TCP).",
      "postgres.js pipelines several callers' queries on each of its connections; the pg-based pools run one query per connection at a time.",
    ],
    limits: [
      {
        label: `libpq, ${POOL_SIZE} connections × ${IN_FLIGHT} in flight (C)`,
        of: { row: LIBPQ },
        why: `The same ${CALLERS} queries in flight on ${POOL_SIZE} connections, sent by C: pgbench -M prepared, ${POOL_SIZE} clients on one thread (as Node has one), each sending pipelines of ${IN_FLIGHT} select :n::int (\\startpipeline … \\endpipeline) and waiting for them, as many queries as a sample of the drivers; tps without connection time × ${IN_FLIGHT}. A pool cannot do better than its connections carrying every caller's query at once.`,
      },
    ],
  }
}

/**
 * `total` prepared `select :n::int` from pgbench: {@link POOL_SIZE} connections on one thread, each sending
 * pipelines of {@link IN_FLIGHT} and waiting for their results. Queries per second, without connection time.
 */
async function pgbenchConnections(pgbench: string, e: Endpoint, total: number): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'edgepg-pgbench-'))
  const script = join(dir, 'pool.sql')
  const selects = Array.from({ length: IN_FLIGHT }, () => 'select :n::int;')
  await writeFile(
    script,
    ['\\set n random(1, 1000000)', '\\startpipeline', ...selects, '\\endpipeline', ''].join('\n'),
  )
  const perClient = Math.ceil(total / (POOL_SIZE * IN_FLIGHT))
  const args = [
    ...['--no-vacuum', '--protocol=prepared', `--client=${POOL_SIZE}`, '--jobs=1'],
    ...[`--transactions=${perClient}`, `--file=${script}`],
    ...[`--host=${e.tcp.host}`, `--port=${e.tcp.port}`, `--username=${e.user}`, e.database],
  ]
  const output = promisify(execFile)(pgbench, args, {
    env: { ...process.env, PGPASSWORD: e.password, PGSSLMODE: 'disable' },
    timeout: 120_000,
  })
  const { stdout } = await output.finally(() => rm(dir, { recursive: true, force: true }))
  const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(stdout)?.[1]
  const processed = Number(/number of transactions actually processed: (\d+)/.exec(stdout)?.[1])
  if (tps === undefined || processed !== perClient * POOL_SIZE) {
    throw new Error(`pgbench gave no tps for ${perClient * POOL_SIZE} transactions: ${stdout.slice(-300)}`)
  }
  return Number(tps) * IN_FLIGHT
}
