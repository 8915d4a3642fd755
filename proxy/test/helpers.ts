/** Helpers for relay tests: a relay on a random loopback port, a recording dialer, raw WebSocket clients. */
import { once } from 'node:events'
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net'
import type { Transport } from '@edgepg/client'
import { nodeSocket } from '@edgepg/client/node'
import { type NodeRelayDeps, type RelayConfig, type RunningRelay, startRelay, tcpDialer } from '@edgepg/proxy'
import pgClient from 'pg'
import { inject } from 'vitest'
import WebSocket from 'ws'

export const pg = inject('pg')
export const pgAddress = `${pg.host}:${pg.port}`

export interface TestRelay extends RunningRelay {
  /** Every dial the relay made. */
  dials: { host: string; port: number }[]
  /** Every log line, as written. */
  logs: string[]
}

/** A dialer that records every call and refuses anything outside loopback (SSRF tests prove no dial). */
export function recordingDialer(dials: { host: string; port: number }[]) {
  return async (
    target: { host: string; port: number },
    timeout: number,
    options?: Parameters<typeof tcpDialer>[2],
  ): Promise<Socket> => {
    dials.push(target)
    if (!/^127\./.test(target.host) && target.host !== '::1') {
      throw new Error(`test dialer refuses non-loopback ${target.host}`)
    }
    return tcpDialer(target, timeout, options)
  }
}

/** A custom dialer as an operator might write one: plain `tcpDialer`, without the relay's pooled reads. */
export function tcpDialerIgnoringOptions(
  target: { host: string; port: number },
  timeout: number,
): Promise<Socket> {
  return tcpDialer(target, timeout)
}

/**
 * A custom dialer that takes `ms` after connecting (a handshake of its own, say), so that the socket reads
 * before the relay takes it; it passes the relay's pooled reads on unless `passesOnread` is false.
 */
export function slowDialer(ms: number, passesOnread = true) {
  return async (
    target: { host: string; port: number },
    timeout: number,
    options?: Parameters<typeof tcpDialer>[2],
  ): Promise<Socket> => {
    const socket = await tcpDialer(target, timeout, passesOnread ? options : undefined)
    await sleep(ms)
    return socket
  }
}

/** A TCP server on a free loopback port, each connection to `onSocket` (its errors ignored), and its address. */
export async function loopbackServer(
  onSocket: (socket: Socket) => void,
): Promise<{ server: Server; address: string }> {
  const server = createServer((socket) => {
    socket.on('error', () => {})
    onSocket(socket)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { server, address: `127.0.0.1:${(server.address() as AddressInfo).port}` }
}

/**
 * A transport for the relay's `/sql` pool that records every dial (connections and CancelRequests) and
 * refuses anything outside loopback.
 */
export function recordingTransport(dials: { host: string; port: number }[]): Transport {
  const tcp = nodeSocket()
  return async (target) => {
    dials.push({ host: target.host, port: target.port })
    if (!/^127\./.test(target.host) && target.host !== '::1') {
      throw new Error(`test transport refuses non-loopback ${target.host}`)
    }
    return tcp(target)
  }
}

/**
 * Starts a relay allowing the test PostgreSQL, with `overrides` (and `deps` over the recording ones). Stop it
 * with `relay.shutdown()`. Dials of WebSocket sessions and of the `/sql` pool are both in `relay.dials`.
 */
export async function startTestRelay(
  overrides: Partial<RelayConfig> = {},
  resolve?: NodeResolve,
  deps: Partial<NodeRelayDeps> = {},
): Promise<TestRelay> {
  const dials: { host: string; port: number }[] = []
  const logs: string[] = []
  const relay = await startRelay(
    { port: 0, allow: [pgAddress], allowMissingOrigin: 'always', shutdownGrace: 2000, ...overrides },
    {
      dial: recordingDialer(dials),
      sqlTransport: recordingTransport(dials),
      logger: { log: (level, msg, fields) => logs.push(JSON.stringify({ level, msg, ...fields })) },
      ...(resolve ? { resolve } : {}),
      ...deps,
    },
  )
  return Object.assign(relay, { dials, logs })
}

type NodeResolve = (host: string) => Promise<{ address: string; family: number }[]>

export interface Opened {
  ws: WebSocket
  /** Messages received, in order. */
  received: Buffer[]
  closed: Promise<{ code: number; reason: string }>
}

/** Opens a raw WebSocket to the relay; rejects with the HTTP status when the upgrade is refused. */
export function openWs(
  url: string,
  options: { origin?: string; protocols?: string[]; headers?: Record<string, string> } = {},
): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options.protocols ?? [], {
      ...(options.origin ? { origin: options.origin } : {}),
      headers: options.headers ?? {},
      perMessageDeflate: false,
    })
    const received: Buffer[] = []
    const closed = new Promise<{ code: number; reason: string }>((done) =>
      ws.on('close', (code, reason) => done({ code, reason: reason.toString() })),
    )
    ws.on('message', (data) => received.push(data as Buffer))
    ws.on('unexpected-response', (_request, response) => {
      let body = ''
      response.on('data', (chunk: Buffer) => {
        body += chunk.toString()
      })
      response.on('end', () =>
        reject(
          Object.assign(new Error(`upgrade refused: ${response.statusCode}`), {
            status: response.statusCode,
            body,
          }),
        ),
      )
      response.on('error', () =>
        reject(Object.assign(new Error('upgrade refused'), { status: response.statusCode, body })),
      )
    })
    ws.on('error', (error) => reject(error))
    ws.on('open', () => resolve({ ws, received, closed }))
  })
}

