/**
 * Runs the relay in its own process so that its memory is its own, as `edgepg-relay` runs it: the built
 * JavaScript of `proxy/dist` (children.ts builds it first), plain JavaScript itself, so that Node loads no
 * TypeScript stripper (about 30 MB of RSS a deployed relay does not have). The parent passes the relay
 * config as JSON in `BENCH_RELAY_CONFIG` and talks over IPC: `{ type: 'ready', port }` once listening; on
 * `'memory'` it answers with `process.memoryUsage()` after a full GC, the V8 heap spaces (physical and used
 * bytes) and the open session count; on `'cpu'`
 * with `process.cpuUsage()` (µs, user and system, since start); on `{ type: 'snapshot', path }` it writes a
 * heap snapshot there (`v8.writeHeapSnapshot`) and answers `{ type: 'snapshot' }`; `'stop'` shuts it down.
 * It exits by itself when the parent goes away.
 */
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8'
import { silentLogger } from '../proxy/dist/log.js'
import { startRelay } from '../proxy/dist/runtime/node.js'

const config = JSON.parse(process.env.BENCH_RELAY_CONFIG ?? '{}')
const relay = await startRelay(config, { logger: silentLogger })
const gc = globalThis.gc

process.on('message', (message) => {
  if (message === 'memory') {
    gc?.()
    const spaces = Object.fromEntries(
      getHeapSpaceStatistics().map((s) => [
        s.space_name,
        { physical: s.physical_space_size, used: s.space_used_size },
      ]),
    )
    process.send?.({ type: 'memory', ...process.memoryUsage(), spaces, sessions: relay.sessions.size })
  } else if (message === 'cpu') {
    process.send?.({ type: 'cpu', ...process.cpuUsage() })
  } else if (message?.type === 'snapshot') {
    writeHeapSnapshot(message.path)
    process.send?.({ type: 'snapshot' })
  } else if (message === 'stop') {
    void relay.shutdown().finally(() => process.exit(0))
  }
})
process.on('disconnect', () => process.exit(0))
process.send?.({ type: 'ready', port: relay.port })
