/** Checks every Drizzle database in these tests must pass, whatever carries its queries (pool or HTTP). */
import { DatabaseError } from '@edgepg/client'
import { asc, eq } from 'drizzle-orm'
import { DrizzleQueryError } from 'drizzle-orm/errors'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import { expect } from 'vitest'
import type { Tables } from './schema.ts'

// biome-ignore lint/suspicious/noExplicitAny: any schema
type Db = PgDatabase<PgQueryResultHKT, any>

/** Insert, select, update and delete with `returning` on empty tables. */
export async function expectCrudWithReturning(db: Db, { users }: Tables): Promise<void> {
  const inserted = await db
    .insert(users)
    .values([
      { name: 'ada', email: 'ada@example.com' },
      { name: 'bob', email: 'bob@example.com' },
    ])
    .returning({ id: users.id, name: users.name })
  expect(inserted).toEqual([
    { id: 1, name: 'ada' },
    { id: 2, name: 'bob' },
  ])
  expect(await db.select().from(users).where(eq(users.name, 'bob'))).toEqual([
    { id: 2, name: 'bob', email: 'bob@example.com' },
  ])
  const updated = await db
    .update(users)
    .set({ name: 'robert' })
    .where(eq(users.id, 2))
    .returning({ name: users.name })
  expect(updated).toEqual([{ name: 'robert' }])
  const deleted = await db.delete(users).where(eq(users.id, 1)).returning()
  expect(deleted).toEqual([{ id: 1, name: 'ada', email: 'ada@example.com' }])
  expect(await db.select({ name: users.name }).from(users)).toEqual([{ name: 'robert' }])
}

/** Two users, three posts: the data of the join and relational checks. */
export async function seedPosts(db: Db, { users, posts }: Tables): Promise<void> {
  await db.insert(users).values([
    { name: 'ada', email: 'ada@example.com' },
    { name: 'bob', email: 'bob@example.com' },
  ])
  await db.insert(posts).values([
    { authorId: 1, title: 'engines' },
    { authorId: 1, title: 'notes' },
    { authorId: 2, title: 'hello' },
  ])
}

/** A left join whose two tables both have `id` (Drizzle maps the columns by position). */
export async function expectJoin(db: Db, { users, posts }: Tables): Promise<void> {
  await db.insert(users).values({ name: 'cyd', email: 'cyd@example.com' })
  const rows = await db
    .select()
    .from(users)
    .leftJoin(posts, eq(posts.authorId, users.id))
    .orderBy(asc(users.id), asc(posts.id))
  expect(rows).toEqual([
    {
      users: { id: 1, name: 'ada', email: 'ada@example.com' },
      posts: { id: 1, authorId: 1, title: 'engines' },
    },
    {
      users: { id: 1, name: 'ada', email: 'ada@example.com' },
      posts: { id: 2, authorId: 1, title: 'notes' },
    },
    {
      users: { id: 2, name: 'bob', email: 'bob@example.com' },
      posts: { id: 3, authorId: 2, title: 'hello' },
    },
    { users: { id: 3, name: 'cyd', email: 'cyd@example.com' }, posts: null },
  ])
}

/** The expected answer of `findMany({ with: { posts } })` on the seeded data. */
export const USERS_WITH_POSTS = [
  {
    id: 1,
    name: 'ada',
    posts: [
      { id: 1, title: 'engines' },
      { id: 2, title: 'notes' },
    ],
  },
  { id: 2, name: 'bob', posts: [{ id: 3, title: 'hello' }] },
]

/** A second insert of the same email: Drizzle's DrizzleQueryError, its cause edgepg's DatabaseError 23505. */
export async function expectUniqueViolation(db: Db, { users }: Tables): Promise<void> {
  await db.insert(users).values({ name: 'ada', email: 'ada@example.com' })
  const error = await db
    .insert(users)
    .values({ name: 'eve', email: 'ada@example.com' })
    .catch((e: unknown) => e)
  expect(error).toBeInstanceOf(DrizzleQueryError)
  const cause = (error as DrizzleQueryError).cause
  expect(cause).toBeInstanceOf(DatabaseError)
  expect(cause).toMatchObject({ code: '23505', constraint: 'users_email_key' })
  expect((error as DrizzleQueryError).params).toEqual(['eve', 'ada@example.com'])
}
