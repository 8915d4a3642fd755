/**
 * The relay's memory, each case in a fresh relay process:
 * - idle: N relayed sessions that logged in and then send nothing. Each holds what a real idle session holds
 *   in the relay: the WebSocket, the session, and an open TCP connection upstream. The upstream is a stub
 *   that answers the startup like a trust login (AuthenticationOk, ReadyForQuery), because PostgreSQL cannot
 *   hold 10,000 backends on this machine; a smaller sample with real PostgreSQL backends checks that the cost
 *   per session is the same. N is capped by the per-process file-descriptor limit (2 descriptors per session).
 * - slow reader: a WebSocket client that reads a large result at a fixed slow rate; the relay's RSS is
 *   sampled during the transfer.
 */
import { readFileSync } from 'node:fs'
import { type AddressInfo, createServer, type Socket } from 'node:net'
import { WebSocket } from 'ws'
import { FrontendWriter } from '../../client/src/protocol/index.ts'
import { rssOf, startChild } from '../children.ts'
import type { Context } from '../context.ts'
import { type Measure, row } from '../report.ts'
import { onCleanup, startRelayChild } from '../setup.ts'
import { sleep } from '../stats.ts'

const MB = 1024 * 1024

/** How the relay of these measures runs (bench/relay-child.js, children.ts). */
const RELAY_AS_DEPLOYED =
  'The relay runs as edgepg-relay does: the built proxy/dist (plain JavaScript, so no TypeScript stripper is loaded, ~30 MB of RSS), with the V8 flags the CLI relaunches itself with (--max-semi-space-size=8), in a process of its own.'

interface Memory {
  rss: number
  heapUsed: number
  sessions: number
}

export interface IdleResult {
  measure: Measure
  requested: number
  held: number
  kbPerSession: number
  isLinear: boolean
}

