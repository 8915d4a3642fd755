/**
 * A one-shot query from a fresh invocation (a new `http()` or connection each sample, nothing cached but
 * what the row says), through a latency proxy in front of the relay (RTT 80 ms); the relay reaches
 * PostgreSQL over loopback without added delay, as when it sits next to the database.
 *
 * - `http()` warm: the `fetch` connection of an earlier invocation is still open (keep-alive), and the
 *   relay's pool holds a backend for the key. Target: 1 round trip.
 * - `http()` cold: a new TCP connection (a new undici Agent), the relay's pool still warm (the pool is the
 *   relay's, not the invocation's).
 * - `http()` cold, no pooled backend: as cold, with a connection string no earlier request used (its own
 *   `application_name`), so the relay logs in a new backend (over loopback) before it runs the query.
 * - WebSocket, `pipelineConnect: 'scram'`: connect, SCRAM, `select 1` (edgepg's salted-key cache cleared).
 * - Neon's `neon()` with `fetchEndpoint` at our relay's `/sql`, over a kept connection, like the warm row.
 *
 * Each sample checks the number of TCP connections `fetch` opened (0 warm, 1 cold) and the backends the relay
 * opened (1 for the "no pooled backend" row), and fails otherwise.
 */

import { http } from '@edgepg/client/http'
import { neon, neonConfig } from '@neondatabase/serverless'
import { clearScramCache } from '../../client/src/auth/index.ts'
import type { Context } from '../context.ts'
import { drivers } from '../drivers.ts'
import { interleave } from '../interleave.ts'
import { startLatencyProxy } from '../latency-proxy.ts'
import { type Measure, row } from '../report.ts'
import { endpoint, onCleanup } from '../setup.ts'
import {
  connectionString,
  connectionsOpened,
  expectN,
  freshConnectionFetch,
  keptAliveFetch,
  relayMetric,
  settle,
  sqlUrl,
  withNeonConfigRestored,
} from './http.ts'

const ONE_WAY = 40
const BACKENDS_OPENED = 'edgepg_relay_sql_backends_opened_total'

const ROWS = [
  { id: 'http-warm', label: 'edgepg http() (warm connection)', isOurs: true, isNewTcp: false },
  { id: 'http-cold', label: 'edgepg http() (new connection)', isOurs: true, isNewTcp: true },
  {
    id: 'http-cold-backend',
    label: 'edgepg http() (new connection, no pooled backend)',
    isOurs: true,
    isNewTcp: true,
  },
  { id: 'ws-fast', label: "edgepg WebSocket (pipelineConnect: 'scram')", isOurs: true, isNewTcp: true },
  { id: 'neon-http', label: 'neon() (warm connection)', isOurs: false, isNewTcp: false },
] as const
type RowId = (typeof ROWS)[number]['id']
const HTTP_ROWS: RowId[] = ['http-warm', 'http-cold', 'http-cold-backend', 'neon-http']

