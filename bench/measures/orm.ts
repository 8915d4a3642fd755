/**
 * Where users meet a driver: Kysely and Drizzle, each on edgepg and on the drivers they ship with, in the same
 * run. Two workloads through the ORM's query builder: 50 callers sharing a pool of 10 connections, each
 * running simple selects one after another (queries/s), and one select of 100,000 rows of mixed types
 * (rows/s). The query builder runs for every query, as in an application; the SQL it compiles is the same on
 * every driver under one ORM.
 */
import { createPool } from '@edgepg/client'
import { nodeSocket } from '@edgepg/client/node'
import { EdgePgDialect } from '@edgepg/kysely'
import { eq } from 'drizzle-orm'
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres'
import { bigint, customType, integer, jsonb, numeric, pgTable, text, timestamp } from 'drizzle-orm/pg-core'
import { drizzle as drizzlePostgresJs } from 'drizzle-orm/postgres-js'
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import postgres from 'postgres'
import type { Context } from '../context.ts'
import { type Endpoint, pgConfig, url } from '../drivers.ts'
import { interleave } from '../interleave.ts'
import { type Limit, type Measure, row } from '../report.ts'
import { endpoint } from '../setup.ts'
import { rowsSql } from './decode.ts'

const CALLERS = 50
const POOL_SIZE = 10
const PEOPLE = 1000

type OrmId =
  | 'edgepg-alone'
  | 'kysely-edgepg'
  | 'kysely-pg'
  | 'drizzle-edgepg'
  | 'drizzle-pg'
  | 'drizzle-postgres.js'
const IDS: OrmId[] = [
  'edgepg-alone',
  'kysely-edgepg',
  'kysely-pg',
  'drizzle-edgepg',
  'drizzle-pg',
  'drizzle-postgres.js',
]

/** One ORM on one driver's pool of {@link POOL_SIZE} connections. */
interface Orm {
  /** `select id, name from bench_orm_people where id = $1` through the query builder. */
  person(id: number): Promise<{ id: number; name: string } | undefined>
  /** Every row of `bench_orm_rows` through the query builder. */
  allRows(): Promise<unknown[]>
  end(): Promise<void>
}

interface Library {
  label: string
  isOurs: boolean
  /** What the row runs on, and what it is compared with. */
  note: string
  /** The ORM on a fresh pool, or undefined when this build lacks it (the row says why). */
  open(e: Endpoint): Promise<Orm | undefined>
}

// ---- the tables, as each ORM declares them ----------------------------------------------------------------

interface KyselyDB {
  bench_orm_people: { id: number; name: string }
  bench_orm_rows: {
    int4: number
    int8: string | bigint
    text: string
    numeric: string
    timestamptz: Date
    jsonb: unknown
    bytea: Uint8Array
  }
}

const people = pgTable('bench_orm_people', { id: integer('id').primaryKey(), name: text('name').notNull() })
const bytea = customType<{ data: Uint8Array }>({ dataType: () => 'bytea' })
const rowsTable = pgTable('bench_orm_rows', {
  int4: integer('int4').notNull(),
  int8: bigint('int8', { mode: 'bigint' }).notNull(),
  text: text('text').notNull(),
  numeric: numeric('numeric').notNull(),
  timestamptz: timestamp('timestamptz', { withTimezone: true }).notNull(),
  jsonb: jsonb('jsonb').notNull(),
  bytea: bytea('bytea').notNull(),
})

// ---- the libraries ----------------------------------------------------------------------------------------

function kyselyOrm(db: Kysely<KyselyDB>): Orm {
  return {
    person: (id) =>
      db.selectFrom('bench_orm_people').select(['id', 'name']).where('id', '=', id).executeTakeFirst(),
    allRows: () => db.selectFrom('bench_orm_rows').selectAll().execute(),
    end: () => db.destroy(),
  }
}

/** The parts of a Drizzle database the workloads use (every Drizzle pg driver has them). */
interface DrizzleDb {
  // biome-ignore lint/suspicious/noExplicitAny: each driver's PgDatabase has its own result type
  select: (...args: any[]) => any
}

function drizzleOrm(db: DrizzleDb, end: () => Promise<void>): Orm {
  return {
    async person(id) {
      const found = await db
        .select({ id: people.id, name: people.name })
        .from(people)
        .where(eq(people.id, id))
      return found[0]
    },
    allRows: () => db.select().from(rowsTable),
    end,
  }
}

/** What the bench uses of `@edgepg/drizzle`: `drizzle(pool, { schema })`. */
interface EdgePgDrizzle {
  drizzle: (pool: ReturnType<typeof createPool>, config?: { schema?: Record<string, unknown> }) => DrizzleDb
}