export async function idleSessions(ctx: Context): Promise<IdleResult> {
  const limit = openFileLimit()
  const requested = ctx.quick ? 1000 : 10_000
  // the relay needs 2 descriptors per session, plus its listening socket, stdio, IPC and Node's own
  const total = Math.min(requested, Math.floor((limit - 64) / 2))
  ctx.log(`relay idle sessions: ${total} (file descriptor limit ${limit})`)

  const stub = await startStubPostgres()
  onCleanup(() => stub.close())
  const relay = await startRelayChild({ idleTimeout: 600_000, pingInterval: 600_000 })
  const memory = () => relay.child.ask<Memory>('memory', 'memory')
  const clients = await startChild('./idle-clients-child.ts', {
    BENCH_RELAY_URL: `ws://127.0.0.1:${relay.port}/v1?address=127.0.0.1:${stub.port}`,
    BENCH_USER: 'bench',
    BENCH_DATABASE: 'bench',
  })
  onCleanup(() => clients.child.stop())

  const steps = [0, 0.25, 0.5, 0.75, 1].map((f) => Math.round(f * total))
  const points: { sessions: number; rss: number; heapUsed: number }[] = []
  for (const step of steps) {
    if (step > 0) {
      const opened = await clients.child.ask<{ total: number; failed: number }>(
        { type: 'open', total: step },
        'opened',
        300_000,
      )
      if (opened.failed > 0) ctx.log(`  ${opened.failed} sessions failed to open`)
    }
    await sleep(200)
    const m = await memory()
    points.push({ sessions: m.sessions, rss: m.rss, heapUsed: m.heapUsed })
    ctx.log(
      `  ${m.sessions} sessions: RSS ${(m.rss / MB).toFixed(1)} MB, heap ${(m.heapUsed / MB).toFixed(1)} MB`,
    )
  }
  const first = points[0]!
  const last = points.at(-1)!
  const held = last.sessions
  const perSession = held > 0 ? (last.rss - first.rss) / held : Number.NaN
  const half = points[2]!
  const slopeLow = (half.rss - first.rss) / Math.max(1, half.sessions - first.sessions)
  const slopeHigh = (last.rss - half.rss) / Math.max(1, last.sessions - half.sessions)
  await clients.child.stop()
  await relay.child.stop()

  // the same with real PostgreSQL backends, as many as max_connections leaves room for
  const realCount = ctx.quick ? 50 : 200
  const realRelay = await startRelayChild({ idleTimeout: 600_000, pingInterval: 600_000 })
  const realClients = await startChild('./idle-clients-child.ts', {
    BENCH_RELAY_URL: `ws://127.0.0.1:${realRelay.port}/v1?address=${ctx.pg.host}:${ctx.pg.port}`,
    BENCH_USER: ctx.pg.roles.trust.user,
    BENCH_DATABASE: ctx.pg.database,
  })
  onCleanup(() => realClients.child.stop())
  await sleep(200)
  // Half first: the young generation grows once with the first logins; the second half's cost is per session.
  await realClients.child.ask({ type: 'open', total: realCount / 2 }, 'opened', 120_000)
  await sleep(200)
  const realHalf = await realRelay.child.ask<Memory>('memory', 'memory')
  await realClients.child.ask({ type: 'open', total: realCount }, 'opened', 120_000)
  await sleep(200)
  const after = await realRelay.child.ask<Memory>('memory', 'memory')
  const realPerSession = (after.rss - realHalf.rss) / Math.max(1, after.sessions - realHalf.sessions)
  await realClients.child.stop()
  await realRelay.child.stop()
  await stub.close()

  const rows = points.map((p) =>
    row(
      `idle-${p.sessions}`,
      `relay RSS with ${p.sessions.toLocaleString('en-US')} idle sessions`,
      true,
      [p.rss / MB],
      `heap ${(p.heapUsed / MB).toFixed(1)} MB`,
    ),
  )
  rows.push(
    row(
      'real-backends',
      `relay RSS with ${after.sessions} idle sessions to real PostgreSQL backends`,
      true,
      [after.rss / MB],
      `${(realPerSession / 1024).toFixed(1)} KB per session from ${realHalf.sessions} to ${after.sessions} (stub upstream: ${(perSession / 1024).toFixed(1)} KB)`,
    ),
  )
  const measure: Measure = {
    id: 'relay-idle',
    title: `Relay memory with idle relayed sessions (one Node process)`,
    unit: 'MB RSS',
    better: 'lower',
    rows,
    compare: [],
    notes: [
      `${(perSession / 1024).toFixed(1)} KB of RSS per idle session; growth per session from 0 to 50%: ${(slopeLow / 1024).toFixed(1)} KB, from 50 to 100%: ${(slopeHigh / 1024).toFixed(1)} KB.`,
      'An idle session here: WebSocket upgraded, startup sent, upstream TCP connection dialed and logged in (AuthenticationOk + ReadyForQuery), then no traffic. The upstream is a stub PostgreSQL endpoint in the bench process (10,000 real backends do not fit this machine); the real-backend row shows the same cost per session.',
      total < requested
        ? `Capped at ${total} sessions, not ${requested}: this sandbox limits every process to ${limit} file descriptors (ulimit -n, hard), and each relayed session holds 2.`
        : `All ${requested} sessions requested.`,
      'RSS is read after a full GC in the relay process (node --expose-gc).',
      RELAY_AS_DEPLOYED,
      'RSS per session includes what V8 keeps of its young generation after the burst of handshakes: with V8’s default bound it grows past 64 MB for 10,000 handshakes and stays resident (about 16 KB per session instead of 9); edgepg-relay bounds it with --max-semi-space-size=8. The real-backend row counts its cost per session from its second half of sessions, after that growth (up to 16 MB, once).',
    ],
  }
  return { measure, requested, held, kbPerSession: perSession / 1024, isLinear: slopeHigh <= 1.5 * slopeLow }
}

export interface SlowReaderResult {
  measure: Measure
  baseline: number
  peak: number
  size: number
}

