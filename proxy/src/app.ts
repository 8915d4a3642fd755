/**
 * The relay's HTTP routes as one runtime-neutral hono app. The WebSocket upgrade itself is handled by each
 * runtime entry (Node: `ws` on the server's 'upgrade' event), which asks the {@link Gate} first.
 */
import { RELAY_PATH } from '@edgepg/shared'
import { type Context, Hono } from 'hono'
import type { RelayMetrics } from './metrics.ts'
import {
  healthAnswer,
  isMetricsAllowed,
  METRICS_CONTENT_TYPE,
  NOT_FOUND_TEXT,
  SQL_PATH,
  UPGRADE_REQUIRED_TEXT,
} from './routes.ts'

export { SQL_PATH } from './routes.ts'

export interface AppDeps {
  metrics: RelayMetrics
  /** When set, `/metrics` needs `Authorization: Bearer <metricsToken>` (others get the unknown-path 404). */
  metricsToken?: string | undefined
  /** True while the relay drains on shutdown. */
  isDraining(): boolean
  /**
   * Answers every method on {@link SQL_PATH} (the runtime's `/sql` handler, which reads the peer from the
   * context). Unset (`sql: false`): `/sql` is an unknown path.
   */
  sql?: ((c: Context) => Response | Promise<Response>) | undefined
  /** Adds routes of its own (the playground) after the relay's, which therefore always win. */
  mount?: ((app: Hono) => void) | undefined
}

/**
 * Builds the relay's HTTP app: `/healthz`, `/metrics`, a 426 on `/v1` for requests that are not upgrades, and
 * `/sql` when the runtime serves it.
 *
 * @example
 * ```ts
 * const app = createApp({ metrics: new RelayMetrics(), isDraining: () => false })
 * const response = await app.request('/healthz')
 * ```
 */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono()
  app.get('/healthz', (c) => {
    const { status, body } = healthAnswer(deps.metrics, deps.isDraining())
    return c.json(body, status)
  })
  app.get('/metrics', (c) =>
    isMetricsAllowed(deps.metricsToken, c.req.header('authorization'))
      ? c.body(deps.metrics.render(), 200, { 'content-type': METRICS_CONTENT_TYPE })
      : c.text(NOT_FOUND_TEXT, 404),
  )
  app.get(RELAY_PATH, (c) => c.text(UPGRADE_REQUIRED_TEXT, 426, { upgrade: 'websocket' }))
  const sql = deps.sql
  if (sql) app.all(SQL_PATH, (c) => sql(c))
  deps.mount?.(app)
  app.notFound((c) => c.text(NOT_FOUND_TEXT, 404))
  return app
}
