/**
 * The schema browser's catalog query and quoting against the test PostgreSQL: what it reads for tables,
 * views, partitions and their columns and indexes, the cap per schema, and `quoteIdent` checked against the
 * server's own `quote_ident`.
 */
import { type Client, type Connection, connect, isDatabaseError } from '@edgepg/client'
import { nodeSocket } from '@edgepg/client/node'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import {
  type Catalog,
  completionOf,
  mayChangeCatalog,
  parseCatalog,
  quoteIdent,
  readCatalog,
  selectStatement,
} from './catalog.ts'

const pg = inject('pg')
const SCHEMA = 'catalog test'
const OTHER = 'catalog_test_capped'
let client: Client
let connection: Connection
let done: Promise<void>

beforeAll(async () => {
  const role = pg.roles.scram
  ;[client, connection] = await connect(
    { host: pg.host, port: pg.port, user: role.user, password: role.password, database: pg.database },
    { transport: nodeSocket() },
  )
  connection.on('notice', () => {}) // drop … if exists, cascades
  done = connection.run()
  done.catch(() => {})
  await client.simpleQuery(`
    drop schema if exists "${SCHEMA}" cascade;
    drop schema if exists ${OTHER} cascade;
    create schema "${SCHEMA}";
    create schema ${OTHER};
    create table ${OTHER}.t1 (); create table ${OTHER}.t2 (); create table ${OTHER}.t3 ();
    create table "${SCHEMA}"."Mixed Case""Q" (
      id int generated always as identity,
      region text not null,
      gone int,
      name varchar(20) not null default 'nobody',
      price numeric(10, 2),
      tags text[],
      doubled numeric generated always as (price * 2) stored,
      primary key (region, id)
    );
    alter table "${SCHEMA}"."Mixed Case""Q" drop column gone;
    create unique index "by name" on "${SCHEMA}"."Mixed Case""Q" (lower(name));
    create view "${SCHEMA}".cheap as select name from "${SCHEMA}"."Mixed Case""Q" where price < 10;
    create materialized view "${SCHEMA}".counted as select count(*) as n from "${SCHEMA}"."Mixed Case""Q";
    create table "${SCHEMA}".events (at date not null) partition by range (at);
    create table "${SCHEMA}".events_2026 partition of "${SCHEMA}".events
      for values from ('2026-01-01') to ('2027-01-01');
    create table "${SCHEMA}".analysed (n int);
    insert into "${SCHEMA}".analysed select generate_series(1, 300);
    analyze "${SCHEMA}".analysed;
    create temporary table scratch (n int);
  `)
})

afterAll(async () => {
  await client
    ?.simpleQuery(`drop schema if exists "${SCHEMA}" cascade; drop schema if exists ${OTHER} cascade`)
    .catch(() => {})
  await client?.end()
  await done
})

const schemaOf = (catalog: Catalog, name: string) => catalog.schemas.find((schema) => schema.name === name)

