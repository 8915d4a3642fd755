/**
 * The Node relay's HTTP requests (everything but upgrades). The relay's own routes (`/healthz`, `/metrics`,
 * the 426 of the relay path, the 404 of an unknown path) are answered here with `node:http` alone, with the
 * same status, headers and body as the hono app (./app.ts) gives. Everything else goes to that app, loaded
 * on first use: `/sql`, the routes of `mount`, and request targets whose reading needs the URL parser
 * (percent-escapes, dot segments, the absolute form, an unusual Host). hono and `@hono/node-server` bring
 * Node's fetch implementation (undici, about 15 MB of RSS), which a relay that only relays never needs.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { RELAY_PATH } from '@edgepg/shared'
import type { AppDeps } from '../app.ts'
import {
  healthAnswer,
  isMetricsAllowed,
  METRICS_CONTENT_TYPE,
  NOT_FOUND_TEXT,
  SQL_PATH,
  UPGRADE_REQUIRED_TEXT,
} from '../routes.ts'

/** Handles one HTTP request (the 'request' listener of the relay's `node:http` server). */
export type HttpListener = (request: IncomingMessage, response: ServerResponse) => void

/**
 * A Host header that `@hono/node-server` takes as it is, without the URL parser (its own test): with any
 * other, the app answers (it may refuse the header with 400).
 */
const PLAIN_HOST = /^[a-z0-9._-]+(?::(?:[1-5]\d{3,4}|[6-9]\d{3}))?$/

/**
 * An origin-form request target whose path the URL parser leaves as it is: segments of unreserved characters
 * that do not start with a dot (no dot segment, no percent-escape, no backslash), then any query.
 */
const PLAIN_TARGET = /^((?:\/(?:[A-Za-z0-9_~-][A-Za-z0-9._~-]*)?)+)(?:\?[^#\\]*)?$/

const JSON_TYPE = 'application/json'
const TEXT_TYPE = 'text/plain; charset=UTF-8'

/**
 * The relay's HTTP listener: its own routes answered directly, the rest by the hono app of `deps`
 * (`createApp`), imported when the first such request comes. With `mount` set, every request goes to the
 * app, as the mounted routes may answer any path.
 */
export function createHttpListener(deps: AppDeps, onLoadError: (error: unknown) => void): HttpListener {
  let app: Promise<HttpListener> | undefined
  const toApp: HttpListener = (request, response) => {
    app ??= loadApp(deps)
    app.then(
      (listener) => listener(request, response),
      (error: unknown) => {
        app = undefined
        onLoadError(error)
        if (!response.headersSent) response.writeHead(500, { 'content-type': TEXT_TYPE })
        response.end('internal error')
      },
    )
  }
  return (request, response) => {
    if (deps.mount !== undefined || !answerPlainly(request, response, deps)) toApp(request, response)
  }
}

async function loadApp(deps: AppDeps): Promise<HttpListener> {
  const [{ createApp }, { getRequestListener }] = await Promise.all([
    import('../app.ts'),
    import('@hono/node-server'),
  ])
  return getRequestListener(createApp(deps).fetch, { overrideGlobalObjects: false })
}

/** Answers one of the relay's own routes; false (nothing written) when the request is the app's. */
function answerPlainly(request: IncomingMessage, response: ServerResponse, deps: AppDeps): boolean {
  const method = request.method
  if (method !== 'GET' && method !== 'HEAD') return false
  const host = request.headers.host
  if (host === undefined || !PLAIN_HOST.test(host)) return false
  const path = PLAIN_TARGET.exec(request.url ?? '')?.[1]
  if (path === undefined || (path === SQL_PATH && deps.sql !== undefined)) return false
  const isHead = method === 'HEAD'
  if (path === '/healthz') {
    const { status, body } = healthAnswer(deps.metrics, deps.isDraining())
    send(response, isHead, status, { 'content-type': JSON_TYPE }, JSON.stringify(body))
  } else if (path === '/metrics' && isMetricsAllowed(deps.metricsToken, request.headers.authorization)) {
    send(response, isHead, 200, { 'content-type': METRICS_CONTENT_TYPE }, deps.metrics.render())
  } else if (path === RELAY_PATH) {
    const headers = { 'content-type': TEXT_TYPE, upgrade: 'websocket' }
    send(response, isHead, 426, headers, UPGRADE_REQUIRED_TEXT)
  } else {
    send(response, isHead, 404, { 'content-type': TEXT_TYPE }, NOT_FOUND_TEXT)
  }
  return true
}

/** Writes a whole answer; a HEAD gets the headers only (no Content-Length, as hono's answer has none). */
function send(
  response: ServerResponse,
  isHead: boolean,
  status: number,
  headers: Record<string, string>,
  body: string,
): void {
  if (isHead) {
    response.writeHead(status, headers)
    response.end()
    return
  }
  response.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)) })
  response.end(body)
}
