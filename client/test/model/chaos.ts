/**
 * The chaos soak (`npm run soak -- --chaos`): seeded, mixed, pipelined load through the fault proxy
 * (latency, 1-byte slicing, bandwidth, blackhole, reset, cut after N bytes), on three routes: TCP
 * (client → faults → PostgreSQL), through the relay (client → relay → faults → PostgreSQL) and in front of
 * the relay (client → faults → relay → PostgreSQL). Checked: no result that is not its own; every operation
 * settles within its deadline plus one second; every rejection a `PgError` of an expected kind; no
 * unhandled rejection; once faults stop, the pool serves 200 queries; every insert that resolved is in
 * the table; no backend of the soak is left in pg_stat_activity.
 */
import { type ConnectOptions, createPool, type Transport } from '@edgepg/client'
import { nodeSocket } from '@edgepg/client/node'
import { webSocket } from '@edgepg/client/websocket'
import pg from 'pg'
import type { PgServer } from '../../../scripts/embedded-pg.ts'
import { type Faults, startFaultProxy } from '../../../test/fault-proxy.ts'
import { LIMITS, type OpContext, pick, prng, unexpected } from './chaos-ops.ts'
import { describe, sleep } from './tracker.ts'

export interface ChaosOptions {
  server: PgServer
  relayUrl: string
  seed: number
  durationMs: number
  transports: ('tcp' | 'ws')[]
  /** Operations in flight at once per route. */
  concurrency?: number
  log: (line: string) => void
}

export interface ChaosReport {
  failures: string[]
}

type Route = 'tcp' | 'relay' | 'relay-front'

/** One fault phase: which faults, for how long. */
function nextPhase(random: () => number): { faults: Faults; ms: number; resetAll: boolean; label: string } {
  const ms = 1000 + Math.floor(random() * 2500)
  const roll = random()
  const pickInt = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1))
  if (roll < 0.15) return { faults: {}, ms, resetAll: false, label: 'none' }
  if (roll < 0.3) {
    const latency = pickInt(1, 40)
    return { faults: { latency }, ms, resetAll: false, label: `latency ${latency} ms` }
  }
  if (roll < 0.42) return { faults: { slice: 1 }, ms, resetAll: false, label: 'slice 1 byte' }
  if (roll < 0.52) {
    const slice = pickInt(2, 17)
    const latency = pickInt(0, 5)
    return { faults: { slice, latency }, ms, resetAll: false, label: `slice ${slice}, latency ${latency}` }
  }
  if (roll < 0.6) {
    const bandwidth = pickInt(20_000, 200_000)
    return { faults: { bandwidth }, ms, resetAll: false, label: `bandwidth ${bandwidth} B/s` }
  }
  if (roll < 0.72)
    return { faults: { blackhole: true }, ms: pickInt(300, 2500), resetAll: false, label: 'blackhole' }
  if (roll < 0.8) return { faults: {}, ms, resetAll: true, label: 'reset every connection' }
  if (roll < 0.88)
    return { faults: { reset: true }, ms: pickInt(200, 1500), resetAll: false, label: 'refuse new' }
  const cutAfter = pickInt(200, 30_000)
  return { faults: { cutAfter }, ms, resetAll: false, label: `cut after ${cutAfter} B` }
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const routes: Route[] = []
  if (options.transports.includes('tcp')) routes.push('tcp')
  if (options.transports.includes('ws')) routes.push('relay', 'relay-front')
  const failures: string[] = []
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown) => unhandled.push(reason)
  process.on('unhandledRejection', onUnhandled)
  const started = performance.now()
  try {
    for (const [i, route] of routes.entries()) {
      const routeFailures = await runRoute(
        route,
        options,
        options.seed + i,
        options.durationMs / routes.length,
      )
      failures.push(...routeFailures.map((f) => `[${route}] ${f}`))
    }
  } finally {
    await sleep(50)
    process.off('unhandledRejection', onUnhandled)
  }
  for (const reason of unhandled) failures.push(`unhandled rejection: ${describe(reason)}`)
  const seconds = ((performance.now() - started) / 1000).toFixed(1)
  options.log(`chaos: seed ${options.seed}, ${routes.join('+')}, ${seconds} s; ${failures.length} failures`)
  for (const failure of failures) options.log(`FAILURE ${failure}`)
  return { failures }
}

