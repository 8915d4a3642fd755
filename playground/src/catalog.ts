/**
 * What the schema browser reads from `pg_catalog`, in one query on the session's own connection: schemas
 * (without PostgreSQL's own), their tables, views, materialized views, partitioned and foreign tables with
 * row estimates, each one's columns and indexes. Also how to quote a name as `quote_ident` does. No DOM.
 */
import type { Client } from '@edgepg/client'
import type { SchemaCompletion } from './app.ts'

/** What a relation is (`pg_class.relkind`). */
export type RelationKind = 'table' | 'view' | 'materialized view' | 'partitioned table' | 'foreign table'

export interface CatalogColumn {
  name: string
  /** As `format_type` writes it: `character varying(20)`, `integer[]`. */
  type: string
  isNotNull: boolean
  /** The default expression, or the generation expression of a generated column. */
  default: string | undefined
  isGenerated: boolean
  isIdentity: boolean
  isPrimaryKey: boolean
}

export interface CatalogIndex {
  name: string
  /** `pg_get_indexdef`: `CREATE UNIQUE INDEX t_pkey ON public.t USING btree (id)`. */
  definition: string
  isPrimary: boolean
  isUnique: boolean
  isValid: boolean
}

export interface CatalogRelation {
  name: string
  kind: RelationKind
  /** A partition of a partitioned table. */
  isPartition: boolean
  /** `reltuples`; undefined when never analysed (or vacuumed), and for views. */
  estimate: number | undefined
  columns: CatalogColumn[]
  indexes: CatalogIndex[]
}

export interface CatalogSchema {
  name: string
  /** The first `limit` relations by name. */
  relations: CatalogRelation[]
  /** How many relations the schema has in all (more than `relations.length` when capped). */
  relationCount: number
}

export interface Catalog {
  schemas: CatalogSchema[]
}

/** Relations read per schema unless told otherwise. */
export const RELATIONS_PER_SCHEMA = 500

const KINDS: Record<string, RelationKind> = {
  r: 'table',
  v: 'view',
  m: 'materialized view',
  p: 'partitioned table',
  f: 'foreign table',
}

/** PostgreSQL's own schemas (`pg_catalog`, `pg_toast`, `pg_temp_N`…; nobody else may name one `pg_…`). */
const USER_SCHEMA = `n.nspname <> 'information_schema' and n.nspname !~ '^pg_'`

/**
 * The catalog as one JSON document, `{ schemas: [{ name, count, relations: [...] }] }`, with the first `$1`
 * relations of each schema by name. Joins, not a subquery per schema: linear in the size of the catalog.
 */
export const CATALOG_SQL = `
with relations as (
  select c.oid, c.relnamespace, c.relname, c.relkind, c.reltuples, c.relispartition,
         row_number() over (partition by c.relnamespace order by c.relname) as position
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  where c.relkind in ('r', 'v', 'm', 'p', 'f') and ${USER_SCHEMA}
),
counts as (
  select relnamespace, count(*) as total from relations group by relnamespace
),
described as (
  select r.relnamespace, json_agg(json_build_object(
    'name', r.relname,
    'kind', r.relkind,
    'isPartition', r.relispartition,
    'estimate', case when r.relkind in ('v', 'f') or r.reltuples < 0 then null else r.reltuples::float8 end,
    'columns', (
      select coalesce(json_agg(json_build_object(
        'name', a.attname,
        'type', pg_catalog.format_type(a.atttypid, a.atttypmod),
        'notNull', a.attnotnull,
        'default', pg_catalog.pg_get_expr(d.adbin, d.adrelid),
        'generated', a.attgenerated <> '',
        'identity', a.attidentity <> '',
        'primaryKey', exists (
          select from pg_catalog.pg_index p
          where p.indrelid = a.attrelid and p.indisprimary and a.attnum = any (p.indkey)
        )
      ) order by a.attnum), '[]')
      from pg_catalog.pg_attribute a
      left join pg_catalog.pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
      where a.attrelid = r.oid and a.attnum > 0 and not a.attisdropped
    ),
    'indexes', (
      select coalesce(json_agg(json_build_object(
        'name', i.relname,
        'definition', pg_catalog.pg_get_indexdef(x.indexrelid),
        'primary', x.indisprimary,
        'unique', x.indisunique,
        'valid', x.indisvalid
      ) order by i.relname), '[]')
      from pg_catalog.pg_index x
      join pg_catalog.pg_class i on i.oid = x.indexrelid
      where x.indrelid = r.oid
    )
  ) order by r.relname) as list
  from relations r
  where r.position <= $1::int
  group by r.relnamespace
)
select json_build_object('schemas', coalesce(json_agg(json_build_object(
  'name', n.nspname,
  'count', coalesce(c.total, 0),
  'relations', coalesce(d.list, '[]')
) order by n.nspname), '[]')) as catalog
from pg_catalog.pg_namespace n
left join counts c on c.relnamespace = n.oid
left join described d on d.relnamespace = n.oid
where ${USER_SCHEMA}
`

