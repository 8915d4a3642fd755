/** Adversarial: Drizzle over edgepg's HTTP client — db.batch mapping and failures, big results — vs node-postgres. */
import { http } from '@edgepg/client/http'
import { type RunningRelay, silentLogger, startRelay } from '@edgepg/proxy'
import { asc, eq, sql } from 'drizzle-orm'
import { DrizzleQueryError } from 'drizzle-orm/errors'
import { drizzle as nodePgDrizzle } from 'drizzle-orm/node-postgres'
import { alias } from 'drizzle-orm/pg-core'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { drizzle, type EdgePgHttpDatabase } from '../src/http.ts'
import { drizzleTypes } from '../src/index.ts'
import { seedPosts } from './checks.ts'
import { admin, createSchema, pgPool, server, truncate, url } from './helpers.ts'
import { type Tables, tables } from './schema.ts'

const schemaName = 'drizzle_adv_http'
const t = tables(schemaName)
let relay: RunningRelay
let db: EdgePgHttpDatabase<Tables>
const ref = pgPool()
const oracle = nodePgDrizzle(ref, { schema: t })

const ledger = async () =>
  (await admin<{ tag: string }>(`select tag from ${schemaName}.ledger order by id`)).map((r) => r.tag)

beforeAll(async () => {
  await createSchema(schemaName)
  relay = await startRelay(
    { port: 0, allow: [`${server.host}:${server.port}`], allowMissingOrigin: 'always', shutdownGrace: 1000 },
    { logger: silentLogger },
  )
  db = drizzle(http(url(), { url: `${relay.url}/sql`, types: drizzleTypes }), { schema: t })
})
afterAll(async () => {
  await relay?.shutdown()
  await ref.end()
})
beforeEach(async () => {
  await truncate(schemaName)
})

describe('adversarial drizzle over http', () => {
  it('maps each batch result as the same query alone on node-postgres: empty findFirst, self-join, nested with', async () => {
    await seedPosts(db, t)
    const author = alias(t.users, 'author')
    const queries = (d: typeof db) =>
      [
        d.query.users.findFirst({ where: (u, { eq }) => eq(u.id, 999) }),
        d.query.users.findMany({
          orderBy: (u, { asc }) => [asc(u.id)],
          with: { posts: { orderBy: (p, { asc }) => [asc(p.id)], with: { author: true } } },
        }),
        d
          .select()
          .from(t.posts)
          .innerJoin(author, eq(t.posts.authorId, author.id))
          .leftJoin(t.users, eq(t.users.id, author.id))
          .orderBy(asc(t.posts.id)),
        d.select({ id: t.users.id }).from(t.users).where(eq(t.users.id, -1)),
      ] as const
    const batched = await db.batch(queries(db))
    const alone = await Promise.all(queries(oracle as unknown as typeof db))
    expect(batched).toEqual(alone)
  })

  it('a batch whose last statement fails commits nothing and the next batch runs', async () => {
    const error = await db
      .batch([
        db.insert(t.ledger).values({ tag: 'a' }),
        db.insert(t.ledger).values({ tag: 'b' }).returning(),
        db.execute(sql`select 1/0`),
      ])
      .catch((e: unknown) => e)
    expect(error).toMatchObject({ code: '22012' })
    expect(await ledger()).toEqual([])
    const [ok] = await db.batch([db.insert(t.ledger).values({ tag: 'c' }).returning()])
    expect(ok).toEqual([{ id: expect.any(Number), tag: 'c' }])
    expect(await ledger()).toEqual(['c'])
  })

  it('a query error over http is a DrizzleQueryError whose cause has the sqlstate', async () => {
    const error = await db
      .execute(sql`select * from ${t.users} where id = ${'not a number'}`)
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DrizzleQueryError)
    expect((error as DrizzleQueryError).cause).toMatchObject({ code: '22P02' })
  })

  it('selects 20,000 rows over http as node-postgres does', async () => {
    const q = (d: typeof db) =>
      d
        .select({ n: sql<number>`n`.mapWith(Number), s: sql<string>`md5(n::text)` })
        .from(sql`generate_series(1, 20000) as n`)
    expect(await q(db)).toEqual(await q(oracle as unknown as typeof db))
  })
})
