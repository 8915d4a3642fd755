/**
 * The `/sql` handler (Neon's HTTP query API), runtime-neutral: web-standard `Request` in, `Response` out.
 *
 * Order of checks, cheapest first and nothing dialed before the last: method (OPTIONS is the preflight),
 * plain HTTP from a non-loopback peer (unless `behindTls`), the Neon headers and connection string, the
 * announced body size, then the {@link Gate} exactly as for an upgrade (limits, token, Origin, the
 * connection string's host:port against the policy; the same refusals), then the body, then a pooled
 * connection and the statements under the deadline. A client that goes away aborts the same signal as the
 * deadline: the statement is cancelled on the server and the connection is not reused. The answer comes at
 * the deadline; a statement that ignores its cancel keeps its connection until the pool has dealt with it.
 */
import type { Client } from '@edgepg/client'
import type { RelayConfig } from '../config.ts'
import { type Gate, type GateDecision, REFUSAL_BODY, type RefusalStatus } from '../gate.ts'
import type { Logger } from '../log.ts'
import type { RelayMetrics } from '../metrics.ts'
import type { OriginCheck } from '../policy/origin.ts'
import { checkContentLength, readBody } from './body.ts'
import { SqlCors } from './cors.ts'
import { badRequest, type Failure, failureOf, type Phase, responseTooLarge } from './failure.ts'
import { type ConnectionTarget, parseBody, parseHeaders, type SqlHeaders } from './request.ts'
import { deadlineBody } from './response.ts'
import { isReusableAfter, ResponseTooLargeError, runSql } from './run.ts'

/** Who sent the request, as the runtime sees it. */
export interface SqlPeer {
  /** The client's IP for the per-IP limit (behind a trusted proxy, the hop it added). */
  ip: string
  /** The socket's own peer is a loopback address (never judged from X-Forwarded-For). */
  isLoopback: boolean
}

/** A pooled (or per-request) connection, leased for one request. */
export interface SqlLease {
  readonly client: Client
  /** Gives it back once; `reusable` false ends it instead of pooling it. */
  release(reusable: boolean): void
}

/** Where the connections come from: the Node relay's pool, or a connection per request on a Worker. */
export interface SqlBackends {
  /** A logged-in connection for `connection`, dialing exactly `dial`; rejects with the login's error. */
  acquire(
    connection: ConnectionTarget & { target: string; dial: { host: string; port: number } },
    signal: AbortSignal,
  ): Promise<SqlLease>
}

/** What the `/sql` handler is built from: the relay's config, gate, Origin check, metrics, logs, connections. */
export interface SqlRouteDeps {
  config: RelayConfig
  gate: Gate
  /** The gate's Origin check (a preflight is judged as the request it announces). */
  origin: OriginCheck
  metrics: RelayMetrics
  logger: Logger
  backends: SqlBackends
}

/** Answers one request to `/sql`. Never throws. */
export type SqlHandler = (request: Request, peer: SqlPeer) => Promise<Response>

const DEADLINE = Symbol('deadline')
const CLIENT_GONE = Symbol('client gone')

/**
 * Builds the handler.
 *
 * @example
 * ```ts
 * const handle = createSqlHandler({ config, gate, origin, metrics, logger, backends })
 * const response = await handle(request, { ip: '127.0.0.1', isLoopback: true })
 * ```
 */