/**
 * Reads the catalog over `client` (one parameterised query). Rejects with the server's error when the
 * query fails (an aborted transaction, a missing privilege) and with an `Error` when the answer is not what
 * the query returns.
 */
export async function readCatalog(
  client: Pick<Client, 'query'>,
  limit: number = RELATIONS_PER_SCHEMA,
): Promise<Catalog> {
  if (!Number.isInteger(limit) || limit < 0)
    throw new Error(`expected the relations per schema as a whole number ≥ 0, found ${limit}`)
  const { rows } = await client.query<{ catalog: unknown }>(CATALOG_SQL, [limit])
  return parseCatalog(rows[0]?.catalog)
}

type Raw = Record<string, unknown>

const isRecord = (value: unknown): value is Raw =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** Checks and converts the query's JSON document; throws an `Error` saying what it found otherwise. */
export function parseCatalog(value: unknown): Catalog {
  const document = typeof value === 'string' ? (JSON.parse(value) as unknown) : value
  if (!isRecord(document) || !Array.isArray(document.schemas))
    throw new Error(`expected the catalog as { schemas: [...] }, found ${kindOf(document)}`)
  return {
    schemas: document.schemas.map((schema: unknown): CatalogSchema => {
      const raw = record(schema, 'a schema')
      const relations = list(raw.relations, 'relations').map(relation)
      return { name: text(raw.name, 'a schema name'), relations, relationCount: count(raw.count) }
    }),
  }
}

function relation(value: unknown): CatalogRelation {
  const raw = record(value, 'a relation')
  const kind = KINDS[text(raw.kind, 'a relation kind')]
  if (kind === undefined) throw new Error(`expected a relation kind of r, v, m, p or f, found ${raw.kind}`)
  return {
    name: text(raw.name, 'a relation name'),
    kind,
    isPartition: raw.isPartition === true,
    estimate: typeof raw.estimate === 'number' ? raw.estimate : undefined,
    columns: list(raw.columns, 'columns').map((column) => {
      const c = record(column, 'a column')
      return {
        name: text(c.name, 'a column name'),
        type: text(c.type, 'a column type'),
        isNotNull: c.notNull === true,
        default: typeof c.default === 'string' ? c.default : undefined,
        isGenerated: c.generated === true,
        isIdentity: c.identity === true,
        isPrimaryKey: c.primaryKey === true,
      }
    }),
    indexes: list(raw.indexes, 'indexes').map((index) => {
      const i = record(index, 'an index')
      return {
        name: text(i.name, 'an index name'),
        definition: text(i.definition, 'an index definition'),
        isPrimary: i.primary === true,
        isUnique: i.unique === true,
        isValid: i.valid !== false,
      }
    }),
  }
}

const kindOf = (value: unknown) =>
  Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value

function record(value: unknown, what: string): Raw {
  if (!isRecord(value)) throw new Error(`expected ${what} as an object, found ${kindOf(value)}`)
  return value
}

function list(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`expected ${what} as an array, found ${kindOf(value)}`)
  return value
}

function text(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new Error(`expected ${what} as text, found ${kindOf(value)}`)
  return value
}

function count(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
    throw new Error(`expected a relation count, found ${kindOf(value)}`)
  return value
}

