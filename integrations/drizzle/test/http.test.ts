/** Drizzle over edgepg's HTTP client, against a relay on a real port serving `POST /sql`. */
import { http } from '@edgepg/client/http'
import { type RunningRelay, silentLogger, startRelay } from '@edgepg/proxy'
import { asc, eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { drizzle, type EdgePgHttpDatabase, HTTP_TRANSACTION_MESSAGE } from '../src/http.ts'
import {
  expectCrudWithReturning,
  expectJoin,
  expectUniqueViolation,
  seedPosts,
  USERS_WITH_POSTS,
} from './checks.ts'
import { admin, createSchema, server, truncate, url } from './helpers.ts'
import { type Tables, tables } from './schema.ts'

const schemaName = 'drizzle_http'
const t = tables(schemaName)
let relay: RunningRelay
let db: EdgePgHttpDatabase<Tables>

const ledger = async () =>
  (await admin<{ tag: string }>(`select tag from ${schemaName}.ledger order by id`)).map((r) => r.tag)

beforeAll(async () => {
  await createSchema(schemaName)
  relay = await startRelay(
    { port: 0, allow: [`${server.host}:${server.port}`], allowMissingOrigin: 'always', shutdownGrace: 1000 },
    { logger: silentLogger },
  )
  db = drizzle(http(url(), { url: `${relay.url}/sql` }), { schema: t })
})
afterAll(async () => {
  await relay?.shutdown()
})
beforeEach(async () => {
  await truncate(schemaName)
})

describe('drizzle on edgepg over http', () => {
  it('inserts, selects, updates and deletes with returning', async () => {
    await expectCrudWithReturning(db, t)
  })

  it('joins two tables whose columns share names, mapping them by position', async () => {
    await seedPosts(db, t)
    await expectJoin(db, t)
  })

  it('answers a relational query with its relations', async () => {
    await seedPosts(db, t)
    const found = await db.query.users.findMany({
      columns: { id: true, name: true },
      with: { posts: { columns: { id: true, title: true }, orderBy: (p, { asc }) => [asc(p.id)] } },
      orderBy: (u, { asc }) => [asc(u.id)],
    })
    expect(found).toEqual(USERS_WITH_POSTS)
  })

  it('runs db.batch([...]) as one transaction in one request, each result mapped as its query would be', async () => {
    await seedPosts(db, t)
    const [inserted, selected, raw, related, updated] = await db.batch([
      db.insert(t.ledger).values({ tag: 'batched' }).returning(),
      db.select({ title: t.posts.title }).from(t.posts).where(eq(t.posts.authorId, 2)),
      db.execute<{ n: number }>(sql`select count(*)::int as n from ${t.ledger}`),
      db.query.users.findFirst({ columns: { name: true }, with: { posts: { columns: { title: true } } } }),
      db.update(t.ledger).set({ tag: 'renamed' }).where(eq(t.ledger.tag, 'batched')),
    ])
    expect(inserted).toEqual([{ id: 1, tag: 'batched' }])
    expect(selected).toEqual([{ title: 'hello' }])
    expect(raw).toMatchObject({ rows: [{ n: 1 }], command: 'SELECT', rowCount: 1 })
    expect({ ...raw.rows[0] }).toEqual({ n: 1 })
    expect(related).toEqual({ name: 'ada', posts: [{ title: 'engines' }, { title: 'notes' }] })
    expect(updated).toMatchObject({ command: 'UPDATE', rowCount: 1 })
    expect(await ledger()).toEqual(['renamed'])
  })

  it('rolls the whole batch back when one statement fails, rejecting with its DatabaseError', async () => {
    const error = await db
      .batch([
        db.insert(t.ledger).values({ tag: 'undone' }),
        db.insert(t.users).values({ name: 'a', email: 'same@example.com' }),
        db.insert(t.users).values({ name: 'b', email: 'same@example.com' }),
      ])
      .catch((e: unknown) => e)
    expect(error).toMatchObject({ code: '23505', constraint: 'users_email_key' })
    expect(await ledger()).toEqual([])
  })

  it('refuses db.transaction() with an error naming the pool driver and db.batch, and runs nothing', async () => {
    await expect(
      db.transaction(async (tx) => {
        await tx.insert(t.ledger).values({ tag: 'never' })
      }),
    ).rejects.toThrow(HTTP_TRANSACTION_MESSAGE)
    expect(HTTP_TRANSACTION_MESSAGE).toMatch(/drizzle\(\) from @edgepg\/drizzle.*db\.batch\(\[\.\.\.\]\)/)
    expect(await ledger()).toEqual([])
  })

  it('runs a prepared query with placeholders, one request per execution', async () => {
    await seedPosts(db, t)
    const byAuthor = db
      .select({ title: t.posts.title })
      .from(t.posts)
      .where(eq(t.posts.authorId, sql.placeholder('author')))
      .orderBy(asc(t.posts.id))
      .prepare('posts_by_author')
    expect(await byAuthor.execute({ author: 1 })).toEqual([{ title: 'engines' }, { title: 'notes' }])
    expect(await byAuthor.execute({ author: 2 })).toEqual([{ title: 'hello' }])
  })

  it('surfaces a unique violation as DrizzleQueryError caused by edgepg’s DatabaseError 23505', async () => {
    await expectUniqueViolation(db, t)
  })

  it('refuses something that is not an http client, saying what it expected', () => {
    expect(() => drizzle(undefined as never)).toThrow(
      'drizzle expects a client made by http() from @edgepg/client/http; found undefined',
    )
  })
})