export async function slowReader(
  ctx: Context,
  megabytes = ctx.quick ? 20 : 200,
  rate = ctx.quick ? 20 : 40, // MB/s
): Promise<SlowReaderResult> {
  ctx.log(`relay slow reader: ${megabytes} MB result read at ${rate} MB/s`)
  const relay = await startRelayChild()
  const pid = relay.child.process.pid!
  await sleep(200)
  const baseline = (await relay.child.ask<Memory>('memory', 'memory')).rss
  let peak = baseline
  const sampler = setInterval(async () => {
    const rss = await rssOf(pid)
    if (rss !== undefined && rss > peak) peak = rss
  }, 50)
  onCleanup(() => clearInterval(sampler))
  const started = performance.now()
  const received = await readSlowly(
    `ws://127.0.0.1:${relay.port}/v1?address=${ctx.pg.host}:${ctx.pg.port}`,
    ctx.pg.roles.trust.user,
    ctx.pg.database,
    `select repeat('x', ${MB}) from generate_series(1, ${megabytes})`,
    rate * MB,
  )
  const seconds = (performance.now() - started) / 1000
  clearInterval(sampler)
  await relay.child.stop()
  const measure: Measure = {
    id: 'relay-slow-reader',
    title: `Relay memory while a slow client reads a ${megabytes} MB result`,
    unit: 'MB RSS',
    better: 'lower',
    rows: [
      row('baseline', 'relay RSS before', true, [baseline / MB]),
      row(
        'peak',
        'relay RSS peak during the transfer',
        true,
        [peak / MB],
        `sampled every 50 ms over ${seconds.toFixed(1)} s`,
      ),
    ],
    compare: [],
    notes: [
      `The client read ${(received / MB).toFixed(0)} MB at about ${rate} MB/s (it pauses its socket when ahead of the rate); PostgreSQL produces far faster, so the relay must hold it back.`,
      'The relay pauses its TCP socket to PostgreSQL when more than highWaterMark (1 MiB) waits to be sent to the client.',
      'Upstream sockets read into one buffer the relay shares (`onread` of net.connect), and long reads are copied into blocks of a relay-wide pool that go back to it once written to the client: the peak is about baseline + highWaterMark + the pool, whatever the size of the result. (With a fresh buffer per read, as Node reads by default, freed reads waited for V8 to collect about 64 MB of external memory: +54 MiB.)',
      RELAY_AS_DEPLOYED,
    ],
  }
  return { measure, baseline, peak, size: megabytes * MB }
}

/** Logs in as a trust role over a raw WebSocket, runs `sql`, and reads the answer at `bytesPerSecond`. */
function readSlowly(url: string, user: string, database: string, sql: string, bytesPerSecond: number) {
  return new Promise<number>((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false })
    const w = new FrontendWriter()
    let received = 0
    let start = 0
    let isQuerySent = false
    let tail = Buffer.alloc(0)
    ws.on('open', () => ws.send(w.startup({ user, database, client_encoding: 'UTF8' }).finish()))
    ws.on('message', (data: Buffer) => {
      tail = Buffer.concat([tail, data.subarray(-6)]).subarray(-6)
      // ReadyForQuery: Z, length 5, status I
      const isReady = tail.equals(Buffer.from([0x5a, 0, 0, 0, 5, 0x49]))
      if (!isQuerySent) {
        if (!isReady) return
        isQuerySent = true
        start = performance.now()
        ws.send(w.query(sql).finish())
        return
      }
      received += data.length
      if (isReady) {
        ws.close()
        resolve(received)
        return
      }
      const ahead = received / bytesPerSecond - (performance.now() - start) / 1000
      if (ahead > 0.005) {
        ws.pause()
        setTimeout(() => ws.resume(), ahead * 1000)
      }
    })
    ws.on('error', reject)
    ws.on('close', (code) => reject(new Error(`relay closed the session early (${code})`)))
  })
}

/** A TCP endpoint that answers any startup packet like a trust login and then stays silent. */
async function startStubPostgres(): Promise<{ port: number; close(): Promise<void> }> {
  // AuthenticationOk (R, length 8, code 0), ReadyForQuery (Z, length 5, 'I')
  const login = Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 0, 0x5a, 0, 0, 0, 5, 0x49])
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    socket.once('data', () => socket.write(login))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  let isClosed = false
  return {
    port: (server.address() as AddressInfo).port,
    close() {
      if (isClosed) return Promise.resolve()
      isClosed = true
      for (const socket of sockets) socket.destroy()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}

/** The soft limit on open files of this process (children inherit it). */
function openFileLimit(): number {
  const limits = readFileSync('/proc/self/limits', 'utf8')
  const match = /Max open files\s+(\d+)/.exec(limits)
  return match ? Number(match[1]) : 1024
}
