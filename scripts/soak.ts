/**
 * `npm run soak`: the lifecycle model (client/test/model) for far longer than `npm test` runs it, over TCP
 * and through a relay, against an embedded PostgreSQL and relay of its own.
 * `npm run soak -- --chaos`: seeded, mixed, pipelined load through the fault proxy instead
 * (client/test/model/chaos.ts).
 *
 *   npm run soak -- [--runs N | --duration 10m] [--seed S] [--lanes L] [--transport tcp|ws|both]
 *                   [--max-commands N] [--shrink] [--path P] [--all]
 *   npm run soak -- --chaos [--duration 10m] [--seed S] [--transport tcp|ws|both]
 *
 * `--all` also runs the command variants listed in awaiting-fix.ts. Prints seed, counts, durations and
 * every failure; exits 1 on any failure.
 */

import { nodeSocket } from '@edgepg/client/node'
import { webSocket } from '@edgepg/client/websocket'
import { type RunningRelay, silentLogger, startRelay } from '@edgepg/proxy'
import { awaitingFix } from '../client/test/model/awaiting-fix.ts'
import { runChaos } from '../client/test/model/chaos.ts'
import { type ModelEnv, type ModelReport, runModel } from '../client/test/model/model.ts'
import { startEmbeddedPostgres } from './embedded-pg.ts'

interface Flags {
  chaos: boolean
  runs: number | undefined
  durationMs: number | undefined
  seed: number
  lanes: number
  transports: ('tcp' | 'ws')[]
  maxCommands: number
  shrink: boolean
  path: string | undefined
  all: boolean
}

function parseFlags(argv: string[]): Flags {
  const flags: Flags = {
    chaos: false,
    runs: undefined,
    durationMs: undefined,
    seed: Date.now() % 2 ** 31,
    lanes: 6,
    transports: ['tcp', 'ws'],
    maxCommands: 8,
    shrink: false,
    path: undefined,
    all: false,
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const value = () => {
      const v = argv[++i]
      if (v === undefined) throw new Error(`${arg} needs a value`)
      return v
    }
    switch (arg) {
      case '--chaos':
        flags.chaos = true
        break
      case '--runs':
        flags.runs = positive(arg, value())
        break
      case '--duration':
        flags.durationMs = duration(value())
        break
      case '--seed':
        flags.seed = Number.parseInt(value(), 10)
        break
      case '--lanes':
        flags.lanes = positive(arg, value())
        break
      case '--max-commands':
        flags.maxCommands = positive(arg, value())
        break
      case '--transport': {
        const v = value()
        if (v !== 'tcp' && v !== 'ws' && v !== 'both')
          throw new Error(`--transport is tcp, ws or both, found ${v}`)
        flags.transports = v === 'both' ? ['tcp', 'ws'] : [v]
        break
      }
      case '--shrink':
        flags.shrink = true
        break
      case '--path':
        flags.path = value()
        break
      case '--all':
        flags.all = true
        break
      default:
        throw new Error(`unknown flag ${arg}: see the header of scripts/soak.ts`)
    }
  }
  if (flags.runs === undefined && flags.durationMs === undefined) {
    if (flags.chaos) flags.durationMs = 60_000
    else flags.runs = 20_000
  }
  return flags
}

