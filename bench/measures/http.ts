/**
 * What the HTTP-query measures share: `fetch` over a kept keep-alive connection or over a new connection per
 * call, a count of the TCP connections `fetch` opened, fixed-count concurrent callers, and the relay child's
 * `/metrics` counters and CPU time.
 *
 * Node's `fetch` is undici's; Node does not export undici's `Agent`, but undici keeps its global dispatcher
 * under `Symbol.for('undici.globalDispatcher.1')` (the key every undici copy shares; set on the first call
 * of `fetch`), so its constructor is the `Agent` of the `fetch` Node runs. A new `Agent` has no connection:
 * a call through it opens a new TCP connection, which the `undici:client:connected` diagnostics channel
 * reports, so every sample checks how many connections it opened instead of assuming it.
 */
import { subscribe } from 'node:diagnostics_channel'
import type { Fetch } from '@edgepg/client/http'
import { neonConfig } from '@neondatabase/serverless'
import type { Endpoint } from '../drivers.ts'
import type { RelayChild } from '../setup.ts'
import { sleep } from '../stats.ts'

interface Dispatcher {
  close(): Promise<void>
}
type AgentClass = new (options?: Record<string, unknown>) => Dispatcher

let opened = 0
subscribe('undici:client:connected', () => {
  opened++
})

/** TCP connections Node's `fetch` has opened since the process started. */
export const connectionsOpened = (): number => opened

function agentClass(): AgentClass {
  // Node loads undici, which sets its global dispatcher, on the first call of fetch.
  void fetch('data:,').then((response) => response.arrayBuffer())
  const dispatcher = (globalThis as Record<symbol, unknown>)[Symbol.for('undici.globalDispatcher.1')]
  const Agent = (dispatcher as { constructor?: unknown } | undefined)?.constructor
  if (typeof Agent !== 'function') {
    throw new Error(`expected undici's global dispatcher (an Agent) in this Node, found ${typeof dispatcher}`)
  }
  return Agent as AgentClass
}

/** A `fetch` with a dispatcher of its own; `close()` ends its connections. */
export interface OwnFetch {
  fetch: Fetch
  close(): Promise<void>
}

const through =
  (dispatcher: Dispatcher): Fetch =>
  (url, init) =>
    fetch(url, { ...init, dispatcher } as RequestInit)

/**
 * `fetch` over one undici `Agent` kept for the whole measure: after a first call its connection stays open
 * (keep-alive), as a serverless runtime keeps `fetch` connections across invocations.
 */
export function keptAliveFetch(): OwnFetch {
  const agent = new (agentClass())()
  return { fetch: through(agent), close: () => agent.close() }
}

/**
 * `fetch` with a new undici `Agent` for every call, so every call opens a new TCP connection (a fresh process
 * or isolate). `close()` ends them all afterwards, outside the timed part.
 */
export function freshConnectionFetch(): OwnFetch {
  const Agent = agentClass()
  const agents: Dispatcher[] = []
  return {
    fetch: (url, init) => {
      const agent = new Agent()
      agents.push(agent)
      return through(agent)(url, init)
    },
    close: async () => {
      await Promise.all(agents.splice(0).map((agent) => agent.close()))
    },
  }
}

/**
 * After a response, undici hands its connection back on a later tick: a call made at once can open a second
 * connection. An invocation that follows an earlier one starts well after that; this wait stands for it.
 */
export const settle = () => sleep(20)

/** The connection string the relay receives: PostgreSQL itself (the relay dials it). */
export const connectionString = (e: Endpoint, search = '') =>
  `postgres://${encodeURIComponent(e.user)}:${encodeURIComponent(e.password)}@${e.db.host}:${e.db.port}/${e.database}${search}`

/** The relay's (or its latency proxy's) `/sql` URL. */
export const sqlUrl = (e: Endpoint) => `http://${e.relay}/sql`

/**
 * Runs `total` calls of `call(i)` from `callers` concurrent callers, each taking the next index when its
 * previous call has settled. Rejects with the first failure (after every caller stopped).
 */
export async function concurrently(
  callers: number,
  total: number,
  call: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0
  let failure: unknown
  await Promise.all(
    Array.from({ length: Math.min(callers, total) }, async () => {
      while (failure === undefined && next < total) {
        const i = next++
        try {
          await call(i)
        } catch (error) {
          failure ??= error
        }
      }
    }),
  )
  if (failure !== undefined) throw failure
}

/** The value of `name` in the relay's `/metrics` (read directly, not through a latency proxy). */
export async function relayMetric(port: number, name: string): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`)
  const text = await response.text()
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)
  if (!match) throw new Error(`expected ${name} in the relay's /metrics, found none`)
  return Number(match[1])
}

/** The relay child's CPU time (user + system) in µs, from `process.cpuUsage()` in the child. */
export async function relayCpu(relay: RelayChild): Promise<number> {
  const usage = await relay.child.ask<{ user: number; system: number }>('cpu', 'cpu')
  return usage.user + usage.system
}

/** Checks a one-row result `{ n }` (edgepg's and Neon's shapes alike). */
export function expectN(rows: readonly unknown[], n: number): void {
  const value = (rows[0] as { n?: unknown } | undefined)?.n
  if (rows.length !== 1 || value !== n) {
    throw new Error(`expected one row with n = ${n}, found ${rows.length} rows, n = ${String(value)}`)
  }
}

/**
 * Runs `body` and then puts back `neonConfig`'s `fetchEndpoint` and `fetchFunction`, which are global: the
 * neon() rows set them for their rounds only.
 */
export async function withNeonConfigRestored<T>(body: () => Promise<T>): Promise<T> {
  const before = { fetchEndpoint: neonConfig.fetchEndpoint, fetchFunction: neonConfig.fetchFunction }
  try {
    return await body()
  } finally {
    neonConfig.fetchEndpoint = before.fetchEndpoint
    neonConfig.fetchFunction = before.fetchFunction
  }
}