/** The HTTP status and body of a refused upgrade, or 101 when it was accepted (the socket is then closed). */
export async function upgrade(
  url: string,
  options: Parameters<typeof openWs>[1] = {},
): Promise<{ status: number; body: string }> {
  try {
    const { ws } = await openWs(url, options)
    ws.close()
    return { status: 101, body: '' }
  } catch (error) {
    const { status = 0, body = '' } = error as { status?: number; body?: string }
    return { status, body }
  }
}

/** A simple-query message (Query, 'Q') for `sql`. */
export function simpleQuery(sql: string): Buffer {
  const text = Buffer.from(`${sql}\0`)
  const head = Buffer.alloc(5)
  head[0] = 0x51 // Q
  head.writeInt32BE(text.length + 4, 1)
  return Buffer.concat([head, text])
}

/** A StartupMessage for `user`/`database` (protocol 3.0). */
export function startupPacket(user: string, database: string): Buffer {
  const body = Buffer.from(`user\0${user}\0database\0${database}\0\0`)
  const head = Buffer.alloc(8)
  head.writeInt32BE(body.length + 8, 0)
  head.writeInt32BE(196608, 4)
  return Buffer.concat([head, body])
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A StartupMessage as the trust role with an `application_name`, so tests can find the backend. */
export function trustStartup(app: string): Buffer {
  const body = Buffer.from(
    `user\0${pg.roles.trust.user}\0database\0${pg.database}\0application_name\0${app}\0\0`,
  )
  const head = Buffer.alloc(8)
  head.writeInt32BE(body.length + 8, 0)
  head.writeInt32BE(196608, 4)
  return Buffer.concat([head, body])
}

/** Runs SQL as the superuser through node-postgres (the reference client). */
export async function admin(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]> {
  const client = new pgClient.Client({
    host: pg.host,
    port: pg.port,
    database: pg.database,
    user: pg.superuser.user,
    password: pg.superuser.password,
  })
  await client.connect()
  try {
    return (await client.query(sql, params)).rows
  } finally {
    await client.end()
  }
}

/** How many backends run with this `application_name`. */
export async function backends(app: string): Promise<number> {
  return (await admin('select 1 from pg_stat_activity where application_name = $1', [app])).length
}

/** A connection string for `role` on the test PostgreSQL, with URL parameters. */
export function pgUrl(
  role: { user: string; password: string } = pg.roles.scram,
  parameters: Record<string, string> = {},
): string {
  const auth = role.password
    ? `${encodeURIComponent(role.user)}:${encodeURIComponent(role.password)}`
    : encodeURIComponent(role.user)
  const query = new URLSearchParams(parameters).toString()
  return `postgres://${auth}@${pgAddress}/${pg.database}${query ? `?${query}` : ''}`
}

/** What `/sql` answered: the status, the JSON (or text) body and the headers. */
export interface SqlAnswer {
  status: number
  // biome-ignore lint/suspicious/noExplicitAny: tests read the answer's JSON field by field
  body: any
  text: string
  headers: Headers
}

/**
 * POSTs `body` to the relay's `/sql` with the Neon headers for `connectionString` (`headers` add to or
 * override them; a header set to undefined is left out).
 */
export async function postSql(
  relay: { url: string },
  body: unknown,
  options: {
    connectionString?: string
    headers?: Record<string, string | undefined>
    signal?: AbortSignal
  } = {},
): Promise<SqlAnswer> {
  const headers: Record<string, string> = {}
  const given = { 'neon-connection-string': options.connectionString ?? pgUrl(), ...options.headers }
  for (const [name, value] of Object.entries(given)) if (value !== undefined) headers[name] = value
  const response = await fetch(`${relay.url}/sql`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...(options.signal ? { signal: options.signal } : {}),
  })
  const text = await response.text()
  let parsed: unknown = text
  try {
    parsed = JSON.parse(text)
  } catch {}
  return { status: response.status, body: parsed, text, headers: response.headers }
}

/** The states of the backends with this `application_name` (`active`, `idle`, …). */
export async function backendStates(app: string): Promise<string[]> {
  const rows = await admin('select state from pg_stat_activity where application_name = $1', [app])
  return rows.map((row) => String(row.state))
}

/**
 * Waits until no backend with this `application_name` is running a statement (each is idle or gone);
 * throws after `timeout` ms with the states it saw last.
 */
export async function waitUntilNoneActive(app: string, timeout = 10_000): Promise<void> {
  const deadline = Date.now() + timeout
  let states: string[] = []
  while (Date.now() < deadline) {
    states = await backendStates(app)
    if (!states.includes('active')) return
    await sleep(50)
  }
  throw new Error(`backends of ${app} still active after ${timeout} ms: ${states.join(', ')}`)
}
