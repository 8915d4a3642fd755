/**
 * Pipelined small queries over one connection: 10,000 `select $1::int` issued at once (`Promise.all`), each
 * driver over TCP, and edgepg and Neon through the relay. Drivers that do not pipeline (pg) queue them and
 * send one at a time; that is their behaviour, and it is what this measures. The batch rows send the same
 * queries as `client.batch` calls of 100, one Sync each, as libpq's pipeline mode (the limit row) does.
 * A second measure is the relay's CPU per query in the same runs (the relay is its own process).
 */
import { type Client, connect } from '@edgepg/client'
import { nodeSocket } from '@edgepg/client/node'
import { webSocket } from '@edgepg/client/websocket'
import type { Context } from '../context.ts'
import { type DriverId, drivers, type Endpoint, url } from '../drivers.ts'
import { interleave } from '../interleave.ts'
import { findPgbench, pgbenchPipeline } from '../pgbench.ts'
import { openRawWire } from '../raw-wire.ts'
import { type Measure, row } from '../report.ts'
import { serverCpu } from '../server-cpu.ts'
import { endpoint } from '../setup.ts'
import { relayCpu } from './http.ts'

const IDS: DriverId[] = ['edgepg', 'postgres.js', 'pg', 'edgepg-ws', 'neon-ws', 'neon-ws-nocoalesce']
/** libpq's pipeline mode through pgbench: the C client's limit for the same work. */
const LIBPQ = 'libpq'
const PER_PIPELINE = 100
const RAW = 'raw-sync-each'
const RAW_BATCH = 'raw-sync-100'
const BATCH = 'edgepg-batch'
const BATCH_WS = 'edgepg-batch-ws'
/** The rows whose queries go through the relay: their samples also read the relay's CPU. */
const THROUGH_RELAY = new Set<string>(['edgepg-ws', BATCH_WS, 'neon-ws', 'neon-ws-nocoalesce'])
const LABELS: Record<string, string> = {
  [RAW]: 'the wire from Node, a Sync per query: pre-encoded bytes, nothing decoded',
  [RAW_BATCH]: `the wire from Node, a Sync per ${PER_PIPELINE}: pre-encoded bytes, nothing decoded`,
  [BATCH]: `edgepg (TCP), client.batch of ${PER_PIPELINE}`,
  [BATCH_WS]: `edgepg (relay), client.batch of ${PER_PIPELINE}`,
}

