/**
 * The relay as a Cloudflare Worker (`wrangler.toml` at the repository root). The same hono app serves
 * `/healthz`, `/metrics` and the 426 on `/v1`; an upgrade passes the same {@link Gate} (token, Origin, target
 * policy), then a `WebSocketPair` is relayed to PostgreSQL over `cloudflare:sockets` by a
 * Worker session (./worker-session.ts: the shared session core behind Worker adapters).
 *
 * Differences from the Node entry, each forced by the platform:
 * - Targets are an exact `host:port` allowlist ({@link createAllowlistPolicy}): a Worker cannot resolve names,
 *   so it cannot check or pin the address a listed name leads to.
 * - Connection limits and `/metrics` count per isolate, not per deployment; Cloudflare runs many isolates.
 * - The client IP is `CF-Connecting-IP`, set by Cloudflare.
 *
 * Settings come from the environment, with the names the CLI reads (`EDGEPG_ALLOW`, `EDGEPG_TARGET`,
 * `EDGEPG_ORIGIN`, `EDGEPG_TOKEN_SECRETS`, …; lists comma-separated or TOML arrays). Put secrets in Worker
 * secrets (`wrangler secret put EDGEPG_TOKEN_SECRETS`), never in `wrangler.toml`.
 */
import { connect } from 'cloudflare:sockets'
import type { Context } from 'hono'
import { createApp } from '../app.ts'
import { ConfigError, type RelayConfig, resolveConfig } from '../config.ts'
import { Gate, offeredProtocols } from '../gate.ts'
import { createLogger, type Logger } from '../log.ts'
import { RelayMetrics } from '../metrics.ts'
import { createAllowlistPolicy } from '../policy/allowlist.ts'
import { createOriginCheck } from '../policy/origin.ts'
import { createTokenVerifier } from '../policy/token.ts'
import { messageOf, safely } from '../session-core.ts'
import { createSqlHandler } from '../sql/route.ts'
import { configFromEnv, type HyperdriveRoute, hyperdriveFromEnv, type RelayEnv } from './worker-config.ts'
import { startWorkerSession } from './worker-session.ts'
import { createWorkerBackends } from './worker-sql.ts'

export type { RelayEnv } from './worker-config.ts'

interface WorkerRelay {
  config: RelayConfig
  gate: Gate
  app: ReturnType<typeof createApp>
  metrics: RelayMetrics
  logger: Logger
}

/** What a Worker invocation offers besides the request (`ctx`). */
interface ExecutionContextLike {
  waitUntil(promise: Promise<unknown>): void
}

/** One relay per isolate, built from the environment (fixed for the isolate's life) on the first request. */
let relay: WorkerRelay | ConfigError | undefined

export default {
  async fetch(request: Request, env: RelayEnv, ctx?: ExecutionContextLike): Promise<Response> {
    relay ??= build(env)
    const built = relay
    if (built instanceof ConfigError) {
      console.error(JSON.stringify({ level: 'error', msg: 'relay misconfigured', error: built.message }))
      return new Response('relay misconfigured', { status: 500 })
    }
    try {
      if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket')
        return await built.app.fetch(request, env, ctx as never)
      return await upgrade(built, request)
    } catch (error) {
      // A relay bug: logged, answered with 500, and no other request is affected.
      safely(() => built.logger.log('error', 'request failed', { error: messageOf(error) }))
      return new Response('internal error', { status: 500, headers: { 'content-type': 'text/plain' } })
    }
  },
}

async function upgrade(relay: WorkerRelay, request: Request): Promise<Response> {
  const { config, gate, metrics, logger } = relay
  const ip = request.headers.get('cf-connecting-ip') ?? 'unknown'
  const decision = await gate.admit({
    target: request.url,
    origin: request.headers.get('origin') ?? undefined,
    protocols: offeredProtocols(request.headers.get('sec-websocket-protocol')),
    ip,
  })
  if (!decision.ok) {
    logger.log('info', 'upgrade refused', { ip, status: decision.status, reason: decision.reason })
    return new Response(decision.body, { status: decision.status, headers: { 'content-type': 'text/plain' } })
  }
  try {
    const { 0: client, 1: server } = new WebSocketPair()
    server.accept()
    server.binaryType = 'arraybuffer'
    const session = startWorkerSession(
      server,
      {
        id: crypto.randomUUID(),
        ip,
        target: decision.target,
        dial: decision.dial,
        expiresAt: decision.expiresAt,
        onClose: () => decision.release(),
      },
      {
        config,
        metrics,
        logger,
        dial: ({ host, port }) => connect({ hostname: host, port }, { allowHalfOpen: false }),
      },
    )
    logger.log('info', 'session opened', { session: session.info.id, ip, target: decision.target })
    const headers: Record<string, string> = decision.protocol
      ? { 'sec-websocket-protocol': decision.protocol }
      : {}
    return new Response(null, { status: 101, webSocket: client, headers })
  } catch (error) {
    decision.release()
    throw error
  }
}

function build(env: RelayEnv): WorkerRelay | ConfigError {
  try {
    const config = resolveConfig(configFromEnv(env))
    const metrics = new RelayMetrics()
    const logger = createLogger(config.logLevel)
    let policy: ReturnType<typeof createAllowlistPolicy>
    try {
      policy = createAllowlistPolicy({ allow: config.allow, targets: config.targets })
    } catch (error) {
      throw new ConfigError('EDGEPG_ALLOW', (error as Error).message)
    }
    const origin = createOriginCheck({
      allowedOrigins: config.allowedOrigins,
      allowMissingOrigin: config.allowMissingOrigin,
    })
    const gate = new Gate({
      config,
      metrics,
      policy,
      verifier:
        config.tokenSecrets.length > 0
          ? createTokenVerifier({ secrets: config.tokenSecrets, audience: config.tokenAudience })
          : undefined,
      origin,
    })
    const hyperdrive = hyperdriveFromEnv(env)
    const sql = config.sql ? sqlRoute({ config, gate, origin, metrics, logger }, hyperdrive) : undefined
    return {
      config,
      gate,
      metrics,
      logger,
      app: createApp({ metrics, metricsToken: config.metricsToken, isDraining: () => false, sql }),
    }
  } catch (error) {
    return error instanceof ConfigError ? error : new ConfigError('environment', (error as Error).message)
  }
}

/**
 * `/sql` on a Worker: a connection per request (./worker-sql.ts), kept alive past the response by the
 * invocation's `waitUntil` until it has ended. The plain-HTTP check sees Cloudflare's TLS termination as the
 * request URL's scheme: an `https:` request reached Cloudflare encrypted; anything else needs
 * `EDGEPG_BEHIND_TLS` (e.g. workerd behind a TLS proxy of your own).
 */
function sqlRoute(
  shared: Omit<Parameters<typeof createSqlHandler>[0], 'backends'>,
  hyperdrive: HyperdriveRoute | undefined,
) {
  return (c: Context) => {
    const request = c.req.raw
    const waitUntil = (promise: Promise<unknown>) => {
      try {
        c.executionCtx.waitUntil(promise)
      } catch {
        // No execution context (a direct `app.fetch` call): the promise runs on by itself.
      }
    }
    const backends = createWorkerBackends({ config: shared.config, waitUntil, hyperdrive })
    const ip = request.headers.get('cf-connecting-ip') ?? 'unknown'
    // Never judged from `cf-connecting-ip`: outside Cloudflare's edge a client can send it.
    const isSecure = new URL(request.url).protocol === 'https:'
    return createSqlHandler({ ...shared, backends })(request, { ip, isLoopback: isSecure })
  }
}
