import { connect, createPool, type Pool } from '@edgepg/client'
import { asc, count, eq, sql } from 'drizzle-orm'
import { TransactionRollbackError } from 'drizzle-orm/errors'
import { integer, pgSchema, serial, text } from 'drizzle-orm/pg-core'
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest'
import {
  drizzle,
  type EdgePgDatabase,
  TRANSACTION_ABORTED_MESSAGE,
  TransactionAbortedError,
} from '../src/index.ts'
import {
  expectCrudWithReturning,
  expectJoin,
  expectUniqueViolation,
  seedPosts,
  USERS_WITH_POSTS,
} from './checks.ts'
import { admin, barrier, createSchema, pool, TRANSPORTS, transport, truncate, url } from './helpers.ts'
import { type Tables, tables } from './schema.ts'

describe.each(TRANSPORTS)('drizzle on edgepg over %s', (kind) => {
  const schemaName = `drizzle_${kind}`
  const t = tables(schemaName)
  let db: EdgePgDatabase<Tables> & { $client: Pool }

  const ledger = async () =>
    (await admin<{ tag: string }>(`select tag from ${schemaName}.ledger order by id`)).map((r) => r.tag)

  beforeAll(async () => {
    await createSchema(schemaName)
    db = drizzle(pool(kind), { schema: t })
  })
  afterAll(async () => {
    await db?.$client.end()
  })
  beforeEach(async () => {
    await truncate(schemaName)
  })

  it('inserts, selects, updates and deletes with returning', async () => {
    await expectCrudWithReturning(db, t)
  })

  it('joins two tables whose columns share names, mapping them by position', async () => {
    await seedPosts(db, t)
    await expectJoin(db, t)
  })

  it('answers a relational query with its relations (db.query.users.findMany({ with }))', async () => {
    await seedPosts(db, t)
    const found = await db.query.users.findMany({
      columns: { id: true, name: true },
      with: { posts: { columns: { id: true, title: true }, orderBy: (p, { asc }) => [asc(p.id)] } },
      orderBy: (u, { asc }) => [asc(u.id)],
    })
    expect(found).toEqual(USERS_WITH_POSTS)
    const post = await db.query.posts.findFirst({ where: (p, { eq }) => eq(p.id, 3), with: { author: true } })
    expect(post).toEqual({
      id: 3,
      authorId: 2,
      title: 'hello',
      author: { id: 2, name: 'bob', email: 'bob@example.com' },
    })
  })

  it('returns edgepg’s result from db.execute: rows as objects, fields, command, rowCount', async () => {
    await seedPosts(db, t)
    const selected = await db.execute<{ n: number; title: string }>(
      sql`select id as n, title from ${t.posts} where ${t.posts.authorId} = ${1} order by id`,
    )
    expect(selected.rows).toEqual([
      { n: 1, title: 'engines' },
      { n: 2, title: 'notes' },
    ])
    expect(selected).toMatchObject({ command: 'SELECT', rowCount: 2 })
    expect(selected.fields.map((f) => f.name)).toEqual(['n', 'title'])
    const updated = await db.execute(sql`update ${t.posts} set title = upper(title)`)
    expect(updated).toMatchObject({ command: 'UPDATE', rowCount: 3, rows: [] })
    expect(await db.$count(t.posts, eq(t.posts.authorId, 1))).toBe(2)
    expect(await db.select({ n: count() }).from(t.posts)).toEqual([{ n: 3 }])
  })

  it('runs a prepared query with placeholders again and again', async () => {
    await seedPosts(db, t)
    const byAuthor = db
      .select({ title: t.posts.title })
      .from(t.posts)
      .where(eq(t.posts.authorId, sql.placeholder('author')))
      .orderBy(asc(t.posts.id))
      .prepare('posts_by_author')
    expect(await byAuthor.execute({ author: 1 })).toEqual([{ title: 'engines' }, { title: 'notes' }])
    expect(await byAuthor.execute({ author: 2 })).toEqual([{ title: 'hello' }])
    expect(await byAuthor.execute({ author: 9 })).toEqual([])
  })

  it('commits a transaction on one connection, and rolls back one that throws', async () => {
    const pids = await db.transaction(async (tx) => {
      const a = await tx.execute<{ pid: number }>(sql`select pg_backend_pid() as pid`)
      await tx.insert(t.ledger).values({ tag: 'committed' })
      const b = await tx.execute<{ pid: number }>(sql`select pg_backend_pid() as pid`)
      return [a.rows[0]!.pid, b.rows[0]!.pid]
    })
    expect(pids[0]).toBe(pids[1])
    const failure = new Error('boom')
    await expect(
      db.transaction(async (tx) => {
        await tx.insert(t.ledger).values({ tag: 'thrown' })
        throw failure
      }),
    ).rejects.toBe(failure)
    expect(await ledger()).toEqual(['committed'])
  })

  it('rolls back a nested savepoint while the outer work commits', async () => {
    await db.transaction(async (tx) => {
      await tx.insert(t.ledger).values({ tag: 'outer' })
      await expect(
        tx.transaction(async (inner) => {
          await inner.insert(t.ledger).values({ tag: 'inner' })
          inner.rollback()
        }),
      ).rejects.toBeInstanceOf(TransactionRollbackError)
      await tx.transaction(async (inner) => {
        await inner.insert(t.ledger).values({ tag: 'kept' })
        await expect(
          inner.transaction(async (deepest) => {
            await deepest.insert(t.ledger).values({ tag: 'deepest' })
            throw new Error('undo deepest')
          }),
        ).rejects.toThrow('undo deepest')
      })
    })
    expect(await ledger()).toEqual(['outer', 'kept'])
  })

  it('rolls back everything on tx.rollback(), rejecting with TransactionRollbackError', async () => {
    await expect(
      db.transaction(async (tx) => {
        await tx.insert(t.ledger).values({ tag: 'undone' })
        tx.rollback()
      }),
    ).rejects.toBeInstanceOf(TransactionRollbackError)
    expect(await ledger()).toEqual([])
    expect(db.$client.stats).toMatchObject({ leased: 0 })
  })

  it('rejects a transaction whose commit the server answered with ROLLBACK (an earlier statement failed)', async () => {
    const error = await db
      .transaction(async (tx) => {
        await tx.insert(t.ledger).values({ tag: 'lost' })
        await tx.execute(sql`select 1 / 0`).catch(() => {}) // caught: the transaction is aborted all the same
      })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TransactionAbortedError)
    expect((error as Error).message).toBe(TRANSACTION_ABORTED_MESSAGE)
    expect(await ledger()).toEqual([])
    expect(db.$client.stats).toMatchObject({ leased: 0 })
  })

  it('logs each query with its parameters to the logger, and maps camelCase keys with casing', async () => {
    const logged: [string, unknown[]][] = []
    const cased = drizzle(db.$client, {
      casing: 'snake_case',
      logger: { logQuery: (query, params) => logged.push([query, params]) },
    })
    const posts = pgSchema(schemaName).table('posts', {
      id: serial().primaryKey(),
      authorId: integer(),
      title: text(),
    })
    await db.insert(t.users).values({ name: 'ada', email: 'ada@example.com' })
    await cased.insert(posts).values({ authorId: 1, title: 'cased' })
    expect(await cased.select({ authorId: posts.authorId }).from(posts)).toEqual([{ authorId: 1 }])
    expect(logged).toEqual([
      [
        `insert into "${schemaName}"."posts" ("id", "author_id", "title") values (default, $1, $2)`,
        [1, 'cased'],
      ],
      [`select "author_id" from "${schemaName}"."posts"`, []],
    ])
  })

  it('sets isolation level, access mode and deferrable from the transaction config', async () => {
    const seen = await db.transaction(
      async (tx) =>
        (
          await tx.execute<{ iso: string; ro: string; def: string }>(
            sql`select current_setting('transaction_isolation') as iso, current_setting('transaction_read_only') as ro, current_setting('transaction_deferrable') as def`,
          )
        ).rows[0],
      { isolationLevel: 'serializable', accessMode: 'read only', deferrable: true },
    )
    expect(seen).toEqual({ iso: 'serializable', ro: 'on', def: 'on' })
    const refused = await db
      .transaction(async (tx) => tx.insert(t.ledger).values({ tag: 'x' }), { accessMode: 'read only' })
      .catch((e: unknown) => e)
    expect((refused as { cause?: { code?: string } }).cause?.code).toBe('25006')
  })

  it('keeps 8 concurrent transactions on one pool apart', async () => {
    const many = drizzle(pool(kind, { max: 8 }), { schema: t })
    onTestFinished(() => many.$client.end())
    // Two barriers: all 8 have inserted before any reads, all have read before any ends.
    const inserted = barrier(8)
    const read = barrier(8)
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        many
          .transaction(async (tx) => {
            await tx.insert(t.ledger).values({ tag: `tx${i}` })
            await inserted()
            const seen = await tx.select({ tag: t.ledger.tag }).from(t.ledger)
            const pid = (await tx.execute<{ pid: number }>(sql`select pg_backend_pid() as pid`)).rows[0]!.pid
            await read()
            if (i % 2 === 1) tx.rollback()
            return { seen: seen.map((r) => r.tag), pid }
          })
          .catch((e: unknown) => (e instanceof TransactionRollbackError ? 'rolled back' : Promise.reject(e))),
      ),
    )
    results.forEach((result, i) => {
      expect(result).toEqual(i % 2 === 1 ? 'rolled back' : { seen: [`tx${i}`], pid: expect.any(Number) })
    })
    expect((await ledger()).sort()).toEqual(['tx0', 'tx2', 'tx4', 'tx6'])
    expect(many.$client.stats).toMatchObject({ leased: 0 })
  })

  it('surfaces a unique violation as DrizzleQueryError caused by edgepg’s DatabaseError 23505', async () => {
    await expectUniqueViolation(db, t)
  })

  it('runs on a leased PoolClient and on a connected Client, transactions included', async () => {
    const leased = await db.$client.connect()
    const onLease = drizzle(leased, { schema: t })
    await onLease.transaction(async (tx) => {
      await tx.insert(t.ledger).values({ tag: 'on lease' })
    })
    expect(await onLease.select({ tag: t.ledger.tag }).from(t.ledger)).toEqual([{ tag: 'on lease' }])
    leased.release()
    const [client, connection] = await connect(url(), { transport: transport(kind) })
    const running = connection.run()
    try {
      const onClient = drizzle(client, { schema: t })
      await onClient.transaction(async (tx) => {
        await tx.insert(t.ledger).values({ tag: 'on client' })
        await tx.transaction(async (inner) => inner.rollback()).catch(() => {})
      })
      expect(await ledger()).toEqual(['on lease', 'on client'])
    } finally {
      await client.end()
      await running
    }
  })

  it("gives the same values on a pool made with other types, and leaves the pool's own queries as they were", async () => {
    const query = sql`select '2024-02-29 13:04:05.678+00'::timestamptz as at, 7::int8 as n, '1 day'::interval as d, ${3}::int4 as i`
    const expected = { at: '2024-02-29 13:04:05.678+00', n: '7', d: '1 day', i: 3 }
    const own = "select 7::int8 as n, 3::int4 as i, '1 day'::interval as d"
    const cases = [
      { types: { raw: true }, ownRow: { n: '7', i: '3', d: '1 day' } },
      { types: { dates: 'string' as const }, ownRow: { n: 7n, i: 3, d: '1 day' } },
      {
        types: { parsers: { 20: Number, 23: () => 'mine' } },
        ownRow: { n: 7, i: 'mine', d: { months: 0, days: 1, microseconds: 0 } },
      },
    ]
    for (const { types, ownRow } of cases) {
      const other = drizzle(createPool(url(), { transport: transport(kind), max: 1, types }))
      onTestFinished(() => other.$client.end())
      for (let i = 0; i < 2; i++) {
        // Twice: the second run binds the cached statement, with binary results where the pool's types allow.
        expect({ ...(await other.execute(query)).rows[0] }, JSON.stringify(types)).toEqual(expected)
        expect({ ...(await other.$client.query(own)).rows[0] }, JSON.stringify(types)).toEqual(ownRow)
      }
    }
  })

  it('refuses something that is not an edgepg pool or client, saying what it expected', () => {
    expect(() => drizzle({} as never)).toThrow(
      'drizzle expects an edgepg Pool, PoolClient or Client (from @edgepg/client); found object',
    )
  })
})