/** The columns' names per table per schema, as the editor's completion takes them. */
export function completionOf(catalog: Catalog): SchemaCompletion {
  const completion: SchemaCompletion = {}
  for (const schema of catalog.schemas) {
    const tables: Record<string, string[]> = {}
    for (const relation of schema.relations) tables[relation.name] = relation.columns.map((c) => c.name)
    completion[schema.name] = tables
  }
  return completion
}

/**
 * Words `quote_ident` quotes although they are lower-case letters (PostgreSQL 18's keywords of the column
 * name, type or function name and reserved categories; unreserved keywords need no quotes).
 */
const QUOTED_KEYWORDS = new Set(
  (
    'all analyse analyze and any array as asc asymmetric authorization between bigint binary bit boolean both ' +
    'case cast char character check coalesce collate collation column concurrently constraint create cross ' +
    'current_catalog current_date current_role current_schema current_time current_timestamp current_user dec ' +
    'decimal default deferrable desc distinct do else end except exists extract false fetch float for foreign ' +
    'freeze from full grant greatest group grouping having ilike in initially inner inout int integer intersect ' +
    'interval into is isnull join json json_array json_arrayagg json_exists json_object json_objectagg ' +
    'json_query json_scalar json_serialize json_table json_value lateral leading least left like limit ' +
    'localtime localtimestamp merge_action national natural nchar none normalize not notnull null nullif ' +
    'numeric offset on only or order out outer overlaps overlay placing position precision primary real ' +
    'references returning right row select session_user setof similar smallint some substring symmetric ' +
    'system_user table tablesample then time timestamp to trailing treat trim true union unique user using ' +
    'values varchar variadic verbose when where window with xmlattributes xmlconcat xmlelement xmlexists ' +
    'xmlforest xmlnamespaces xmlparse xmlpi xmlroot xmlserialize xmltable'
  ).split(' '),
)

/**
 * `name` as SQL writes it, with `quote_ident`'s rule: as it is when it is lower-case letters, digits and
 * `_` (not starting with a digit) and not a keyword that needs quotes; otherwise in double quotes, with
 * each `"` doubled.
 */
export function quoteIdent(name: string): string {
  if (/^[a-z_][a-z0-9_]*$/.test(name) && !QUOTED_KEYWORDS.has(name)) return name
  return `"${name.replaceAll('"', '""')}"`
}

/** What a click on a table drafts: `select * from <schema>.<table> limit 100`, both names quoted. */
export function selectStatement(schema: string, table: string): string {
  return `select * from ${quoteIdent(schema)}.${quoteIdent(table)} limit 100`
}

/** Command tags of statements that change no catalog (CREATE TABLE AS and SELECT INTO answer SELECT too). */
const READS_ONLY = new Set([
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'MERGE',
  'COPY',
  'FETCH',
  'MOVE',
  'SHOW',
  'SET',
  'RESET',
  'EXPLAIN',
  'LISTEN',
  'UNLISTEN',
  'NOTIFY',
  'BEGIN',
  'START TRANSACTION',
  'SAVEPOINT',
  'RELEASE',
  'DECLARE CURSOR',
  'CLOSE CURSOR',
  'DEALLOCATE',
  'DEALLOCATE ALL',
  'LOCK TABLE',
])

/** Words of statements that may change the catalog or its estimates, wherever they appear in the text. */
const CHANGES_CATALOG =
  /\b(create|alter|drop|comment|grant|revoke|analy[sz]e|vacuum|truncate|reindex|cluster|refresh|import|security|do|call|execute)\b|\bselect\b[^;]*\binto\b/i

/**
 * Whether a run may have changed what the browser shows: a run that did not reach the server, a statement
 * outside {@link READS_ONLY} (DDL, COMMIT or ROLLBACK of a transaction that may hold DDL, …), or text that
 * names a catalog-changing command (CREATE TABLE AS answers SELECT). Runs of plain queries and DML do not
 * re-read a large catalog.
 */
export function mayChangeCatalog(
  run: { sql: string; commands?: readonly string[] | undefined } | undefined,
): boolean {
  if (run?.commands === undefined) return true
  return run.commands.some((command) => !READS_ONLY.has(command)) || CHANGES_CATALOG.test(run.sql)
}
