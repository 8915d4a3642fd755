/**
 * Bytes allocated per pipelined query, by allocating function: V8's sampling heap profiler (objects freed by
 * minor and major GC included) over 5 × 10,000 `select $1::int` issued at once on one TCP connection, against
 * an embedded PostgreSQL of its own; then, unprofiled, the client's CPU per query and the rate.
 * `node scripts/launch.mjs node --conditions=source bench/alloc-profile.ts [batch]` (`batch`: the same queries as
 * client.batch calls of 100, one Sync each).
 * A measuring tool for the query path (issue 14), not part of `npm run bench`.
 */
import { Session } from 'node:inspector/promises'
import { connect } from '@edgepg/client'
import { nodeSocket } from '@edgepg/client/node'
import { startEmbeddedPostgres } from '../scripts/embedded-pg.ts'

/** A node of V8's sampling heap profile. */
interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number }
  selfSize: number
  children?: ProfileNode[]
}

const isBatch = process.argv[2] === 'batch'
const pg = await startEmbeddedPostgres()
const session = new Session()
session.connect()
try {
  const [client, connection] = await connect(pg.url(pg.roles.scram), { transport: nodeSocket() })
  const done = connection.run()
  /** 10,000 `select $1::int` at once, as separate queries or as batches of 100. */
  const burst = (count = 10_000) =>
    isBatch
      ? Promise.all(
          Array.from({ length: count / 100 }, (_, b) =>
            client.batch(
              Array.from({ length: 100 }, (_, i) => ['select $1::int as n', [b * 100 + i]] as const),
            ),
          ),
        )
      : Promise.all(Array.from({ length: count }, (_, i) => client.query('select $1::int as n', [i])))
  await burst(1000)
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 512,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  })
  for (let r = 0; r < 5; r++) await burst()
  const { profile } = await session.post('HeapProfiler.stopSampling')
  const self = new Map<string, number>()
  let total = 0
  const walk = (n: ProfileNode) => {
    const f = n.callFrame
    const key = `${f.functionName || '(anon)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`
    self.set(key, (self.get(key) ?? 0) + n.selfSize)
    total += n.selfSize
    for (const c of n.children ?? []) walk(c)
  }
  walk(profile.head)
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30))
    console.log(
      ((v / total) * 100).toFixed(1).padStart(5),
      `${(v / 50_000).toFixed(0).padStart(5)} B/query`,
      k,
    )
  console.log(`total ≈ ${(total / 50_000).toFixed(0)} B allocated per query`)
  // Then, with the profiler off: this process's CPU per query (GC threads included) and the rate, 9 rounds.
  const cpu: number[] = []
  const rate: number[] = []
  for (let r = 0; r < 9; r++) {
    const before = process.cpuUsage()
    const start = performance.now()
    await burst()
    const seconds = (performance.now() - start) / 1000
    const used = process.cpuUsage(before)
    cpu.push((used.user + used.system) / 10_000)
    rate.push(10_000 / seconds)
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!
  console.log(
    `client CPU ${median(cpu).toFixed(1)} µs per query, ${Math.round(median(rate)).toLocaleString('en-US')} queries/s (medians of 9 rounds of 10,000)`,
  )
  await client.end()
  await done
} finally {
  session.disconnect()
  await pg.stop()
}
