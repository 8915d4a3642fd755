/**
 * Pipelined small queries over one connection: 10,000 `select $1::int` issued at once (`Promise.all`), each
 * driver over TCP, and edgepg and Neon through the relay. Drivers that do not pipeline (pg) queue them and
 * send one at a time; that is their behaviour, and it is what this measures.
 */
import type { Context } from '../context.ts'
import { type DriverId, drivers } from '../drivers.ts'
import { interleave } from '../interleave.ts'
import { findPgbench, pgbenchPipeline } from '../pgbench.ts'
import { type Measure, row } from '../report.ts'
import { endpoint } from '../setup.ts'

const IDS: DriverId[] = ['edgepg', 'postgres.js', 'pg', 'edgepg-ws', 'neon-ws', 'neon-ws-nocoalesce']
/** libpq's pipeline mode through pgbench: the C client's limit for the same work. */
const LIBPQ = 'libpq'
const PER_PIPELINE = 100

export async function throughput(ctx: Context): Promise<Measure> {
  const count = ctx.quick ? 2000 : 10_000
  const rounds = ctx.quick ? 1 : 5
  const e = endpoint(ctx.pg, ctx.pg.roles.scram, { relayPort: ctx.relay.port })
  ctx.log(`throughput: ${count} pipelined queries, ${rounds} rounds`)
  const pgbench = await findPgbench(ctx.log)
  const libpq = {
    id: LIBPQ,
    run: async () =>
      'path' in pgbench
        ? pgbenchPipeline(pgbench.path, e, { transactions: count / PER_PIPELINE, perPipeline: PER_PIPELINE })
        : undefined,
  }
  const results = await interleave(
    [
      libpq,
      ...IDS.map((id) => ({
        id,
        async run() {
          const conn = await drivers[id].connect(e)
          try {
            await Promise.all(Array.from({ length: 100 }, (_, i) => conn.query('select $1::int as n', [i])))
            const start = performance.now()
            const all = await Promise.all(
              Array.from({ length: count }, (_, i) => conn.query('select $1::int as n', [i])),
            )
            const seconds = (performance.now() - start) / 1000
            check(all, count)
            return count / seconds
          } finally {
            await conn.end()
          }
        },
      })),
    ],
    rounds,
  )
  const libpqResult = results.get(LIBPQ)!
  return {
    id: 'throughput',
    title: `Pipelined queries over one connection (${count.toLocaleString('en-US')} × select $1::int)`,
    unit: 'queries/s',
    better: 'higher',
    rows: [
      row(
        LIBPQ,
        `libpq pipeline (C): pgbench -M prepared, ${PER_PIPELINE} per pipeline`,
        false,
        libpqResult.samples,
        'missing' in pgbench ? pgbench.missing : libpqResult.note,
      ),
      ...IDS.map((id) => {
        const r = results.get(id)!
        return row(id, drivers[id].label, drivers[id].isOurs, r.samples, r.note)
      }),
    ],
    compare: [
      ['edgepg', LIBPQ],
      ['edgepg', 'postgres.js'],
      ['edgepg', 'pg'],
      ['edgepg-ws', 'edgepg'],
      ['edgepg-ws', 'neon-ws'],
      ['edgepg-ws', 'neon-ws-nocoalesce'],
    ],
    notes: [
      'Each sample opens a connection, warms it with 100 queries, then times all queries issued at once.',
      `The libpq row is the limit: libpq's pipeline mode in C (pgbench ${'-M prepared'}, one connection, \\startpipeline, ${PER_PIPELINE} × select :n::int, \\endpipeline, ${count / PER_PIPELINE} times; tps without the connection time × ${PER_PIPELINE}).`,
      'postgres.js runs with named prepared statements (what its tagged templates do); edgepg and pg send Parse for the unnamed statement with every query.',
      'The relay runs in its own process; with PostgreSQL, the client and the relay, three busy processes share 2 cores.',
    ],
  }
}

/** Every query must have answered its own parameter. */
function check(all: unknown[][], count: number) {
  let sum = 0
  for (const rows of all) sum += (rows[0] as { n: number }).n
  if (sum !== (count * (count - 1)) / 2) throw new Error(`wrong results: sum ${sum}`)
}
