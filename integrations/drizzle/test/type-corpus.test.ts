/**
 * Differential type test: every pg-core column type and mode written and read through Drizzle on edgepg (TCP,
 * the WebSocket relay, HTTP) and through Drizzle on node-postgres (`drizzle-orm/node-postgres` over `pg`).
 * The values Drizzle returns must be deep-equal; raw `db.execute` rows too, but for the differences listed in
 * {@link RAW_DIFFERENCES}.
 */
import { http } from '@edgepg/client/http'
import { type RunningRelay, silentLogger, startRelay } from '@edgepg/proxy'
import { asc, sql } from 'drizzle-orm'
import { drizzle as nodePgDrizzle } from 'drizzle-orm/node-postgres'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import type pg from 'pg'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { drizzle as httpDrizzle } from '../src/http.ts'
import { drizzle } from '../src/index.ts'
import { admin, pgPool, pool, server, url } from './helpers.ts'
import { CORPUS_ROWS, corpusDdl, corpusEdgeSql, corpusTable } from './type-corpus.schema.ts'

const schemaName = 'drizzle_types'
const { corpus, mood } = corpusTable(schemaName)
type Db = PgDatabase<PgQueryResultHKT, { corpus: typeof corpus; mood: typeof mood }>

/** Where edgepg and node-postgres rows of `db.execute` differ on purpose (Drizzle maps both to one value). */
const RAW_DIFFERENCES: Record<string, string> = {
  point_tuple: 'node-postgres parses point into { x, y }; edgepg keeps PostgreSQL’s text (x,y)',
  point_xy: 'node-postgres parses point into { x, y }; edgepg keeps PostgreSQL’s text (x,y)',
}

/** The ids of the rows each driver writes: edgepg's from 1, node-postgres's from 101. */
const PG_OFFSET = 100

let relay: RunningRelay
let pgClient: pg.Pool
let reference: Db
const edgepg: Record<string, Db> = {}

beforeAll(async () => {
  const owner = server.roles.scram.user
  await admin(`drop schema if exists ${schemaName} cascade`)
  await admin(`create schema ${schemaName} authorization "${owner}"`)
  await admin(corpusDdl(schemaName))
  await admin(`alter table ${schemaName}.corpus owner to "${owner}"`)
  relay = await startRelay(
    { port: 0, allow: [`${server.host}:${server.port}`], allowMissingOrigin: 'always', shutdownGrace: 1000 },
    { logger: silentLogger },
  )
  pgClient = pgPool()
  reference = nodePgDrizzle(pgClient, { schema: { corpus, mood } })
  edgepg.tcp = drizzle(pool('tcp'), { schema: { corpus, mood } })
  edgepg.websocket = drizzle(pool('websocket'), { schema: { corpus, mood } })
  edgepg.http = httpDrizzle(http(url(), { url: `${relay.url}/sql` }), {
    schema: { corpus, mood },
  })
})
afterAll(async () => {
  for (const kind of ['tcp', 'websocket'] as const) {
    await (edgepg[kind] as unknown as { $client: { end(): Promise<void> } } | undefined)?.$client.end()
  }
  await pgClient?.end()
  await relay?.shutdown()
})
beforeEach(async () => {
  await admin(`truncate ${schemaName}.corpus`)
})

/** Rows with their ids moved down by `offset`, for comparing one driver's half with the other's. */
function shifted<R extends { id: number }>(rows: R[], offset: number): R[] {
  return rows.map((row) => ({ ...row, id: row.id - offset }))
}

describe.each(['tcp', 'websocket', 'http'])(
  'drizzle on edgepg over %s against drizzle on node-postgres',
  (kind) => {
    const db = () => edgepg[kind]!

    /** Both drivers write the corpus through Drizzle; the rows Drizzle cannot write go in as SQL. */
    async function writeBoth() {
      const written = await db().insert(corpus).values(CORPUS_ROWS).returning()
      const writtenByPg = await reference
        .insert(corpus)
        .values(CORPUS_ROWS.map((row) => ({ ...row, id: row.id! + PG_OFFSET })))
        .returning()
      await admin(corpusEdgeSql(schemaName, 4))
      await admin(corpusEdgeSql(schemaName, 4 + PG_OFFSET))
      return { written, writtenByPg }
    }

    it('returns what it wrote as node-postgres does (insert … returning), for every column type and mode', async () => {
      const { written, writtenByPg } = await writeBoth()
      expect(written).toEqual(shifted(writtenByPg, PG_OFFSET))
      expect(written[0]!.int8Bigint).toBe(123456789012345678n)
      expect(written[0]!.timestampString).toBe('2024-02-29 13:04:05.123456')
    })

    it('reads every column type and mode, edge values and NULL included, as Drizzle on node-postgres does', async () => {
      await writeBoth()
      const read = await db().select().from(corpus).orderBy(asc(corpus.id))
      const readByPg = await reference.select().from(corpus).orderBy(asc(corpus.id))
      expect(read).toHaveLength(8)
      expect(read).toEqual(readByPg)
      // What edgepg wrote reads back as what node-postgres wrote: the parameters were encoded alike.
      expect(read.slice(0, 4)).toEqual(shifted(read.slice(4), PG_OFFSET))
      const byRelations = await db().query.corpus.findMany({
        orderBy: (c, { asc }) => [asc(c.id)],
      })
      expect(byRelations).toEqual(
        await reference.query.corpus.findMany({ orderBy: (c, { asc }) => [asc(c.id)] }),
      )
      const edge = read.find((row) => row.id === 4)!
      expect(edge).toMatchObject({
        float8: Number.NEGATIVE_INFINITY,
        numericNumber: Number.POSITIVE_INFINITY,
      })
      expect(edge.float4).toBeNaN()
      // Drizzle's own mapping of 'infinity' in date mode (new Date('infinity'), new Date('-infinity+0000')):
      // an Invalid Date and, through V8's lenient parser, 2000-01-01 — the same on both drivers.
      expect(edge.dateDate!.getTime()).toBeNaN()
      expect(edge.timestampDate).toEqual(readByPg.find((row) => row.id === 4)!.timestampDate)
    })

    it('returns raw db.execute rows as node-postgres does, but for the listed deliberate differences', async () => {
      await writeBoth()
      const query = sql`select * from ${corpus} order by id`
      const raw = (await db().execute(query)) as unknown as { rows: Record<string, unknown>[] }
      const rawByPg = (await reference.execute(query)) as unknown as { rows: Record<string, unknown>[] }
      const without = (rows: Record<string, unknown>[]) =>
        rows.map((row) =>
          Object.fromEntries(
            Object.entries(row).filter(([column]) => !Object.hasOwn(RAW_DIFFERENCES, column)),
          ),
        )
      expect(without(raw.rows)).toEqual(without(rawByPg.rows))
      expect(raw.rows[0]!.point_xy).toBe('(3,4)')
      expect(rawByPg.rows[0]!.point_xy).toEqual({ x: 3, y: 4 })
      expect(raw.rows[0]!.int8_bigint).toBe('123456789012345678')
      expect(raw.rows[0]!.timestamptz_string).toBe('2024-02-29 13:04:05.123456+00')
    })
  },
)