/** Two measures from the same samples: milliseconds, and round trips (ms ÷ RTT, +1 for a new TCP connection). */
export async function httpLatency(ctx: Context): Promise<Measure[]> {
  const rounds = ctx.quick ? 1 : 5
  const rtt = 2 * ONE_WAY
  ctx.log(`http latency: RTT ${rtt} ms through a latency proxy, ${rounds} rounds`)
  const proxy = await startLatencyProxy({ host: '127.0.0.1', port: ctx.relay.port }, ONE_WAY)
  onCleanup(() => proxy.close())
  const e = endpoint(ctx.pg, ctx.pg.roles.scram, { relayPort: proxy.port })
  const url = sqlUrl(e)
  const warm = keptAliveFetch()
  onCleanup(() => warm.close())
  const neonWarm = keptAliveFetch()
  onCleanup(() => neonWarm.close())
  let fresh = 0

  /** One `select 1` timed from the `http()` call; checks the TCP connections it opened. */
  const timedHttp = async (
    fetch: typeof warm.fetch,
    newConnections: number,
    search = '',
  ): Promise<number> => {
    const before = connectionsOpened()
    const start = performance.now()
    const db = http(connectionString(e, search), { url, fetch })
    const { rows } = await db.query('select 1 as n')
    const elapsed = performance.now() - start
    expectN(rows, 1)
    const count = connectionsOpened() - before
    if (count !== newConnections) {
      throw new Error(`expected ${newConnections} new TCP connections for one query, found ${count}`)
    }
    return elapsed
  }
  /** The earlier invocation: leaves `fetch`'s connection open and a backend in the relay's pool. */
  const earlierInvocation = async () => {
    const { rows } = await http(connectionString(e), { url, fetch: warm.fetch }).query('select 1 as n')
    expectN(rows, 1)
    await settle()
  }

  const run: Record<RowId, () => Promise<number>> = {
    'http-warm': async () => {
      await earlierInvocation()
      return timedHttp(warm.fetch, 0)
    },
    'http-cold': async () => {
      await earlierInvocation()
      const cold = freshConnectionFetch()
      try {
        return await timedHttp(cold.fetch, 1)
      } finally {
        await cold.close()
      }
    },
    'http-cold-backend': async () => {
      const cold = freshConnectionFetch()
      const before = await relayMetric(ctx.relay.port, BACKENDS_OPENED)
      try {
        const elapsed = await timedHttp(cold.fetch, 1, `?application_name=bench-fresh-${++fresh}`)
        const count = (await relayMetric(ctx.relay.port, BACKENDS_OPENED)) - before
        if (count !== 1) throw new Error(`expected the relay to open 1 backend, found ${count}`)
        return elapsed
      } finally {
        await cold.close()
      }
    },
    'ws-fast': () => {
      clearScramCache()
      return drivers['edgepg-ws-fast'].firstRow(e)
    },
    'neon-http': async () => {
      neonConfig.fetchEndpoint = () => url
      neonConfig.fetchFunction = neonWarm.fetch
      expectN(await neon(connectionString(e)).query('select 1 as n'), 1)
      await settle()
      const before = connectionsOpened()
      const start = performance.now()
      const rows = await neon(connectionString(e)).query('select 1 as n')
      const elapsed = performance.now() - start
      expectN(rows, 1)
      const count = connectionsOpened() - before
      if (count !== 0) throw new Error(`expected no new TCP connection for neon(), found ${count}`)
      return elapsed
    },
  }
  const results = await withNeonConfigRestored(() =>
    interleave(
      ROWS.map(({ id }) => ({ id, run: run[id] })),
      rounds,
    ),
  )
  const rowsIn = (toUnit: (ms: number, isNewTcp: boolean) => number) =>
    ROWS.map(({ id, label, isOurs, isNewTcp }) => {
      const r = results.get(id)!
      return row(
        id,
        label,
        isOurs,
        r.samples.map((ms) => toUnit(ms, isNewTcp)),
        r.note,
      )
    })
  const compare: [string, string][] = [
    ['http-warm', 'ws-fast'],
    ['http-cold', 'ws-fast'],
    ['http-cold-backend', 'ws-fast'],
    ['http-warm', 'neon-http'],
  ]
  const notes = [
    `Through a latency proxy in front of the relay (${ONE_WAY} ms each way); the relay reaches PostgreSQL over loopback with no added delay, as when it sits next to the database.`,
    'Every sample is a fresh invocation: a new http() (or neon(), or connection) and one select 1. Warm rows run an untimed query first, so fetch keeps a connection open and the relay pool holds a backend; each warm sample is checked to open no TCP connection, each new-connection sample exactly one (undici:client:connected).',
    'New connection: a new undici Agent per call, no TLS (https would add one round trip for TLS 1.3); the relay pool is warm, as it is for any invocation after the first with these credentials.',
    'No pooled backend: a connection string no earlier request used (its own application_name), so the relay opens and logs in a backend (SCRAM over loopback) first; each sample checks the relay opened exactly one.',
    "WebSocket: connect with pipelineConnect: 'scram' (salted-key cache cleared), select 1; the relay dials PostgreSQL and a backend is forked per connection.",
    "neon(): @neondatabase/serverless's HTTP query function, neonConfig.fetchEndpoint at our relay's /sql, neonConfig.fetchFunction over a kept connection.",
  ]
  return [
    {
      id: 'http-latency',
      title: `One-shot query from a fresh invocation, ms (RTT ${rtt} ms)`,
      unit: 'ms',
      better: 'lower',
      rows: rowsIn((ms) => ms),
      compare,
      notes,
      limits: [
        {
          label: 'one round trip',
          of: { value: rtt },
          why: `A request and its response cannot take less than one RTT (${rtt} ms). The TCP handshake of a new connection goes to the loopback proxy and is not delayed, so the new-connection rows have the same floor here (in round trips they count one more); without a pooled backend the relay logs in over loopback, nearly free.`,
          rows: HTTP_ROWS,
        },
        {
          label: 'the WebSocket floor',
          of: { value: 3 * rtt },
          why: `WebSocket upgrade, startup + client-first → server-first, client-final + query → row: 3 × ${rtt} ms (SCRAM needs the server's nonce first; the TCP handshake is not delayed).`,
          rows: ['ws-fast'],
        },
      ],
    },
    {
      id: 'http-round-trips',
      title: `One-shot query from a fresh invocation, round trips (RTT ${rtt} ms)`,
      unit: 'round trips',
      better: 'lower',
      rows: rowsIn((ms, isNewTcp) => ms / rtt + (isNewTcp ? 1 : 0)),
      compare,
      notes: [
        `ms ÷ ${rtt}, plus 1 where the call opens a TCP connection (its handshake with the loopback proxy is not delayed), as the round-trips measure counts.`,
      ],
      limits: [
        {
          label: 'a request over a kept connection',
          of: { value: 1 },
          why: 'The request and its response: 1 round trip.',
          rows: ['http-warm', 'neon-http'],
        },
        {
          label: 'a request over a new connection',
          of: { value: 2 },
          why: 'The TCP handshake, then the request and its response: 2 round trips (3 with TLS 1.3); a backend the relay logs in over loopback adds no client round trip.',
          rows: ['http-cold', 'http-cold-backend'],
        },
        {
          label: "the protocol's floor through the relay",
          of: { value: 4 },
          why: 'TCP handshake, WebSocket upgrade, startup + client-first → server-first, client-final + query → row: 4 round trips, as in the round-trips measure.',
          rows: ['ws-fast'],
        },
      ],
    },
  ]
}
