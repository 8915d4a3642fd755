/**
 * Adversarial: relational queries with nested `with`, joins whose columns share names (array mode), aliases,
 * `casing`, prepared queries with changing params and randomised values — Drizzle on edgepg deep-equal to
 * Drizzle on node-postgres, over TCP and the relay.
 */
import { and, asc, desc, eq, gt, relations, sql } from 'drizzle-orm'
import { drizzle as nodePgDrizzle } from 'drizzle-orm/node-postgres'
import {
  alias,
  bigint,
  date,
  integer,
  interval,
  jsonb,
  numeric,
  pgSchema,
  serial,
  text,
  timestamp,
} from 'drizzle-orm/pg-core'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { drizzle } from '../src/index.ts'
import { admin, pgPool, pool, server, TRANSPORTS } from './helpers.ts'

const S = 'drizzle_adv_rel'
const s = pgSchema(S)
const authors = s.table('authors', {
  id: serial().primaryKey(),
  displayName: text().notNull(),
  joinedAt: timestamp({ mode: 'date', precision: 6 }).notNull(),
  joinedText: timestamp({ mode: 'string', withTimezone: true }),
  karma: bigint({ mode: 'bigint' }),
  mentorId: integer(),
})
const articles = s.table('articles', {
  id: serial().primaryKey(),
  authorId: integer().notNull(),
  title: text().notNull(),
  score: numeric({ mode: 'number' }),
  publishedOn: date({ mode: 'date' }),
  readTime: interval(),
  meta: jsonb(),
})
const remarks = s.table('remarks', {
  id: serial().primaryKey(),
  articleId: integer().notNull(),
  authorId: integer().notNull(),
  body: text().notNull(),
  at: timestamp({ mode: 'string' }).notNull(),
})
const authorsRelations = relations(authors, ({ many, one }) => ({
  articles: many(articles),
  remarks: many(remarks),
  mentor: one(authors, { fields: [authors.mentorId], references: [authors.id], relationName: 'mentor' }),
}))
const articlesRelations = relations(articles, ({ one, many }) => ({
  author: one(authors, { fields: [articles.authorId], references: [authors.id] }),
  remarks: many(remarks),
}))
const remarksRelations = relations(remarks, ({ one }) => ({
  article: one(articles, { fields: [remarks.articleId], references: [articles.id] }),
  author: one(authors, { fields: [remarks.authorId], references: [authors.id] }),
}))
const schema = { authors, articles, remarks, authorsRelations, articlesRelations, remarksRelations }

beforeAll(async () => {
  const owner = server.roles.scram.user
  await admin(`drop schema if exists ${S} cascade`)
  await admin(`create schema ${S} authorization "${owner}"`)
  await admin(`
    create table ${S}.authors (id serial primary key, display_name text not null, joined_at timestamp(6) not null,
      joined_text timestamptz, karma int8, mentor_id int);
    create table ${S}.articles (id serial primary key, author_id int not null, title text not null, score numeric,
      published_on date, read_time interval, meta jsonb);
    create table ${S}.remarks (id serial primary key, article_id int not null, author_id int not null, body text not null,
      at timestamp not null);
    alter table ${S}.authors owner to "${owner}"; alter table ${S}.articles owner to "${owner}";
    alter table ${S}.remarks owner to "${owner}";
    insert into ${S}.authors (display_name, joined_at, joined_text, karma, mentor_id) values
      ('ada', '2020-01-02 03:04:05.123456', '2020-01-02 03:04:05.5+02', 9223372036854775807, null),
      ('bob', '1999-12-31 23:59:59.999999', null, -1, 1),
      ('cy', '0001-01-01 00:00:00', 'infinity', null, 2);
    insert into ${S}.articles (author_id, title, score, published_on, read_time, meta) values
      (1, 'engines', 1.25, '2020-02-29', '1 day 02:03:04.5', '{"n":"1","v":[1,"2"]}'),
      (1, 'notes', null, null, null, '"123"'),
      (2, 'hello', -0.5, '1970-01-01', '-3 mons', 'null'),
      (3, 'empty', 1e20, '9999-12-31', '00:00:00.000001', '[]');
    insert into ${S}.remarks (article_id, author_id, body, at) values
      (1, 2, 'nice', '2021-06-01 12:00:00.000001'), (1, 3, 'meh', '2021-06-02 00:00:00'),
      (3, 1, 'hi bob', '2022-01-01 00:00:00.5');
  `)
})