async function runRoute(
  route: Route,
  options: ChaosOptions,
  seed: number,
  durationMs: number,
): Promise<string[]> {
  const { server } = options
  const random = prng(seed)
  const failures: string[] = []
  const fail = (what: string) => {
    if (failures.length < 200) failures.push(what)
  }
  const upstream =
    route === 'relay-front' ? relayAddress(options.relayUrl) : { host: server.host, port: server.port }
  const proxy = await startFaultProxy(upstream)
  const applicationName = `edgepg_chaos_${route.replace('-', '_')}`
  const pgHost = route === 'relay-front' ? server.host : proxy.host
  const pgPort = route === 'relay-front' ? server.port : proxy.port
  const url = `${server.url(server.roles.scram).replace(`${server.host}:${server.port}`, `${pgHost}:${pgPort}`)}?application_name=${applicationName}`
  const transport = (): Transport => {
    if (route === 'tcp') return nodeSocket()
    if (route === 'relay') return webSocket({ url: options.relayUrl })
    return webSocket({ url: `ws://${proxy.host}:${proxy.port}/v1` })
  }
  const connectOptions: ConnectOptions = {
    transport: transport(),
    connectTimeout: LIMITS.connect,
    queryTimeout: LIMITS.query,
  }
  const pool = createPool(url, {
    ...connectOptions,
    max: 4,
    pipeline: 16,
    acquireTimeout: LIMITS.acquire,
    idleTimeout: 0,
    healthCheckAfter: 0,
  })
  const checker = new pg.Client({
    host: server.host,
    port: server.port,
    user: server.superuser.user,
    password: server.superuser.password,
    database: server.database,
  })
  checker.on('error', (error) =>
    fail(`the checker's own connection to PostgreSQL failed: ${describe(error)}`),
  )
  await checker.connect()
  const table = `chaos_${route.replace('-', '_')}_${seed}`
  await checker.query(`create table ${table} (token text not null)`)
  await checker.query(`grant all on ${table} to public`)

  let tokens = 0
  const ctx: OpContext = {
    pool,
    connectOptions,
    url,
    table,
    random,
    token: () => `c${seed}-${tokens++}`,
    committed: new Set(),
    misattributed: (what) => fail(`MISATTRIBUTED ${what}`),
  }
  const counts = { ops: 0, ok: 0, rejected: 0, late: 0, phases: 0 }
  const byError = new Map<string, number>()
  const inflight = new Set<Promise<void>>()
  const concurrency = options.concurrency ?? 24
  const routeStart = performance.now()
  const stopAt = routeStart + durationMs

  const launch = () => {
    const op = pick(random)
    counts.ops++
    const begun = performance.now()
    const bound = op.deadline + 1000
    let isSettled = false
    const watchdog = setTimeout(() => {
      if (!isSettled)
        fail(`${op.name}: not settled ${bound} ms after it started (deadline ${op.deadline} ms)`)
    }, bound)
    const running = op
      .run(ctx)
      .then(
        () => {
          counts.ok++
        },
        (error: unknown) => {
          counts.rejected++
          const key = isKnownError(error)
          byError.set(key, (byError.get(key) ?? 0) + 1)
          const wrong = unexpected(error)
          if (wrong) fail(`${op.name}: unexpected rejection ${wrong}`)
        },
      )
      .finally(() => {
        isSettled = true
        clearTimeout(watchdog)
        const took = performance.now() - begun
        if (took > bound) counts.late++
        inflight.delete(running)
      })
    inflight.add(running)
  }

  // Faults change by phase while the load keeps `concurrency` operations in flight.
  const faulting = (async () => {
    while (performance.now() < stopAt) {
      const phase = nextPhase(random)
      counts.phases++
      proxy.faults = phase.faults
      if (phase.resetAll) proxy.resetAll()
      await sleep(Math.min(phase.ms, Math.max(0, stopAt - performance.now())))
    }
    proxy.faults = {}
  })()
  while (performance.now() < stopAt) {
    while (inflight.size < concurrency) launch()
    await Promise.race([...inflight, sleep(50)])
  }
  await faulting
  proxy.faults = {}
  const drainStart = performance.now()
  await Promise.race([Promise.allSettled([...inflight]), sleep(12_000)])
  if (inflight.size > 0)
    fail(
      `${inflight.size} operations still pending ${Math.round(performance.now() - drainStart)} ms after the load stopped`,
    )

  // Faults are off: the pool serves 200 queries, each its own.
  const after = Array.from({ length: 200 }, () => ctx.token())
  const served = await Promise.allSettled(
    after.map((t) => pool.query<{ token: string }>('select $1::text as token', [t])),
  )
  let servedOk = 0
  for (const [i, result] of served.entries()) {
    if (result.status === 'fulfilled') {
      servedOk++
      if (result.value.rows[0]?.token !== after[i])
        fail(`MISATTRIBUTED after faults: ${JSON.stringify(result.value.rows)} for ${after[i]}`)
    } else fail(`after faults stopped, pool.query rejected: ${describe(result.reason)}`)
  }

  // Every insert that resolved is there.
  const { rows } = await checker.query(`select token from ${table}`)
  const present = new Set(rows.map((r: { token: string }) => r.token))
  const lost = [...ctx.committed].filter((t) => !present.has(t))
  if (lost.length > 0)
    fail(`${lost.length} resolved inserts are missing from the table: ${lost.slice(0, 5).join(', ')}`)

  const ending = await Promise.race([pool.end().then(() => 'ended'), sleep(5000).then(() => 'pending')])
  if (ending !== 'ended') fail('pool.end() did not settle within 5 s after the faults stopped')
  const orphans = await waitForNoBackends(checker, applicationName)
  if (orphans.length > 0) fail(`orphaned backends: ${orphans.join('; ')}`)
  await checker.query(`drop table ${table}`)
  await checker.end()
  await proxy.close()

  const errors = [...byError.entries()].map(([k, n]) => `${k} ×${n}`).join(', ')
  options.log(
    `  ${route}: seed ${seed}, ${Math.round(durationMs / 1000)} s, ${counts.phases} fault phases, ${counts.ops} operations ` +
      `(${counts.ok} ok, ${counts.rejected} rejected, ${counts.late} late), ${ctx.committed.size} rows written, ` +
      `after faults ${servedOk}/200 served; rejections: ${errors || 'none'}; ${failures.length} failures`,
  )
  return failures
}

function relayAddress(wsUrl: string): { host: string; port: number } {
  const u = new URL(wsUrl)
  return { host: u.hostname, port: Number(u.port) }
}

/** A short key for a rejection: kind and SQLSTATE. */
function isKnownError(error: unknown): string {
  const { kind, code } = (error ?? {}) as { kind?: string; code?: string }
  return code ? `db ${code}` : (kind ?? 'non-PgError')
}

async function waitForNoBackends(checker: pg.Client, applicationName: string): Promise<string[]> {
  const deadline = Date.now() + 10_000
  for (;;) {
    const { rows } = await checker.query(
      'select pid, state, query from pg_stat_activity where application_name = $1',
      [applicationName],
    )
    if (rows.length === 0 || Date.now() > deadline) {
      return rows.map((r: { pid: number; state: string; query: string }) => `${r.pid} ${r.state} ${r.query}`)
    }
    await sleep(100)
  }
}
