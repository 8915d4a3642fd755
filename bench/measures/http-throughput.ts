/**
 * One-shot queries from 50 concurrent callers through the relay (no added latency), on a relay process of
 * this measure's own (its pool starts empty and its CPU time is this measure's alone):
 *
 * - backends the relay opens for the first 1,000 HTTP requests (its `/metrics` counter, and the distinct
 *   `pg_backend_pid()` the queries saw), against the pool's limit per key;
 * - queries/s: `http()`, Neon's `neon()`, a WebSocket session opened per call (connect, query, end) and a
 *   pool of WebSocket connections;
 * - the relay's CPU time per query in each of those (`process.cpuUsage()` of the relay child over the run).
 */
import { createPool } from '@edgepg/client'
import { http } from '@edgepg/client/http'
import { webSocket } from '@edgepg/client/websocket'
import { neon, neonConfig } from '@neondatabase/serverless'
import type { Context } from '../context.ts'
import { drivers } from '../drivers.ts'
import { interleave } from '../interleave.ts'
import { type Limit, type Measure, row } from '../report.ts'
import { endpoint, onCleanup, startRelayChild } from '../setup.ts'
import {
  concurrently,
  connectionString,
  connectionsOpened,
  expectN,
  keptAliveFetch,
  relayCpu,
  relayMetric,
  sqlUrl,
  withNeonConfigRestored,
} from './http.ts'

const CALLERS = 50
/** The relay's `/sql` pool limit per key in this measure (`sqlPoolMaxPerKey`, its default). */
export const POOL_MAX_PER_KEY = 10
const BACKENDS_REQUESTS = 1000
const BACKENDS_OPENED = 'edgepg_relay_sql_backends_opened_total'

const ROWS = [
  { id: 'http', label: 'edgepg http()', isOurs: true },
  { id: 'neon-http', label: 'neon()', isOurs: false },
  {
    id: 'ws-per-call',
    label: "edgepg WebSocket, a session per call (pipelineConnect: 'scram')",
    isOurs: true,
  },
  { id: 'ws-pool', label: `edgepg WebSocket, createPool (max ${POOL_MAX_PER_KEY})`, isOurs: true },
] as const
type RowId = (typeof ROWS)[number]['id']

/** The measures of this file, and the figures the targets table needs. */
export interface HttpThroughput {
  measures: Measure[]
  backendsPer1000: number
}