export async function throughput(ctx: Context): Promise<Measure[]> {
  const count = ctx.quick ? 2000 : 10_000
  const rounds = ctx.quick ? 1 : 5
  const e = endpoint(ctx.pg, ctx.pg.roles.scram, { relayPort: ctx.relay.port })
  ctx.log(`throughput: ${count} pipelined queries, ${rounds} rounds`)
  const pgbench = await findPgbench(ctx.log)
  /** PostgreSQL's CPU µs per query of each sample, every row (the libpq one included). */
  const server = new Map<string, number[]>()
  const withServerCpu = async <T>(id: string, work: () => Promise<T>): Promise<T> => {
    const before = await serverCpu(ctx.pg.dataDir)
    const result = await work()
    const after = await serverCpu(ctx.pg.dataDir)
    if (before !== undefined && after !== undefined && result !== undefined) {
      if (!server.has(id)) server.set(id, [])
      server.get(id)!.push((after - before) / count)
    }
    return result
  }
  const libpq = {
    id: LIBPQ,
    run: () =>
      withServerCpu(LIBPQ, async () =>
        'path' in pgbench
          ? pgbenchPipeline(pgbench.path, e, {
              transactions: count / PER_PIPELINE,
              perPipeline: PER_PIPELINE,
            })
          : undefined,
      ),
  }
  /** Relay CPU µs per query of each sample of the rows through the relay. */
  const cpu = new Map<string, number[]>([...THROUGH_RELAY].map((id) => [id, []]))
  /** Times `work` (count queries); for a row through the relay, also the relay's CPU over it. */
  const timed = (id: string, work: () => Promise<void>) =>
    withServerCpu(id, async () => {
      const cpuBefore = THROUGH_RELAY.has(id) ? await relayCpu(ctx.relay) : 0
      const start = performance.now()
      await work()
      const seconds = (performance.now() - start) / 1000
      if (THROUGH_RELAY.has(id)) cpu.get(id)!.push(((await relayCpu(ctx.relay)) - cpuBefore) / count)
      return count / seconds
    })
  const results = await interleave(
    [
      libpq,
      ...IDS.map((id) => ({
        id,
        async run() {
          const conn = await drivers[id].connect(e)
          try {
            await Promise.all(Array.from({ length: 100 }, (_, i) => conn.query('select $1::int as n', [i])))
            return await timed(id, async () => {
              const all = await Promise.all(
                Array.from({ length: count }, (_, i) => conn.query('select $1::int as n', [i])),
              )
              check(all, count)
            })
          } finally {
            await conn.end()
          }
        },
      })),
      ...[RAW, RAW_BATCH].map((id) => ({
        id,
        async run() {
          const raw = await openRawWire(e, ctx.pg.roles.trust.user)
          try {
            await raw.run(100, 1)
            return await withServerCpu(id, () => raw.run(count, id === RAW ? 1 : PER_PIPELINE))
          } finally {
            raw.end()
          }
        },
      })),
      ...[BATCH, BATCH_WS].map((id) => ({
        id,
        async run() {
          const [client, connection] = await edgepgConnect(e, id === BATCH_WS)
          const done = connection.run()
          try {
            await batches(client, 100)
            return await timed(id, () => batches(client, count))
          } finally {
            await client.end()
            await done
          }
        },
      })),
    ],
    rounds,
  )
  /** The row of `id` with `samples` (its rates unless given). */
  const rowOf = (id: string, samples = results.get(id)!.samples) => {
    const { note } = results.get(id)!
    if (id === LIBPQ)
      return row(
        LIBPQ,
        `libpq pipeline (C): pgbench -M prepared, ${PER_PIPELINE} per pipeline`,
        false,
        samples,
        'missing' in pgbench ? pgbench.missing : note,
      )
    if (id === RAW || id === RAW_BATCH) return row(id, LABELS[id]!, false, samples, note)
    if (id in LABELS) return row(id, LABELS[id]!, true, samples, note)
    return row(id, drivers[id as DriverId].label, drivers[id as DriverId].isOurs, samples, note)
  }
  const ORDER = [
    LIBPQ,
    RAW_BATCH,
    RAW,
    'edgepg',
    BATCH,
    'postgres.js',
    'pg',
    'edgepg-ws',
    BATCH_WS,
    'neon-ws',
    'neon-ws-nocoalesce',
  ]
  return [
    {
      id: 'throughput',
      title: `Pipelined queries over one connection (${count.toLocaleString('en-US')} × select $1::int)`,
      unit: 'queries/s',
      better: 'higher',
      rows: ORDER.map((id) => rowOf(id)),
      limits: [
        {
          label: "libpq's pipeline mode (C)",
          of: { row: LIBPQ },
          rows: [BATCH, BATCH_WS, RAW_BATCH],
          why: `libpq's pipeline mode in C on the same work: pgbench -M prepared, one connection, \\startpipeline, ${PER_PIPELINE} × select :n::int, \\endpipeline, ${count / PER_PIPELINE} times; tps without the connection time × ${PER_PIPELINE}. One Sync per ${PER_PIPELINE}, as the batch rows send. A relay can at best add nothing.`,
        },
        {
          label: 'the wire, a Sync per query',
          of: { row: RAW },
          rows: ['edgepg', 'edgepg-ws', 'postgres.js', 'pg'],
          why: `A Node client that only writes pre-encoded Bind + Execute + Sync for each query (encoded before the clock starts, written in 64 KB slices) and counts ReadyForQuery: no driver that keeps each query its own transaction can be faster. libpq is not this row's limit: with one Sync per ${PER_PIPELINE} the server does less (see its CPU per query below).`,
        },
      ],
      compare: [
        [BATCH, LIBPQ],
        ['edgepg', LIBPQ],
        ['edgepg', 'postgres.js'],
        ['edgepg', 'pg'],
        ['edgepg-ws', 'edgepg'],
        [BATCH_WS, BATCH],
        ['edgepg-ws', 'neon-ws'],
        ['edgepg-ws', 'neon-ws-nocoalesce'],
      ],
      notes: [
        'Each sample opens a connection, warms it with 100 queries, then times all queries issued at once.',
        `The batch rows issue the same ${count.toLocaleString('en-US')} queries as ${count / PER_PIPELINE} client.batch calls of ${PER_PIPELINE} at once: one Sync per ${PER_PIPELINE} (one implicit transaction each), as libpq's pipeline does. The other edgepg rows send a Sync per query: each query its own transaction, so that independent calls cannot roll each other back.`,
        "postgres.js runs with named prepared statements (what its tagged templates do), as edgepg's statement cache does (Bind and Execute only, once the statement is known); pg sends Parse for the unnamed statement with every query.",
        'The relay runs in its own process; with PostgreSQL, the client and the relay, three busy processes share 2 cores.',
        "The relay paces a pipeline's stream of short answers (pipelinePacing, 1 ms by default): after 32 short reads in a row with the client silent it stops reading PostgreSQL for 1 ms, so what comes meanwhile goes out as one WebSocket frame (without it, a frame and a write system call per query). The client then reads a few large frames where over TCP it may read each answer on its own, so the relay row can come out above the TCP row.",
      ],
    },
    {
      id: 'throughput-relay-cpu',
      title: 'Relay CPU per pipelined query (the same runs)',
      unit: 'relay CPU µs per query',
      better: 'lower',
      rows: [...THROUGH_RELAY].map((id) => rowOf(id, cpu.get(id)!)),
      compare: [
        ['edgepg-ws', 'neon-ws'],
        [BATCH_WS, 'edgepg-ws'],
      ],
      notes: [
        'process.cpuUsage() (user + system) of the relay process over each timed run ÷ its queries: what forwarding costs the relay (it does not parse the queries; it relays WebSocket frames to TCP and back).',
      ],
    },
    {
      id: 'throughput-server-cpu',
      title: "PostgreSQL's CPU per pipelined query (the same runs)",
      unit: 'server CPU µs per query',
      better: 'lower',
      rows: ORDER.filter((id) => server.has(id)).map((id) => rowOf(id, server.get(id)!)),
      limits: [
        {
          label: 'the wire, a Sync per query',
          of: { row: RAW },
          rows: ['edgepg', 'edgepg-ws'],
          why: 'What the server spends on the same queries from a client that sends nothing else (pre-encoded Bind + Execute + Sync each).',
        },
        {
          label: `the wire, a Sync per ${PER_PIPELINE}`,
          of: { row: RAW_BATCH },
          rows: [BATCH, BATCH_WS],
          why: `The same with a Sync per ${PER_PIPELINE}, as the batch rows and libpq send.`,
        },
      ],
      compare: [
        ['edgepg', BATCH],
        [BATCH, LIBPQ],
        ['edgepg', RAW],
      ],
      notes: [
        "utime + stime of every PostgreSQL process (the postmaster, live backends and workers, and the postmaster's reaped children for backends that already exited, as pgbench's has) from /proc, before and after each timed run, ÷ its queries; 10 ms ticks. The libpq row also counts its backend's start and login (a few ms), so it is above the wire's row for the same Syncs.",
        'A Sync per query makes the server end a transaction, send ReadyForQuery and flush its socket once per query; a batch of 100 does that once: the gap between the per-query and batch rows is what the isolation of separate calls costs the server, whatever the client.',
      ],
    },
  ]
}

/** `count` queries as client.batch calls of PER_PIPELINE, all issued at once; checks every answer. */
async function batches(client: Client, count: number) {
  const all = await Promise.all(
    Array.from({ length: count / PER_PIPELINE }, (_, b) =>
      client.batch<{ n: number }>(
        Array.from(
          { length: PER_PIPELINE },
          (_, i) => ['select $1::int as n', [b * PER_PIPELINE + i]] as const,
        ),
      ),
    ),
  )
  check(
    all.flatMap((results) => results.map((r) => r.rows)),
    count,
  )
}

function edgepgConnect(e: Endpoint, isWebSocket: boolean) {
  const transport = isWebSocket ? webSocket({ url: `ws://${e.relay}/v1` }) : nodeSocket()
  return connect(url(e, isWebSocket ? e.db : e.tcp), { transport })
}

/** Every query must have answered its own parameter. */
function check(all: unknown[][], count: number) {
  let sum = 0
  for (const rows of all) sum += (rows[0] as { n: number }).n
  if (sum !== (count * (count - 1)) / 2) throw new Error(`wrong results: sum ${sum}`)
}