describe('readCatalog', () => {
  it('reads tables, views, materialized views and partitions with their kinds and row estimates', async () => {
    const schema = schemaOf(await readCatalog(client), SCHEMA)!
    const kinds = schema.relations.map((r) => [r.name, r.kind, r.isPartition, r.estimate])
    expect(kinds).toEqual([
      ['Mixed Case"Q', 'table', false, undefined],
      ['analysed', 'table', false, 300],
      ['cheap', 'view', false, undefined],
      ['counted', 'materialized view', false, undefined],
      ['events', 'partitioned table', false, undefined],
      ['events_2026', 'table', true, undefined],
    ])
    expect(schema.relationCount).toBe(6)
  })

  it('reads columns in order with their types, NOT NULL, defaults, identity, generation and the key', async () => {
    const table = schemaOf(await readCatalog(client), SCHEMA)!.relations[0]!
    expect(table.columns).toEqual([
      {
        name: 'id',
        type: 'integer',
        isNotNull: true,
        default: undefined,
        isGenerated: false,
        isIdentity: true,
        isPrimaryKey: true,
      },
      {
        name: 'region',
        type: 'text',
        isNotNull: true,
        default: undefined,
        isGenerated: false,
        isIdentity: false,
        isPrimaryKey: true,
      },
      {
        name: 'name',
        type: 'character varying(20)',
        isNotNull: true,
        default: "'nobody'::character varying",
        isGenerated: false,
        isIdentity: false,
        isPrimaryKey: false,
      },
      {
        name: 'price',
        type: 'numeric(10,2)',
        isNotNull: false,
        default: undefined,
        isGenerated: false,
        isIdentity: false,
        isPrimaryKey: false,
      },
      {
        name: 'tags',
        type: 'text[]',
        isNotNull: false,
        default: undefined,
        isGenerated: false,
        isIdentity: false,
        isPrimaryKey: false,
      },
      {
        name: 'doubled',
        type: 'numeric',
        isNotNull: false,
        default: '(price * (2)::numeric)',
        isGenerated: true,
        isIdentity: false,
        isPrimaryKey: false,
      },
    ])
  })

  it('reads indexes with their definitions, the primary key first by name', async () => {
    const table = schemaOf(await readCatalog(client), SCHEMA)!.relations[0]!
    expect(table.indexes).toEqual([
      {
        name: 'Mixed Case"Q_pkey',
        definition: `CREATE UNIQUE INDEX "Mixed Case""Q_pkey" ON "catalog test"."Mixed Case""Q" USING btree (region, id)`,
        isPrimary: true,
        isUnique: true,
        isValid: true,
      },
      {
        name: 'by name',
        definition: `CREATE UNIQUE INDEX "by name" ON "catalog test"."Mixed Case""Q" USING btree (lower((name)::text))`,
        isPrimary: false,
        isUnique: true,
        isValid: true,
      },
    ])
  })

  it('leaves out PostgreSQL’s own schemas and this session’s temporary one', async () => {
    const names = (await readCatalog(client)).schemas.map((schema) => schema.name)
    expect(names).toContain('public')
    expect(names.filter((name) => name.startsWith('pg_') || name === 'information_schema')).toEqual([])
    const [temp] = await client.simpleQuery(
      `select nspname from pg_namespace where oid = pg_my_temp_schema()`,
    )
    expect(temp!.rows[0]!.nspname).toMatch(/^pg_temp_\d+$/)
  })

  it('reads at most the given number of relations per schema and counts them all', async () => {
    const catalog = await readCatalog(client, 2)
    const capped = schemaOf(catalog, OTHER)!
    expect(capped.relations.map((r) => r.name)).toEqual(['t1', 't2'])
    expect(capped.relationCount).toBe(3)
    await expect(readCatalog(client, -1)).rejects.toThrow(
      'expected the relations per schema as a whole number ≥ 0, found -1',
    )
  })

  it('rejects with the server’s error in an aborted transaction, and the session goes on', async () => {
    await client.simpleQuery('begin')
    await client.simpleQuery('select 1/0').catch(() => {})
    const error = await readCatalog(client).catch((e: unknown) => e)
    expect(isDatabaseError(error) && error.code).toBe('25P02')
    await client.simpleQuery('rollback')
    expect(schemaOf(await readCatalog(client), SCHEMA)).toBeDefined()
  })

  it('gives the editor each table’s column names per schema', async () => {
    const completion = completionOf(await readCatalog(client))
    expect(completion[SCHEMA]?.['Mixed Case"Q']).toEqual(['id', 'region', 'name', 'price', 'tags', 'doubled'])
    expect(completion[OTHER]).toEqual({ t1: [], t2: [], t3: [] })
  })
})