function positive(flag: string, text: string): number {
  const n = Number(text)
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, found ${text}`)
  return n
}

/** `90`, `90s`, `10m`, `1h` → ms. */
function duration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text)
  if (!match) throw new Error(`--duration expects e.g. 90s, 10m or 1h, found ${text}`)
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? 's']!
  return Number(match[1]) * unit
}

const flags = parseFlags(process.argv.slice(2))
const logs: string[] = []
const server = await startEmbeddedPostgres({ log: (line) => logs.push(line) })
let relay: RunningRelay | undefined
let failed = false
try {
  relay = await startRelay(
    {
      port: 0,
      allow: ['127.0.0.1/32:*'],
      allowMissingOrigin: 'always',
      maxConnectionsPerIp: 10_000,
      maxConnections: 10_000,
      shutdownGrace: 1000,
    },
    { logger: silentLogger },
  )
  const wsUrl = relay.wsUrl
  console.log(`soak: PostgreSQL on ${server.host}:${server.port}, relay at ${wsUrl}, seed ${flags.seed}`)
  if (flags.chaos) {
    const report = await runChaos({
      server,
      relayUrl: wsUrl,
      seed: flags.seed,
      durationMs: flags.durationMs ?? 60_000,
      transports: flags.transports,
      log: (line) => console.log(line),
    })
    failed = report.failures.length > 0
  } else {
    failed = await soakModel(flags, (kind) => envFor(kind, wsUrl))
  }
} finally {
  if (failed) console.log(`PostgreSQL log (last 40 lines):\n${logs.slice(-40).join('\n')}`)
  await relay?.shutdown()
  await server.stop()
}
process.exit(failed ? 1 : 0)

function envFor(kind: 'tcp' | 'ws', wsUrl: string): ModelEnv {
  const applicationName = `edgepg_soak_${kind}`
  return {
    url: `${server.url(server.roles.scram)}?application_name=${applicationName}`,
    applicationName,
    transport: kind === 'ws' ? () => webSocket({ url: wsUrl }) : () => nodeSocket(),
    superuser: {
      host: server.host,
      port: server.port,
      user: server.superuser.user,
      password: server.superuser.password,
      database: server.database,
    },
    label: kind,
    awaitingFix: flags.all ? new Set() : awaitingFix,
  }
}

/** Batches of the model per transport until the run count or the duration is reached. */
async function soakModel(flags: Flags, env: (kind: 'tcp' | 'ws') => ModelEnv): Promise<boolean> {
  const started = performance.now()
  const deadline = flags.durationMs === undefined ? Number.POSITIVE_INFINITY : started + flags.durationMs
  const totals = { sequences: 0, commands: 0, promises: 0, batches: 0 }
  const failures: string[] = []
  const batchRuns = flags.path ? 1 : flags.lanes * 100
  let seed = flags.seed
  const done = () =>
    failures.length > 0 ||
    performance.now() > deadline ||
    (flags.runs !== undefined && totals.sequences >= flags.runs) ||
    (flags.path !== undefined && totals.batches > 0)
  console.log(
    `model: ${flags.runs ?? '∞'} sequences or ${flags.durationMs ?? '∞'} ms, ${flags.lanes} lanes, ` +
      `≤ ${flags.maxCommands} commands each, transports ${flags.transports.join('+')}, ` +
      `switched off: ${flags.all ? 'none' : [...awaitingFix].join(', ') || 'none'}`,
  )
  while (!done()) {
    for (const kind of flags.transports) {
      const left = flags.runs === undefined ? batchRuns : Math.max(1, flags.runs - totals.sequences)
      const report: ModelReport = await runModel(env(kind), {
        runs: Math.min(batchRuns, left),
        lanes: flags.path ? 1 : Math.min(flags.lanes, left),
        seed,
        maxCommands: flags.maxCommands,
        shrink: flags.shrink,
        ...(flags.path ? { path: flags.path } : {}),
      })
      totals.batches++
      totals.sequences += report.sequences
      totals.commands += report.commands
      totals.promises += report.promises
      failures.push(...report.failures.map((f) => `[${kind}, batch seed ${seed}] ${f}`))
      console.log(
        `  ${kind}: seed ${seed}: ${report.sequences} sequences, ${report.commands} commands, ` +
          `${report.promises} promises in ${report.durationMs} ms` +
          (report.failures.length ? `, ${report.failures.length} FAILED` : ''),
      )
      if (done()) break
    }
    seed = (seed + flags.lanes) % 2 ** 31
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1)
  console.log(
    `model soak: ${totals.sequences} sequences, ${totals.commands} commands, ${totals.promises} promises, ` +
      `${totals.batches} batches in ${seconds} s; ${failures.length} failures`,
  )
  for (const failure of failures) console.log(`FAILURE ${failure}`)
  return failures.length > 0
}
