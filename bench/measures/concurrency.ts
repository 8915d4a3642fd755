/**
 * 50 callers sharing one pool of 10 connections, each running its queries one after another. Measures the
 * pool and the driver together, the way a server handling requests uses them.
 */
import type { Context } from '../context.ts'
import { type DriverId, drivers } from '../drivers.ts'
import { interleave } from '../interleave.ts'
import { type Measure, row } from '../report.ts'
import { endpoint } from '../setup.ts'

const IDS: DriverId[] = ['edgepg', 'postgres.js', 'pg', 'neon-ws', 'neon-ws-nocoalesce']
const CALLERS = 50
const POOL_SIZE = 10

export async function concurrency(ctx: Context): Promise<Measure> {
  const perCaller = ctx.quick ? 40 : 200
  const rounds = ctx.quick ? 1 : 5
  const e = endpoint(ctx.pg, ctx.pg.roles.scram, { relayPort: ctx.relay.port })
  ctx.log(`concurrency: ${CALLERS} callers × ${perCaller} queries, pool of ${POOL_SIZE}, ${rounds} rounds`)
  const results = await interleave(
    IDS.map((id) => ({
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
    rounds,
  )
  return {
    id: 'concurrency',
    title: `${CALLERS} callers sharing a pool of ${POOL_SIZE} connections`,
    unit: 'queries/s',
    better: 'higher',
    rows: IDS.map((id) => {
      const r = results.get(id)!
      const note =
        r.note === 'not available' && id === 'edgepg'
          ? 'not available: @edgepg/client does not export createPool yet'
          : r.note
      return row(id, `${drivers[id].label.replace(/\)$/, '')}, pool)`, drivers[id].isOurs, r.samples, note)
    }),
    compare: [
      ['edgepg', 'postgres.js'],
      ['edgepg', 'pg'],
      ['edgepg', 'neon-ws'],
    ],
    notes: [
      "pg.Pool, postgres({ max: 10 }), Neon's Pool (through the relay) and edgepg's createPool (TCP).",
      "postgres.js pipelines several callers' queries on each of its connections; the pg-based pools run one query per connection at a time.",
    ],
  }
}
