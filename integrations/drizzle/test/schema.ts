/** The Drizzle schema of the integration tests: users, posts (a relation), a ledger for transactions. */
import { relations } from 'drizzle-orm'
import { integer, pgSchema, serial, text } from 'drizzle-orm/pg-core'

/** The tables of one test schema (each test file uses its own PostgreSQL schema). */
export function tables(name: string) {
  const schema = pgSchema(name)
  const users = schema.table('users', {
    id: serial('id').primaryKey(),
    name: text('name').notNull(),
    email: text('email').notNull().unique(),
  })
  const posts = schema.table('posts', {
    id: serial('id').primaryKey(),
    authorId: integer('author_id')
      .notNull()
      .references(() => users.id),
    title: text('title').notNull(),
  })
  const ledger = schema.table('ledger', { id: serial('id').primaryKey(), tag: text('tag').notNull() })
  const usersRelations = relations(users, ({ many }) => ({ posts: many(posts) }))
  const postsRelations = relations(posts, ({ one }) => ({
    author: one(users, { fields: [posts.authorId], references: [users.id] }),
  }))
  return { users, posts, ledger, usersRelations, postsRelations }
}

export type Tables = ReturnType<typeof tables>
