/**
 * An example Worker that queries PostgreSQL with edgepg, imported by its public package exports.
 *
 * - `GET /tcp?n=41`: straight to PostgreSQL over `cloudflare:sockets`;
 * - `GET /ws?n=41`: through an edgepg relay (or Neon's wsproxy) at `RELAY_URL`, over a WebSocket;
 * - `GET /error?via=tcp|ws`: a statement that fails; answers with its SQLSTATE;
 * - `GET /not-driven`: forgets `connection.run()`, and shows the error that says so instead of hanging;
 * - `GET /pool?via=tcp|ws`: a pool made for this request, several queries at once, a transaction, and
 *   `ctx.waitUntil(pool.end())` so nothing outlives the request.
 *
 * Each request opens its own connection: a Worker cannot share sockets between requests. The connection is
 * driven by `ctx.waitUntil(connection.run())`, so it keeps running until `client.end()` has finished.
 */
import { type Client, connect, createPool, isDatabaseError, isPgError, type Transport } from '@edgepg/client'
import { cloudflareSocket } from '@edgepg/client/cloudflare'
import { webSocket } from '@edgepg/client/websocket'

export interface Env {
  /** `postgres://user:password@host:5432/database`; a secret (`wrangler secret put DATABASE_URL`). */
  DATABASE_URL: string
  /** The relay's WebSocket URL, e.g. `wss://relay.example.com/v1`. */
  RELAY_URL?: string
}

/** The one thing this Worker needs from the runtime's ExecutionContext. */
interface Context {
  waitUntil(promise: Promise<unknown>): void
}

export default {
  async fetch(request: Request, env: Env, ctx: Context): Promise<Response> {
    const url = new URL(request.url)
    try {
      switch (url.pathname) {
        case '/tcp':
        case '/ws':
          return await withClient(env, ctx, url.pathname === '/tcp' ? 'tcp' : 'ws', async (client) => {
            const n = Number(url.searchParams.get('n') ?? 41)
            const { rows } = await client.query(
              'select $1::int + 1 as answer, system_user as "user", current_database() as database',
              [n],
            )
            return Response.json({ rows })
          })
        case '/error':
          return await withClient(
            env,
            ctx,
            url.searchParams.get('via') === 'ws' ? 'ws' : 'tcp',
            async (client) => {
              await client.query('select 1 / $1::int as never', [0])
              return Response.json({ rows: [] })
            },
          )
        case '/not-driven':
          return await notDriven(env, ctx)
        case '/pool':
          return await pooled(env, ctx, url.searchParams.get('via') === 'ws' ? 'ws' : 'tcp')
        default:
          return Response.json({ routes: ['/tcp', '/ws', '/error', '/not-driven', '/pool'] }, { status: 404 })
      }
    } catch (error) {
      return errorResponse(error)
    }
  },
}

function transport(env: Env, via: 'tcp' | 'ws'): Transport {
  if (via === 'tcp') return cloudflareSocket()
  if (!env.RELAY_URL) throw new Error('RELAY_URL is not set: the /ws routes need a relay')
  return webSocket({ url: env.RELAY_URL })
}

/** Connects, drives the connection for as long as the Worker runs, and ends it after `use`. */
async function withClient(
  env: Env,
  ctx: Context,
  via: 'tcp' | 'ws',
  use: (client: Client) => Promise<Response>,
): Promise<Response> {
  const [client, connection] = await connect(env.DATABASE_URL, { transport: transport(env, via) })
  ctx.waitUntil(connection.run())
  try {
    return await use(client)
  } finally {
    ctx.waitUntil(client.end())
  }
}

/** A pool for this request: it drives its own connections, and `pool.end()` closes them when done. */
async function pooled(env: Env, ctx: Context, via: 'tcp' | 'ws'): Promise<Response> {
  const pool = createPool(env.DATABASE_URL, { transport: transport(env, via), max: 3 })
  try {
    const rows = await Promise.all(
      [1, 2, 3, 4, 5, 6].map((n) => pool.queryOne<{ n: number }>('select $1::int * 10 as n', [n])),
    )
    const total = await pool.transaction(async (tx) => {
      const { sum } = await tx.queryOne<{ sum: number }>(
        'select sum(x)::int as sum from generate_series(1, 4) x',
      )
      return sum
    })
    return Response.json({ rows, total, size: pool.stats.size })
  } finally {
    ctx.waitUntil(pool.end())
  }
}

/** The mistake this route makes on purpose: it never calls `connection.run()`. */
async function notDriven(env: Env, ctx: Context): Promise<Response> {
  const [client, connection] = await connect(env.DATABASE_URL, { transport: cloudflareSocket() })
  try {
    await client.query('select 1')
    return Response.json({ rows: [] })
  } catch (error) {
    return errorResponse(error)
  } finally {
    // Nothing was sent, so the connection is still good: drive it now only to close it cleanly.
    ctx.waitUntil(connection.run())
    ctx.waitUntil(client.end())
  }
}

/** Errors as JSON: the edgepg error kind, the SQLSTATE for server errors, and the message. */
function errorResponse(error: unknown): Response {
  if (isDatabaseError(error)) {
    return Response.json(
      { error: { kind: error.kind, code: error.code, message: error.message } },
      { status: 400 },
    )
  }
  if (isPgError(error)) {
    return Response.json({ error: { kind: error.kind, message: error.message } }, { status: 500 })
  }
  const message = error instanceof Error ? error.message : String(error)
  return Response.json({ error: { kind: 'worker', message } }, { status: 500 })
}
