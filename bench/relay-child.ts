/**
 * Runs the relay in its own process so that its memory is its own. The parent passes the relay config as JSON
 * in `BENCH_RELAY_CONFIG` and talks over IPC: `{ type: 'ready', port }` once listening; on `'memory'` it
 * answers with `process.memoryUsage()` after a full GC and the open session count; on `'cpu'` with
 * `process.cpuUsage()` (µs, user and system, since start); `'stop'` shuts it down.
 * It exits by itself when the parent goes away.
 */
import { silentLogger, startRelay } from '@edgepg/proxy'

const config = JSON.parse(process.env.BENCH_RELAY_CONFIG ?? '{}')
const relay = await startRelay(config, { logger: silentLogger })
const gc = (globalThis as { gc?: () => void }).gc

process.on('message', (message) => {
  if (message === 'memory') {
    gc?.()
    process.send?.({ type: 'memory', ...process.memoryUsage(), sessions: relay.sessions.size })
  } else if (message === 'cpu') {
    process.send?.({ type: 'cpu', ...process.cpuUsage() })
  } else if (message === 'stop') {
    void relay.shutdown().finally(() => process.exit(0))
  }
})
process.on('disconnect', () => process.exit(0))
process.send?.({ type: 'ready', port: relay.port })