export async function httpThroughput(ctx: Context): Promise<HttpThroughput> {
  const rounds = ctx.quick ? 1 : 5
  const count: Record<RowId, number> = ctx.quick
    ? { http: 500, 'neon-http': 500, 'ws-per-call': 100, 'ws-pool': 500 }
    : { http: 2000, 'neon-http': 2000, 'ws-per-call': 300, 'ws-pool': 3000 }
  const relay = await startRelayChild({ sqlPoolMaxPerKey: POOL_MAX_PER_KEY })
  const e = endpoint(ctx.pg, ctx.pg.roles.scram, { relayPort: relay.port })
  const url = sqlUrl(e)
  const kept = keptAliveFetch()
  onCleanup(() => kept.close())
  const neonKept = keptAliveFetch()
  onCleanup(() => neonKept.close())
  const db = http(connectionString(e), { url, fetch: kept.fetch })

  ctx.log(`http backends: ${BACKENDS_REQUESTS} requests from ${CALLERS} callers on a fresh relay`)
  const openedBefore = await relayMetric(relay.port, BACKENDS_OPENED)
  const pids = new Set<number>()
  await concurrently(CALLERS, BACKENDS_REQUESTS, async () => {
    const { rows } = await db.query<{ pid: number }>('select pg_backend_pid() as pid')
    pids.add(rows[0]!.pid)
  })
  const backendsOpened = (await relayMetric(relay.port, BACKENDS_OPENED)) - openedBefore
  const backendsPer1000 = (backendsOpened * 1000) / BACKENDS_REQUESTS

  ctx.log(
    `http throughput: ${CALLERS} callers, ${Object.entries(count)
      .map(([id, n]) => `${id} ${n}`)
      .join(', ')} queries, ${rounds} rounds`,
  )
  const cpu = new Map<RowId, number[]>(ROWS.map(({ id }) => [id, []]))
  const clientCpu = new Map<RowId, number[]>(ROWS.map(({ id }) => [id, []]))
  const tcp = new Map<RowId, number[]>(ROWS.map(({ id }) => [id, []]))
  const check = (i: number) => (rows: readonly unknown[]) => expectN(rows, i)
  /**
   * Times `total` calls from CALLERS callers; records the relay's and this process's CPU µs per call and the
   * TCP connections fetch opened.
   */
  const timed = async (id: RowId, call: (i: number) => Promise<void>) => {
    const total = count[id]
    const cpuBefore = await relayCpu(relay)
    const tcpBefore = connectionsOpened()
    const clientBefore = process.cpuUsage()
    const start = performance.now()
    await concurrently(CALLERS, total, call)
    const seconds = (performance.now() - start) / 1000
    const client = process.cpuUsage(clientBefore)
    clientCpu.get(id)!.push((client.user + client.system) / total)
    cpu.get(id)!.push(((await relayCpu(relay)) - cpuBefore) / total)
    tcp.get(id)!.push(connectionsOpened() - tcpBefore)
    return total / seconds
  }
  const run: Record<RowId, () => Promise<number>> = {
    http: async () => {
      await concurrently(CALLERS, 2 * CALLERS, async (i) => check(i)((await db.query(q, [i])).rows))
      return timed('http', async (i) => check(i)((await db.query(q, [i])).rows))
    },
    'neon-http': async () => {
      neonConfig.fetchEndpoint = () => url
      neonConfig.fetchFunction = neonKept.fetch
      const sql = neon(connectionString(e))
      await concurrently(CALLERS, 2 * CALLERS, async (i) => check(i)(await sql.query(q, [i])))
      return timed('neon-http', async (i) => check(i)(await sql.query(q, [i])))
    },
    'ws-per-call': () =>
      timed('ws-per-call', async (i) => {
        const conn = await drivers['edgepg-ws-fast'].connect(e)
        try {
          check(i)(await conn.query(q, [i]))
        } finally {
          await conn.end()
        }
      }),
    'ws-pool': async () => {
      const pool = createPool(connectionString(e), {
        transport: webSocket({ url: `ws://${e.relay}/v1` }),
        max: POOL_MAX_PER_KEY,
      })
      try {
        await concurrently(CALLERS, 2 * CALLERS, async (i) => check(i)((await pool.query(q, [i])).rows))
        return await timed('ws-pool', async (i) => check(i)((await pool.query(q, [i])).rows))
      } finally {
        await pool.end()
      }
    },
  }
  let results: Awaited<ReturnType<typeof interleave>>
  try {
    results = await withNeonConfigRestored(() =>
      interleave(
        ROWS.map(({ id }) => ({ id, run: run[id] })),
        rounds,
      ),
    )
  } finally {
    await relay.child.stop()
  }
  const tcpNote = (id: RowId) => {
    const opened = tcp.get(id)!
    return id === 'http' || id === 'neon-http'
      ? `fetch opened ${opened.join(', ')} TCP connections in the timed runs`
      : undefined
  }
  const rowsOf = (values: (id: RowId) => number[], note: (id: RowId) => string | undefined) =>
    ROWS.map(({ id, label, isOurs }) => {
      const r = results.get(id)!
      return row(id, label, isOurs, r.note ? [] : values(id), r.note ?? note(id))
    })
  const compare: [string, string][] = [
    ['http', 'ws-per-call'],
    ['http', 'ws-pool'],
    ['http', 'neon-http'],
  ]
  /** Kept sessions on the same relay's 10 backends: what a one-shot call could at best cost. */
  const pooledLimit = (why: string): Limit => ({
    label: `${POOL_MAX_PER_KEY} kept WebSocket sessions (createPool)`,
    of: { row: 'ws-pool' },
    why: `The same ${CALLERS} callers on ${POOL_MAX_PER_KEY} sessions through the same relay, each kept open: no request to parse, no JSON to write, no login per call. ${why}`,
  })
  const measures: Measure[] = [
    {
      id: 'http-throughput',
      title: `One-shot queries from ${CALLERS} concurrent callers through the relay`,
      unit: 'queries/s',
      better: 'higher',
      rows: rowsOf((id) => results.get(id)!.samples, tcpNote),
      compare,
      notes: [
        `select $1::int from ${CALLERS} callers, each starting its next call when the last one settled; ${Object.entries(
          count,
        )
          .map(([id, n]) => `${n} calls for ${id}`)
          .join(
            ', ',
          )} per sample. No added latency; a relay process of this measure's own; PostgreSQL, the relay and the client share the two cores.`,
        `http() and neon() post over one undici Agent each (keep-alive; it opens as many connections as callers need) to the relay's /sql, whose pool holds at most ${POOL_MAX_PER_KEY} backends per key; the untimed warm-up of ${2 * CALLERS} calls opens them.`,
        "A session per call: connect (pipelineConnect: 'scram', the salted-key cache kept as a long-lived process keeps it), one query, end: a relayed WebSocket and a PostgreSQL backend each time.",
        `createPool over the WebSocket transport: ${POOL_MAX_PER_KEY} relayed sessions shared by the ${CALLERS} callers (opened before the clock starts).`,
      ],
      limits: [
        pooledLimit(
          `/sql holds at most ${POOL_MAX_PER_KEY} backends per key too, so a one-shot query runs on the same backends and can at best match it.`,
        ),
      ],
    },
    {
      id: 'http-relay-cpu',
      title: 'Relay CPU per query (same runs)',
      unit: 'relay CPU µs per query',
      better: 'lower',
      rows: rowsOf(
        (id) => cpu.get(id)!,
        () => undefined,
      ),
      compare: [
        ['http', 'ws-per-call'],
        ['http', 'ws-pool'],
      ],
      notes: [
        "process.cpuUsage() (user + system) of the relay child over each timed run ÷ its queries. For /sql the relay runs the query itself (edgepg's client, text results, JSON); for WebSocket it forwards bytes (and, per call, also accepts the upgrade, dials and relays the login).",
      ],
      limits: [
        pooledLimit("There the relay only forwards each query's bytes: the least a relay does per query."),
      ],
    },
    {
      id: 'http-client-cpu',
      title: 'Client CPU per query (same runs)',
      unit: 'client CPU µs per query',
      better: 'lower',
      rows: rowsOf(
        (id) => clientCpu.get(id)!,
        () => undefined,
      ),
      compare: [
        ['http', 'ws-per-call'],
        ['http', 'ws-pool'],
        ['http', 'neon-http'],
      ],
      notes: [
        "process.cpuUsage() of the bench process (the 50 callers) over each timed run ÷ its queries: Node's fetch (undici) for http() and neon(); connect, SCRAM (cached salted key) and a WebSocket per call; one query on a pooled WebSocket. On two shared cores this is CPU the relay and PostgreSQL do not get.",
      ],
      limits: [
        pooledLimit(
          'There the client writes and reads one query on an open socket: the least a call costs it.',
        ),
      ],
    },
    {
      id: 'http-backends',
      title: `Backends opened per ${BACKENDS_REQUESTS.toLocaleString('en-US')} HTTP requests (${CALLERS} callers, fresh relay)`,
      unit: 'backends',
      better: 'lower',
      rows: [
        row('http', `edgepg_relay_sql_backends_opened_total`, true, [backendsPer1000]),
        row('http-pids', 'distinct pg_backend_pid() seen', true, [(pids.size * 1000) / BACKENDS_REQUESTS]),
      ],
      compare: [],
      notes: [
        `The relay's pool holds at most ${POOL_MAX_PER_KEY} backends per key (sqlPoolMaxPerKey); ${CALLERS} callers wait for them in its queue. A WebSocket session per call opens one backend per request: ${BACKENDS_REQUESTS.toLocaleString('en-US')}.`,
      ],
    },
  ]
  return { measures, backendsPer1000 }
}

const q = 'select $1::int as n'
