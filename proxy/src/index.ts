/**
 * The edgepg relay: a WebSocket → PostgreSQL TCP relay with an allowlist policy, tokens, origin checks,
 * limits and backpressure, and Neon-compatible HTTP queries (`POST /sql`) over a pool of connections.
 * `startRelay()` runs it on Node; `createApp()` is the runtime-neutral HTTP app.
 */
export { RELAY_PATH } from '@edgepg/shared'
export { type AppDeps, createApp, SQL_PATH } from './app.ts'
export { ConfigError, DEFAULTS, type RelayConfig, resolveConfig } from './config.ts'
export { createLogger, type Logger, silentLogger } from './log.ts'
export { RelayMetrics } from './metrics.ts'
export { mintToken } from './policy/index.ts'
export { type NodeRelayDeps, type RunningRelay, startRelay } from './runtime/node.ts'
export { type Dialer, RelaySession, tcpDialer } from './session.ts'
export {
  createSqlHandler,
  type SqlBackends,
  type SqlHandler,
  type SqlLease,
  type SqlPeer,
  type SqlRouteDeps,
} from './sql/route.ts'