describe.each(TRANSPORTS)('relational and joined queries over %s vs node-postgres', (kind) => {
  const edge = pool(kind)
  const ref = pgPool()
  const dbs = {
    edge: drizzle(edge, { schema, casing: 'snake_case' }),
    pg: nodePgDrizzle(ref, { schema, casing: 'snake_case' }),
  }
  type Db = typeof dbs.edge
  afterAll(async () => {
    await edge.end()
    await ref.end()
  })
  async function expectSame<T>(f: (db: Db) => Promise<T>): Promise<T> {
    const ours = await f(dbs.edge)
    const theirs = await f(dbs.pg as unknown as Db)
    expect(ours).toEqual(theirs)
    return ours
  }

  it('findMany with three levels of nested with, columns, extras, where, orderBy and limit', async () => {
    const found = await expectSame((db) =>
      db.query.authors.findMany({
        orderBy: (a, { asc }) => [asc(a.id)],
        extras: { lower: sql<string>`lower(${authors.displayName})`.as('lower') },
        with: {
          mentor: { with: { mentor: true } },
          articles: {
            orderBy: (p, { desc }) => [desc(p.id)],
            limit: 5,
            with: {
              remarks: {
                where: (r, { ne }) => ne(r.body, 'x'),
                orderBy: (r, { asc }) => [asc(r.id)],
                with: { author: { columns: { displayName: true, karma: true, joinedAt: true } } },
              },
            },
          },
        },
      }),
    )
    expect(found).toHaveLength(3)
    expect(found[0]!.karma).toBe(9223372036854775807n)
    expect(found[2]!.mentor?.mentor?.displayName).toBe('ada')
  })

  it('findFirst that matches nothing, and one through a nested one() relation', async () => {
    await expectSame(async (db) => [
      await db.query.articles.findFirst({ where: (a, { eq }) => eq(a.id, 999) }),
      await db.query.remarks.findFirst({
        where: (r, { eq }) => eq(r.id, 3),
        with: { article: { with: { author: { with: { articles: true } } } }, author: true },
      }),
    ])
  })

  it('a self-join and a three-way join whose columns all share names, mapped by position', async () => {
    await expectSame(async (db) => {
      const mentor = alias(authors, 'mentor')
      const pair = await db
        .select()
        .from(authors)
        .leftJoin(mentor, eq(authors.mentorId, mentor.id))
        .orderBy(asc(authors.id))
      const three = await db
        .select({ a: authors, p: articles, r: remarks, same: sql<number>`${remarks.id}`.mapWith(Number) })
        .from(remarks)
        .innerJoin(articles, eq(remarks.articleId, articles.id))
        .rightJoin(authors, eq(remarks.authorId, authors.id))
        .orderBy(asc(authors.id), asc(remarks.id))
      const full = await db
        .select({ id1: authors.id, id2: articles.id, title: articles.title })
        .from(authors)
        .fullJoin(articles, and(eq(articles.authorId, authors.id), gt(articles.id, 2)))
        .orderBy(asc(authors.id), asc(articles.id))
      return { pair, three, full }
    })
  })

  it('a prepared query with changing params, placeholders in where, limit and offset', async () => {
    const make = (db: Db) =>
      db
        .select({ id: articles.id, title: articles.title, at: articles.publishedOn })
        .from(articles)
        .where(gt(articles.authorId, sql.placeholder('min')))
        .orderBy(desc(articles.id))
        .limit(sql.placeholder('limit'))
        .offset(sql.placeholder('offset'))
        .prepare('adv_prepared')
    const ours = make(dbs.edge)
    const theirs = make(dbs.pg as unknown as Db)
    for (const params of [
      { min: 0, limit: 10, offset: 0 },
      { min: 1, limit: 1, offset: 1 },
      { min: '0', limit: '2', offset: '0' },
      { min: 2, limit: 0, offset: 0 },
      { min: -1, limit: 100, offset: 3 },
    ]) {
      expect(await ours.execute(params)).toEqual(await theirs.execute(params))
    }
    const rel = (db: Db) =>
      db.query.authors
        .findMany({ where: (a, { eq }) => eq(a.id, sql.placeholder('id')), with: { articles: true } })
        .prepare('adv_rel_prepared')
    const [r1, r2] = [rel(dbs.edge), rel(dbs.pg as unknown as Db)]
    for (const id of [1, 2, 3, 4]) expect(await r1.execute({ id })).toEqual(await r2.execute({ id }))
  })

  it('randomised text and jsonb values round-trip as on node-postgres', async () => {
    const jsonValue = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown)
    const text = fc.string({ unit: 'grapheme', maxLength: 30 }).filter((v) => !v.includes('\u0000'))
    await fc.assert(
      fc.asyncProperty(text, jsonValue, async (title, meta) => {
        const q = (db: Db) =>
          db
            .select({
              title: sql<string>`${title}::text`,
              meta: sql`${JSON.stringify(meta)}::jsonb`.mapWith(articles.meta),
              echo: sql`${JSON.stringify(meta)}::jsonb`,
            })
            .from(sql`(select 1) as one`)
        expect(await q(dbs.edge)).toEqual(await q(dbs.pg as unknown as Db))
      }),
      { numRuns: 40 },
    )
  })
})
