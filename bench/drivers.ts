/**
 * One small adapter per driver, so every measure runs the same code path for each: connect, query with
 * parameters, end. Each adapter uses the driver as its documentation says, with its defaults, except where a
 * comment says otherwise.
 */
import { connect } from '@edgepg/client'
import { nodeSocket } from '@edgepg/client/node'
import { webSocket } from '@edgepg/client/websocket'
import { Client as NeonClient, Pool as NeonPool, neonConfig } from '@neondatabase/serverless'
import pg from 'pg'
import postgres from 'postgres'

/** Where a driver connects, and as whom. */
export interface Endpoint {
  /** Where TCP drivers connect: PostgreSQL, or a latency proxy in front of it. */
  tcp: { host: string; port: number }
  /** `host:port` of the relay, or of a latency proxy in front of it. */
  relay: string
  /** The address the relay dials: PostgreSQL itself. */
  db: { host: string; port: number }
  user: string
  password: string
  database: string
}

export interface Conn {
  query(sql: string, params?: unknown[]): Promise<unknown[]>
  end(): Promise<void>
}

export interface Pool {
  query(sql: string, params?: unknown[]): Promise<unknown[]>
  end(): Promise<void>
}

export interface Driver {
  id: DriverId
  /** What the chart and the table call it. */
  label: string
  /** True for edgepg's own rows; the others are peers. */
  isOurs: boolean
  /** Opens a connection and returns once it can run queries. */
  connect(endpoint: Endpoint): Promise<Conn>
  /**
   * Opens a connection and runs `select 1`: the cold path from opening the socket to the first row. Resolves
   * with the milliseconds from the start to the first row (closing the connection is not counted).
   */
  firstRow(endpoint: Endpoint): Promise<number>
  /** A pool of `max` connections, or undefined when the driver has none. */
  pool?(endpoint: Endpoint, max: number): Promise<Pool | undefined>
}

export type DriverId =
  | 'edgepg'
  | 'edgepg-ws'
  | 'edgepg-fast'
  | 'edgepg-ws-fast'
  | 'pg'
  | 'postgres.js'
  | 'neon-ws'
  | 'neon-ws-nocoalesce'
  | 'neon-ws-cleartext'

/** The connection URL of `e` for `host` (TCP: `e.tcp`; the relay dials `e.db`). */
export const url = (e: Endpoint, host: { host: string; port: number }) =>
  `postgres://${encodeURIComponent(e.user)}:${encodeURIComponent(e.password)}@${host.host}:${host.port}/${e.database}`

async function edgepgConnect(e: Endpoint, isWebSocket: boolean, isFast = false): Promise<Conn> {
  const transport = isWebSocket ? webSocket({ url: `ws://${e.relay}/v1` }) : nodeSocket()
  const [client, connection] = await connect(url(e, isWebSocket ? e.db : e.tcp), {
    transport,
    ...(isFast ? { pipelineConnect: 'scram' as const } : {}),
  })
  const done = connection.run()
  done.catch(() => {})
  return {
    query: async (sql, params) => (await client.query(sql, params)).rows,
    async end() {
      await client.end()
      await done.catch(() => {})
    },
  }
}

/** edgepg's pool (`createPool`); the pool rows say "not available" for a build without it. */
type CreatePool = (
  url: string,
  options: { transport: ReturnType<typeof nodeSocket>; max: number },
) => { query(sql: string, params?: unknown[]): Promise<{ rows: unknown[] }>; end(): Promise<void> }

async function edgepgPool(e: Endpoint, max: number): Promise<Pool | undefined> {
  const client: Record<string, unknown> = await import('@edgepg/client')
  const createPool = client.createPool as CreatePool | undefined
  if (typeof createPool !== 'function') return undefined
  const pool = createPool(url(e, e.tcp), { transport: nodeSocket(), max })
  return {
    query: async (sql, params) => (await pool.query(sql, params)).rows,
    end: () => pool.end(),
  }
}

function pgConnect(e: Endpoint): Promise<Conn> {
  return pgLike(new pg.Client(pgConfig(e)))
}

/** node-postgres settings for `e` over TCP. */
export const pgConfig = (e: Endpoint) => ({
  host: e.tcp.host,
  port: e.tcp.port,
  user: e.user,
  password: e.password,
  database: e.database,
})

async function pgLike(client: pg.Client): Promise<Conn> {
  await client.connect()
  return {
    query: async (sql, params) => (await client.query(sql, params)).rows,
    end: () => client.end(),
  }
}

function postgresJs(e: Endpoint, max: number) {
  return postgres({
    host: e.tcp.host,
    port: e.tcp.port,
    user: e.user,
    pass: e.password,
    database: e.database,
    max,
    onnotice: () => {},
  })
}

function postgresJsAdapter(sql: ReturnType<typeof postgres>): Conn {
  return {
    // prepare: true is what postgres.js's tagged templates do (named prepared statements, its default path);
    // sql.unsafe alone sends unnamed statements and runs about 5x slower.
    query: (text, params) => sql.unsafe(text, params as never[], { prepare: true }),
    end: () => sql.end({ timeout: 5 }),
  }
}