export function createSqlHandler(deps: SqlRouteDeps): SqlHandler {
  const { config, metrics, logger } = deps
  const cors = new SqlCors(config.allowedOrigins)

  return async (request, peer) => {
    let response: Response
    try {
      response = await handle(request, peer)
    } catch (error) {
      logger.log('error', 'sql request failed', { ip: peer.ip, error: (error as Error)?.name ?? 'unknown' })
      response = json(
        500,
        { message: 'internal error' },
        cors.headers(request.headers.get('origin') ?? undefined),
      )
    }
    metrics.sqlAnswered(response.status)
    return response
  }

  async function handle(request: Request, peer: SqlPeer): Promise<Response> {
    const origin = request.headers.get('origin') ?? undefined
    const corsHeaders = cors.headers(origin)
    const fail = (failure: Failure) => json(failure.status, failure.body, corsHeaders)
    if (request.method === 'OPTIONS') return preflight(origin)
    if (request.method !== 'POST') {
      return json(
        400,
        { message: `expected POST /sql, found ${request.method.slice(0, 16)}` },
        {
          ...corsHeaders,
          allow: 'POST, OPTIONS',
        },
      )
    }
    if (!config.behindTls && !peer.isLoopback) {
      logger.log('info', 'sql refused', {
        ip: peer.ip,
        status: 403,
        reason: 'plain http from a non-loopback peer',
      })
      return fail({
        status: 403,
        body: {
          message:
            'credentials over plain http from a non-loopback peer are refused: serve the relay behind tls and set behindTls',
        },
      })
    }
    const get = (name: string) => request.headers.get(name) ?? undefined
    const headers = parseHeaders(get)
    if (!headers.ok) return fail(badRequest(headers.message))
    const contentType = get('content-type')?.split(';')[0]?.trim().toLowerCase()
    if (contentType && contentType !== 'application/json' && contentType !== 'text/plain')
      return fail(badRequest(`expected content-type application/json, found ${contentType.slice(0, 60)}`))
    const encoding = get('content-encoding')?.trim().toLowerCase()
    if (encoding && encoding !== 'identity')
      return fail(badRequest(`expected no content-encoding, found ${encoding.slice(0, 30)}`))
    const announced = checkContentLength(get('content-length'), config.sqlMaxRequestBytes)
    if (announced && !announced.ok)
      return json(announced.status, { message: announced.message }, closing(corsHeaders))

    const decision = await deps.gate.admitHttp({
      authorization: get('authorization'),
      origin,
      ip: peer.ip,
      address: headers.value.connection.address,
    })
    if (!decision.ok) return refuse(decision, peer, corsHeaders)
    try {
      return await admitted(request, headers.value, decision, corsHeaders, peer)
    } finally {
      decision.release()
    }
  }

  async function admitted(
    request: Request,
    headers: SqlHeaders,
    decision: Extract<GateDecision, { ok: true }>,
    corsHeaders: Record<string, string>,
    peer: SqlPeer,
  ): Promise<Response> {
    const body = await readBody(request.body, config.sqlMaxRequestBytes)
    if (!body.ok) return json(body.status, { message: body.message }, closing(corsHeaders))
    const parsed = parseBody(body.text)
    if (!parsed.ok) return json(400, { message: parsed.message }, corsHeaders)

    const controller = new AbortController()
    const deadline = setTimeout(() => controller.abort(DEADLINE), config.sqlTimeout)
    const onClientGone = () => controller.abort(CLIENT_GONE)
    if (request.signal.aborted) onClientGone()
    request.signal.addEventListener('abort', onClientGone, { once: true })
    let phase: Phase = 'connect'
    try {
      const lease = await deps.backends.acquire(
        { ...headers.connection, target: decision.target, dial: decision.dial },
        controller.signal,
      )
      phase = 'run'
      const ran = runSql(lease.client, parsed.value, {
        signal: controller.signal,
        maxResponseBytes: config.sqlMaxResponseBytes,
        format: { isRawText: headers.isRawText, isArrayMode: headers.isArrayMode },
        batch: headers.batch,
      })
      // The lease goes back when the statements are done, however long a statement that ignores its
      // cancel takes to be given up on; the answer does not wait for that past the deadline.
      const release = (outcome: unknown) => {
        try {
          lease.release(isReusableAfter(outcome, controller.signal))
        } catch (error) {
          logger.log('error', 'sql release failed', { error: (error as Error)?.name ?? 'unknown' })
        }
      }
      ran.then(() => release(undefined), release)
      const text = await untilAborted(ran, controller.signal)
      return new Response(text, {
        status: 200,
        headers: { ...corsHeaders, 'content-type': 'application/json' },
      })
    } catch (error) {
      const reason = controller.signal.reason
      if (controller.signal.aborted && reason === DEADLINE) {
        logger.log('info', 'sql deadline', {
          ip: peer.ip,
          target: decision.target,
          timeout: config.sqlTimeout,
        })
        return json(400, deadlineBody(config.sqlTimeout), corsHeaders)
      }
      // Nobody reads this answer; it is counted as a client error.
      if (controller.signal.aborted) return json(400, { message: 'the client went away' }, corsHeaders)
      if (error instanceof ResponseTooLargeError) return failed(responseTooLarge(config.sqlMaxResponseBytes))
      return failed(failureOf(error, phase, config.sqlMaxResponseBytes))
    } finally {
      clearTimeout(deadline)
      request.signal.removeEventListener('abort', onClientGone)
    }

    function failed(failure: Failure): Response {
      if (failure.status >= 500) {
        logger.log('warn', 'sql request failed', {
          ip: peer.ip,
          target: decision.target,
          status: failure.status,
          phase,
        })
      }
      return json(failure.status, failure.body, corsHeaders)
    }
  }

  /** A preflight: the listed Origin gets the CORS answer; anything else the gate's refusal for it. */
  function preflight(origin: string | undefined): Response {
    if (cors.isListed(origin))
      return new Response(null, { status: 204, headers: cors.preflightHeaders(origin) })
    const verdict = deps.origin.check(origin, false)
    if (verdict.ok)
      return new Response(null, { status: 204, headers: { allow: 'POST, OPTIONS', vary: 'Origin' } })
    metrics.deny('origin')
    logger.log('info', 'sql preflight refused', {
      status: verdict.status,
      reason: `origin: ${verdict.reason}`,
    })
    return refusal(verdict.status, { vary: 'Origin' })
  }

  function refuse(
    decision: Extract<GateDecision, { ok: false }>,
    peer: SqlPeer,
    corsHeaders: Record<string, string>,
  ): Response {
    logger.log('info', 'sql refused', { ip: peer.ip, status: decision.status, reason: decision.reason })
    return refusal(decision.status, corsHeaders)
  }
}

/** Settles as `work` does, or rejects with `signal.reason` as soon as the signal aborts. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason)
  let onAbort!: () => void
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
  })
  return Promise.race([work, aborted]).finally(() => signal.removeEventListener('abort', onAbort))
}

/** The gate's uniform refusal: the same status and plain-text body as a refused upgrade. */
function refusal(status: RefusalStatus, headers: Record<string, string>): Response {
  return new Response(REFUSAL_BODY[status], {
    status,
    headers: { ...headers, 'content-type': 'text/plain; charset=utf-8' },
  })
}

function json(status: number, body: Record<string, string>, headers: Record<string, string>): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { ...headers, 'content-type': 'application/json' },
  })
}

/** Headers of an answer sent before the body was read to its end: the connection is not kept. */
function closing(headers: Record<string, string>): Record<string, string> {
  return { ...headers, connection: 'close' }
}
