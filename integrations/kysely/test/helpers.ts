/** Helpers for the Kysely integration tests: a Kysely over an edgepg pool, over TCP or through the test relay. */
import type { PoolOptions } from '@edgepg/client'
import { type Generated, Kysely, PostgresDialect, WithSchemaPlugin } from 'kysely'
import pg from 'pg'
import { expect, inject } from 'vitest'
import { pool, type TransportKind, url } from '../../../test/integration-pool.ts'
import { admin, waitFor } from '../../../test/pg-admin.ts'
import { EdgePgDialect } from '../src/index.ts'

export { admin, waitFor }

export const server = inject('pg')

export { pool, TRANSPORTS, type TransportKind, transport, url } from '../../../test/integration-pool.ts'

export interface DB {
  person: { id: Generated<number>; name: string; email: string }
  pet: { id: Generated<number>; owner_id: number; species: string }
  ledger: { id: Generated<number>; tag: string }
}

/** A Kysely on a fresh pool whose queries go to `schema`. */
export function kysely(kind: TransportKind, schema: string, options: Partial<PoolOptions> = {}): Kysely<DB> {
  return new Kysely<DB>({
    dialect: new EdgePgDialect({ pool: pool(kind, options) }),
    plugins: [new WithSchemaPlugin(schema)],
  })
}

/** A fresh schema owned by the test role, with the tables of {@link DB}. */
export async function createSchema(name: string): Promise<void> {
  const owner = server.roles.scram.user
  await admin(`drop schema if exists ${name} cascade`)
  await admin(`create schema ${name} authorization "${owner}"`)
  await admin(`
    create table ${name}.person (id serial primary key, name text not null, email text not null unique);
    create table ${name}.pet (id serial primary key, owner_id int not null references ${name}.person(id), species text not null);
    create table ${name}.ledger (id serial primary key, tag text not null);
    create sequence ${name}.fetched;
    alter table ${name}.person owner to "${owner}";
    alter table ${name}.pet owner to "${owner}";
    alter table ${name}.ledger owner to "${owner}";
    alter sequence ${name}.fetched owner to "${owner}";
  `)
}

/** Insert, select, update and delete with `returning` on an empty `person` table: what every dialect must do. */
export async function expectCrudWithReturning(db: Kysely<DB>): Promise<void> {
  const inserted = await db
    .insertInto('person')
    .values([
      { name: 'ada', email: 'ada@example.com' },
      { name: 'bob', email: 'bob@example.com' },
    ])
    .returning(['id', 'name'])
    .execute()
  expect(inserted).toEqual([
    { id: 1, name: 'ada' },
    { id: 2, name: 'bob' },
  ])
  const found = await db.selectFrom('person').selectAll().where('name', '=', 'bob').executeTakeFirstOrThrow()
  expect(found).toEqual({ id: 2, name: 'bob', email: 'bob@example.com' })
  const updated = await db
    .updateTable('person')
    .set({ name: 'robert' })
    .where('id', '=', 2)
    .returning('name')
    .executeTakeFirst()
  expect(updated).toEqual({ name: 'robert' })
  const deleted = await db.deleteFrom('person').where('id', '=', 1).returningAll().execute()
  expect(deleted).toEqual([{ id: 1, name: 'ada', email: 'ada@example.com' }])
  expect(await db.selectFrom('person').select('name').execute()).toEqual([{ name: 'robert' }])
}

/** Kysely on node-postgres (Kysely's own `PostgresDialect` over a `pg.Pool`), as the test role: the oracle. */
export function kyselyOnPg<T = DB>(schema?: string): Kysely<T> {
  return new Kysely<T>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url(), max: 1 }) }),
    plugins: schema === undefined ? [] : [new WithSchemaPlugin(schema)],
  })
}