/** `@edgepg/drizzle`, loaded by name so that a build without the package still runs the other rows. */
async function edgepgDrizzle(): Promise<EdgePgDrizzle | undefined> {
  const name = '@edgepg/drizzle'
  try {
    const module = (await import(name)) as Partial<EdgePgDrizzle>
    return typeof module.drizzle === 'function' ? (module as EdgePgDrizzle) : undefined
  } catch {
    return undefined
  }
}

const edgepgPool = (e: Endpoint) => createPool(url(e, e.tcp), { transport: nodeSocket(), max: POOL_SIZE })
const pgPool = (e: Endpoint) => new pg.Pool({ ...pgConfig(e), max: POOL_SIZE })
const postgresJs = (e: Endpoint) =>
  postgres({
    host: e.tcp.host,
    port: e.tcp.port,
    user: e.user,
    pass: e.password,
    database: e.database,
    max: POOL_SIZE,
    onnotice: () => {},
  })

/** The same queries straight on edgepg's pool: what an ORM on edgepg can at best reach. */
function edgepgAlone(e: Endpoint): Orm {
  const pool = edgepgPool(e)
  return {
    async person(id) {
      const { rows } = await pool.query<{ id: number; name: string }>(
        'select id, name from bench_orm_people where id = $1',
        [id],
      )
      return rows[0]
    },
    allRows: async () => (await pool.query('select * from bench_orm_rows')).rows,
    end: () => pool.end(),
  }
}

const LIBRARIES: Record<OrmId, Library> = {
  'edgepg-alone': {
    label: `edgepg alone, no ORM (TCP, pool of ${POOL_SIZE})`,
    isOurs: true,
    note: 'the same SQL written by hand on createPool: the limit of the edgepg rows',
    open: async (e) => edgepgAlone(e),
  },
  'kysely-edgepg': {
    label: `Kysely on edgepg (TCP, pool of ${POOL_SIZE})`,
    isOurs: true,
    note: "@edgepg/kysely's EdgePgDialect over createPool; peer: Kysely on pg",
    open: async (e) => kyselyOrm(new Kysely({ dialect: new EdgePgDialect({ pool: edgepgPool(e) }) })),
  },
  'kysely-pg': {
    label: `Kysely on pg (TCP, pool of ${POOL_SIZE})`,
    isOurs: false,
    note: "Kysely's own PostgresDialect over pg.Pool",
    open: async (e) => kyselyOrm(new Kysely({ dialect: new PostgresDialect({ pool: pgPool(e) }) })),
  },
  'drizzle-edgepg': {
    label: `Drizzle on edgepg (TCP, pool of ${POOL_SIZE})`,
    isOurs: true,
    note: "@edgepg/drizzle's drizzle(pool) over createPool; peers: Drizzle on pg and on postgres.js",
    async open(e) {
      const edgepg = await edgepgDrizzle()
      if (!edgepg) return undefined
      const pool = edgepgPool(e)
      return drizzleOrm(edgepg.drizzle(pool, { schema: { people, rowsTable } }), () => pool.end())
    },
  },
  'drizzle-pg': {
    label: `Drizzle on pg (TCP, pool of ${POOL_SIZE})`,
    isOurs: false,
    note: 'drizzle-orm/node-postgres over pg.Pool',
    async open(e) {
      const pool = pgPool(e)
      return drizzleOrm(drizzleNodePg(pool, { schema: { people, rowsTable } }), () => pool.end())
    },
  },
  'drizzle-postgres.js': {
    label: `Drizzle on postgres.js (TCP, max ${POOL_SIZE})`,
    isOurs: false,
    note: 'drizzle-orm/postgres-js over postgres({ max: 10 }), its prepared statements on (the default)',
    async open(e) {
      const sql = postgresJs(e)
      return drizzleOrm(drizzlePostgresJs(sql, { schema: { people, rowsTable } }), () =>
        sql.end({ timeout: 5 }),
      )
    },
  },
}

// ---- the measure ------------------------------------------------------------------------------------------

const NOISE =
  'Wall-clock on a shared 2-core machine (PostgreSQL and the client on the same cores): samples of one row spread by up to ±40 %; compare rows of one run, never across runs.'

const LIMIT: Limit = {
  label: 'edgepg alone, no ORM',
  of: { row: 'edgepg-alone' },
  why: "The same query on the same pool with no ORM (its SQL written by hand, the rows as edgepg returns them): an ORM on edgepg adds its query builder and row mapping to it, so it can at best match it. The peers' ORM rows have pg's or postgres.js's own floor, not measured here.",
  rows: ['kysely-edgepg', 'drizzle-edgepg'],
}

