import pg from 'pg'
import { inject } from 'vitest'
import { admin } from '../../../test/pg-admin.ts'

export { admin }

export const server = inject('pg')

export { pool, TRANSPORTS, type TransportKind, transport, url } from '../../../test/integration-pool.ts'

/** A node-postgres pool as the test role (the reference for differential tests). */
export function pgPool(): pg.Pool {
  const { user, password } = server.roles.scram
  return new pg.Pool({
    host: server.host,
    port: server.port,
    user,
    password,
    database: server.database,
    max: 2,
  })
}

/** A fresh schema owned by the test role, with the tables of ./schema.ts. */
export async function createSchema(name: string): Promise<void> {
  const owner = server.roles.scram.user
  await admin(`drop schema if exists ${name} cascade`)
  await admin(`create schema ${name} authorization "${owner}"`)
  await admin(`
    create table ${name}.users (id serial primary key, name text not null, email text not null unique);
    create table ${name}.posts (id serial primary key, author_id int not null references ${name}.users(id), title text not null);
    create table ${name}.ledger (id serial primary key, tag text not null);
    alter table ${name}.users owner to "${owner}";
    alter table ${name}.posts owner to "${owner}";
    alter table ${name}.ledger owner to "${owner}";
  `)
}

/** Empties the tables of `name` and restarts their ids. */
export async function truncate(name: string): Promise<void> {
  await admin(`truncate ${name}.posts, ${name}.users, ${name}.ledger restart identity cascade`)
}

/** A function that resolves once it has been called `parties` times (for all callers at once). */
export function barrier(parties: number): () => Promise<void> {
  let arrived = 0
  let open!: () => void
  const opened = new Promise<void>((resolve) => {
    open = resolve
  })
  return () => {
    arrived += 1
    if (arrived === parties) open()
    return opened
  }
}