type NeonVariant = 'default' | 'nocoalesce' | 'cleartext'

/** Neon's settings are global; measures run one after another, so each connect sets them first. */
function neonSetup(e: Endpoint, variant: NeonVariant) {
  neonConfig.useSecureWebSocket = false
  neonConfig.pipelineTLS = false
  neonConfig.wsProxy = (host: string, port: number | string) => `${e.relay}/v1?address=${host}:${port}`
  // 'password' pipelining only works when the server asks for a cleartext password; with SCRAM it must be off.
  neonConfig.pipelineConnect = variant === 'cleartext' ? 'password' : false
  neonConfig.coalesceWrites = variant !== 'nocoalesce'
}

function neonConnect(e: Endpoint, variant: NeonVariant): Promise<Conn> {
  neonSetup(e, variant)
  return pgLike(new NeonClient(url(e, e.db)) as unknown as pg.Client)
}

function poolAdapter(pool: pg.Pool): Pool {
  return {
    query: async (sql, params) => (await pool.query(sql, params)).rows,
    end: () => pool.end(),
  }
}

const firstRowOf = (open: (e: Endpoint) => Promise<Conn>) => async (e: Endpoint) => {
  const start = performance.now()
  const conn = await open(e)
  await conn.query('select 1 as n')
  const elapsed = performance.now() - start
  await conn.end()
  return elapsed
}

export const drivers: Record<DriverId, Driver> = {
  edgepg: {
    id: 'edgepg',
    label: 'edgepg (TCP)',
    isOurs: true,
    connect: (e) => edgepgConnect(e, false),
    firstRow: firstRowOf((e) => edgepgConnect(e, false)),
    pool: edgepgPool,
  },
  'edgepg-ws': {
    id: 'edgepg-ws',
    label: 'edgepg (relay)',
    isOurs: true,
    connect: (e) => edgepgConnect(e, true),
    firstRow: firstRowOf((e) => edgepgConnect(e, true)),
  },
  'edgepg-fast': {
    id: 'edgepg-fast',
    label: "edgepg (TCP, pipelineConnect: 'scram')",
    isOurs: true,
    connect: (e) => edgepgConnect(e, false, true),
    firstRow: firstRowOf((e) => edgepgConnect(e, false, true)),
  },
  'edgepg-ws-fast': {
    id: 'edgepg-ws-fast',
    label: "edgepg (relay, pipelineConnect: 'scram')",
    isOurs: true,
    connect: (e) => edgepgConnect(e, true, true),
    firstRow: firstRowOf((e) => edgepgConnect(e, true, true)),
  },
  pg: {
    id: 'pg',
    label: 'pg (TCP)',
    isOurs: false,
    connect: pgConnect,
    firstRow: firstRowOf(pgConnect),
    pool: async (e, max) => poolAdapter(new pg.Pool({ ...pgConfig(e), max })),
  },
  'postgres.js': {
    id: 'postgres.js',
    label: 'postgres.js (TCP)',
    isOurs: false,
    async connect(e) {
      const sql = postgresJs(e, 1)
      await sql`select 1`
      return postgresJsAdapter(sql)
    },
    // postgres.js connects lazily, on its first query: that query is the first row.
    async firstRow(e) {
      const start = performance.now()
      const sql = postgresJs(e, 1)
      await sql`select 1 as n`
      const elapsed = performance.now() - start
      await sql.end({ timeout: 5 })
      return elapsed
    },
    pool: async (e, max) => postgresJsAdapter(postgresJs(e, max)),
  },
  'neon-ws': {
    id: 'neon-ws',
    label: 'neon (relay)',
    isOurs: false,
    connect: (e) => neonConnect(e, 'default'),
    firstRow: firstRowOf((e) => neonConnect(e, 'default')),
    pool: async (e, max) => {
      neonSetup(e, 'default')
      return poolAdapter(new NeonPool({ connectionString: url(e, e.db), max }) as unknown as pg.Pool)
    },
  },
  'neon-ws-nocoalesce': {
    id: 'neon-ws-nocoalesce',
    label: 'neon (relay, coalesceWrites=false)',
    isOurs: false,
    connect: (e) => neonConnect(e, 'nocoalesce'),
    firstRow: firstRowOf((e) => neonConnect(e, 'nocoalesce')),
    pool: async (e, max) => {
      neonSetup(e, 'nocoalesce')
      return poolAdapter(new NeonPool({ connectionString: url(e, e.db), max }) as unknown as pg.Pool)
    },
  },
  'neon-ws-cleartext': {
    id: 'neon-ws-cleartext',
    label: 'neon (relay, cleartext password, pipelineConnect)',
    isOurs: false,
    connect: (e) => neonConnect(e, 'cleartext'),
    firstRow: firstRowOf((e) => neonConnect(e, 'cleartext')),
  },
}
