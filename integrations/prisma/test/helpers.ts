/**
 * Helpers for the Prisma integration tests: a generated Prisma Client 7 on @edgepg/prisma (over TCP or the
 * test relay) or on @prisma/adapter-pg (node-postgres, the reference), each in a schema of its own.
 */
import { createPool, type Pool, type PoolOptions, type Transport } from '@edgepg/client'
import { nodeSocket } from '@edgepg/client/node'
import { webSocket } from '@edgepg/client/websocket'
import { PrismaPg } from '@prisma/adapter-pg'
import { inject } from 'vitest'
import { admin, waitFor } from '../../../test/pg-admin.ts'
import { PrismaClient } from '../generated/node/client.ts'
import { PrismaEdgePg } from '../src/index.ts'

export { admin, PrismaClient, waitFor }
export const server = inject('pg')

/** Both transports run in the one `integrations` project. */
export const TRANSPORTS = ['tcp', 'websocket'] as const
export type TransportKind = (typeof TRANSPORTS)[number]

export function transport(kind: TransportKind): Transport {
  return kind === 'websocket' ? webSocket({ url: inject('relayUrl') }) : nodeSocket()
}

/** The test role's URL; with `schema`, its sessions' search_path is that schema (for raw SQL). */
export function url(schema?: string): string {
  const { user, password } = server.roles.scram
  const base = `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${server.host}:${server.port}/${server.database}`
  return schema === undefined ? base : `${base}?options=${encodeURIComponent(`-c search_path=${schema}`)}`
}

/** An edgepg pool (default types: Prisma's queries ask for text themselves), its search_path `schema`. */
export function pool(kind: TransportKind, schema?: string, options: Partial<PoolOptions> = {}): Pool {
  return createPool(url(schema), { transport: transport(kind), ...options })
}

/** A Prisma Client on @edgepg/prisma whose queries go to `schema`. */
export function prisma(
  kind: TransportKind,
  schema: string,
  options: Partial<PoolOptions> = {},
): PrismaClient {
  // A function source: the adapter owns the pools it makes and ends them on $disconnect.
  return new PrismaClient({ adapter: new PrismaEdgePg(() => pool(kind, schema, options), { schema }) })
}

/** A Prisma Client on Prisma's own pg adapter (node-postgres) whose queries go to `schema`. */
export function prismaOnPg(schema: string): PrismaClient {
  const { user, password } = server.roles.scram
  const adapter = new PrismaPg(
    {
      host: server.host,
      port: server.port,
      user,
      password,
      database: server.database,
      options: `-c search_path=${schema}`,
    },
    { schema },
  )
  return new PrismaClient({ adapter })
}

/** A fresh schema owned by the test role, with the tables of prisma/schema.prisma (made with SQL). */
export async function createSchema(name: string): Promise<void> {
  const owner = server.roles.scram.user
  await admin(`drop schema if exists ${name} cascade`)
  await admin(`create schema ${name} authorization "${owner}"`)
  await admin(`
    set role "${owner}";
    create table ${name}.person (id serial primary key, name text not null, email text not null unique);
    create table ${name}.pet (id serial primary key, owner_id int not null references ${name}.person(id), species text not null);
    create table ${name}.ledger (id serial primary key, tag text not null);
    create type ${name}.mood as enum ('happy', 'sad', 'meh');
    create table ${name}.kitchen (
      id int primary key,
      small_int smallint, integer integer, big_int bigint, decimal decimal(30, 10), numeric numeric,
      real real, double double precision, boolean boolean, text text, var_char varchar(20), char char(5),
      uuid uuid, json json, jsonb jsonb, bytes bytea, date date, time time(6), timetz timetz(6),
      timestamp timestamp(6), timestamptz timestamptz(6), xml xml, inet inet, money money, bit bit(4),
      var_bit varbit(16), mood ${name}.mood,
      ints int[], big_ints bigint[], texts text[], floats double precision[], decimals decimal(65, 30)[],
      bools boolean[], stamps timestamptz(6)[], blobs bytea[], moods ${name}.mood[], jsons jsonb[]
    );
    reset role;
  `)
}

/** Drops `name` and everything in it. */
export async function dropSchema(name: string): Promise<void> {
  await admin(`drop schema if exists ${name} cascade`)
}