export async function orm(ctx: Context): Promise<Measure[]> {
  const perCaller = ctx.quick ? 40 : 200
  const count = ctx.quick ? 10_000 : 100_000
  const rounds = ctx.quick ? 1 : 5
  const rowRounds = ctx.quick ? 1 : 3
  await ctx.pg.admin(`drop table if exists bench_orm_people, bench_orm_rows`)
  await ctx.pg.admin(
    `create table bench_orm_people as select i as id, 'person ' || i as name from generate_series(1, ${PEOPLE}) as i;
     alter table bench_orm_people add primary key (id);
     create table bench_orm_rows as ${rowsSql(count)};
     grant select on bench_orm_people, bench_orm_rows to public`,
  )
  const e = endpoint(ctx.pg, ctx.pg.roles.scram, { relayPort: ctx.relay.port })

  ctx.log(
    `orm: ${CALLERS} callers × ${perCaller} selects through the ORM, pool of ${POOL_SIZE}, ${rounds} rounds`,
  )
  const selects = await interleave(
    IDS.map((id) => ({
      id,
      async run() {
        const db = await LIBRARIES[id].open(e)
        if (!db) return undefined
        try {
          // open the connections before the clock starts
          await Promise.all(Array.from({ length: 2 * POOL_SIZE }, (_, i) => db.person((i % PEOPLE) + 1)))
          const start = performance.now()
          await Promise.all(
            Array.from({ length: CALLERS }, async (_, caller) => {
              for (let i = 0; i < perCaller; i++) {
                const n = ((caller * perCaller + i) % PEOPLE) + 1
                const found = await db.person(n)
                if (found?.id !== n || found.name !== `person ${n}`) throw new Error('wrong result')
              }
            }),
          )
          return (CALLERS * perCaller) / ((performance.now() - start) / 1000)
        } finally {
          await db.end()
        }
      },
    })),
    rounds,
  )

  ctx.log(`orm: ${count} rows through the ORM per library, ${rowRounds} rounds`)
  const rows = await interleave(
    IDS.map((id) => ({
      id,
      async run() {
        const db = await LIBRARIES[id].open(e)
        if (!db) return undefined
        try {
          await db.person(1) // connect before the clock starts
          const start = performance.now()
          const all = await db.allRows()
          const seconds = (performance.now() - start) / 1000
          if (all.length !== count) throw new Error(`got ${all.length} rows`)
          return count / seconds
        } finally {
          await db.end()
        }
      },
    })),
    rowRounds,
  )
  await ctx.pg.admin(`drop table if exists bench_orm_people, bench_orm_rows`)

  const rowsOf = (results: typeof selects) =>
    IDS.map((id) => {
      const library = LIBRARIES[id]
      const r = results.get(id)!
      const note =
        r.note === 'not available' && id === 'drizzle-edgepg'
          ? 'not available: @edgepg/drizzle is not installed (npm install links the workspace)'
          : (r.note ?? library.note)
      return row(id, library.label, library.isOurs, r.samples, note)
    })
  const compare: [string, string][] = [
    ['kysely-edgepg', 'kysely-pg'],
    ['drizzle-edgepg', 'drizzle-pg'],
    ['drizzle-edgepg', 'drizzle-postgres.js'],
  ]
  return [
    {
      id: 'orm-concurrency',
      title: `Through the ORM: ${CALLERS} callers sharing a pool of ${POOL_SIZE} connections (select by primary key)`,
      unit: 'queries/s',
      better: 'higher',
      rows: rowsOf(selects),
      compare,
      notes: [
        `Each caller runs ${perCaller} selects one after another, each built by the query builder: Kysely's selectFrom(…).select(…).where('id', '=', n), Drizzle's select({ id, name }).from(people).where(eq(people.id, n)).`,
        "postgres.js pipelines several callers' queries on each of its connections; pg.Pool runs one query per connection at a time.",
        NOISE,
      ],
      limits: [LIMIT],
    },
    {
      id: 'orm-rows',
      title: `Through the ORM: select ${count.toLocaleString('en-US')} rows of mixed types`,
      unit: 'rows/s',
      better: 'higher',
      rows: rowsOf(rows),
      compare,
      notes: [
        'The rows of the decode measure (int4, int8, text, numeric, timestamptz, jsonb, bytea), stored in a table: Kysely selectAll(), Drizzle select().from(table) with bigint mode "bigint", timestamp with time zone as Date, bytea as a custom type.',
        'Includes PostgreSQL reading the rows (the same work for every library) and the ORM mapping each row (Drizzle maps every column).',
        NOISE,
      ],
      limits: [LIMIT],
    },
  ]
}
