/**
 * The answers of the relay's own HTTP routes, without any HTTP framework: the hono app (./app.ts) and the
 * Node entry's plain `node:http` answers (./runtime/node-http.ts) both build them from here, so that the two
 * cannot drift apart.
 */
import type { RelayMetrics } from './metrics.ts'

/** The path of HTTP queries (Neon's `/sql` API). */
export const SQL_PATH = '/sql'

/** The body of the 426 on the relay path for a request that is not an upgrade. */
export const UPGRADE_REQUIRED_TEXT = 'upgrade required: connect with a WebSocket'

/** The body of every unknown path's 404 (and of `/metrics` without its token). */
export const NOT_FOUND_TEXT = 'not found'

/** The content type of `/metrics` (Prometheus text exposition 0.0.4). */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

/** `/healthz`: 200 with the open session count, or 503 while the relay drains. */
export function healthAnswer(
  metrics: RelayMetrics,
  isDraining: boolean,
): { status: 200 | 503; body: { status: string; openSessions?: number } } {
  return isDraining
    ? { status: 503, body: { status: 'draining' } }
    : { status: 200, body: { status: 'ok', openSessions: metrics.openSessions } }
}

const encoder = new TextEncoder()

/** Whether `authorization` carries the metrics token (always, when none is configured). Constant time. */
export function isMetricsAllowed(token: string | undefined, authorization: string | undefined): boolean {
  if (token === undefined) return true
  const given = encoder.encode(authorization ?? '')
  const expected = encoder.encode(`Bearer ${token}`)
  let difference = given.length ^ expected.length
  for (let i = 0; i < expected.length; i++) difference |= (given[i] ?? 0) ^ expected[i]!
  return difference === 0
}