describe('parseCatalog', () => {
  it('says what it expected and found', () => {
    expect(() => parseCatalog(null)).toThrow('expected the catalog as { schemas: [...] }, found null')
    expect(() => parseCatalog({ schemas: [{ name: 1 }] })).toThrow(
      'expected relations as an array, found undefined',
    )
    expect(() =>
      parseCatalog({ schemas: [{ name: 's', count: 1, relations: [{ name: 't', kind: 'x' }] }] }),
    ).toThrow('expected a relation kind of r, v, m, p or f, found x')
  })
})

describe('quoteIdent', () => {
  /** The server's `quote_ident` for each name. */
  async function serverQuoted(names: string[]): Promise<string[]> {
    const { rows } = await client.query<{ q: string }>(
      'select quote_ident(n) as q from unnest($1::text[]) with ordinality as t(n, i) order by i',
      [names],
    )
    return rows.map((row) => row.q)
  }

  it('quotes every keyword exactly when the server does', async () => {
    const { rows } = await client.query<{ word: string }>('select word from pg_get_keywords() order by word')
    const words = rows.map((row) => row.word)
    expect(words.length).toBeGreaterThan(400)
    expect(words.map(quoteIdent)).toEqual(await serverQuoted(words))
  })

  it('quotes names as the server does: case, spaces, quotes, digits, $ and non-ASCII', async () => {
    const names = ['Mixed Case"Q', 'odd schema', 'plain', '_x1', '1abc', 'a$b', 'ünï', '', 'ABC', 'name']
    expect(names.map(quoteIdent)).toEqual(await serverQuoted(names))
    expect(quoteIdent('Mixed Case"Q')).toBe('"Mixed Case""Q"')
    expect(selectStatement('odd schema', 'Mixed Case"Q')).toBe(
      'select * from "odd schema"."Mixed Case""Q" limit 100',
    )
  })

  it('agrees with the server on random names', async () => {
    const name = fc.oneof(
      fc.stringMatching(/^[a-z_][a-z0-9_]{0,8}$/),
      fc.string({ unit: fc.constantFrom('a', 'B', '"', ' ', '_', '1', '$', 'é') }),
      fc.string({ unit: 'grapheme' }),
    )
    const samples = fc.sample(
      name.filter((n) => !n.includes('\0')),
      500,
    )
    expect(samples.map(quoteIdent)).toEqual(await serverQuoted(samples))
  })
})

describe('mayChangeCatalog', () => {
  it('re-reads after DDL, ANALYZE, a transaction end, CREATE TABLE AS, SELECT INTO, DO and a run that never ran', () => {
    const changes = [
      { sql: 'create table t (a int)', commands: ['CREATE TABLE'] },
      { sql: 'analyze', commands: ['ANALYZE'] },
      { sql: 'begin; create table t (a int)', commands: ['BEGIN', 'CREATE TABLE'] },
      { sql: 'commit', commands: ['COMMIT'] },
      { sql: 'rollback', commands: ['ROLLBACK'] },
      { sql: 'create table t as select 1', commands: ['SELECT'] },
      { sql: 'select 1 as a into t', commands: ['SELECT'] },
      { sql: "do $$ begin execute 'create table t ()'; end $$", commands: ['DO'] },
      { sql: 'call p()', commands: ['CALL'] },
      { sql: 'select 1', commands: undefined },
      undefined,
    ]
    for (const run of changes) expect(mayChangeCatalog(run), JSON.stringify(run)).toBe(true)
  })

  it('does not re-read after plain queries, DML, SET and LISTEN', () => {
    const reads = [
      { sql: 'select * from orders', commands: ['SELECT'] },
      {
        sql: 'insert into t values (1); update t set a = 2; delete from t',
        commands: ['INSERT', 'UPDATE', 'DELETE'],
      },
      { sql: 'set search_path = public; show timezone', commands: ['SET', 'SHOW'] },
      { sql: "listen jobs; notify jobs, 'x'", commands: ['LISTEN', 'NOTIFY'] },
      { sql: 'begin; select 1', commands: ['BEGIN', 'SELECT'] },
    ]
    for (const run of reads) expect(mayChangeCatalog(run), run.sql).toBe(false)
  })
})
