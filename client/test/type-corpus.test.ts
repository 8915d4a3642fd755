// The differential type corpus: every expression of type-corpus.data.ts through every path — (a) the first
// run of client.query (text results, statement being prepared), (b) the cached run of the same SQL (binary
// results where edgepg has a binary decoder), (c) simpleQuery (text) — under several time zones, interval
// styles and date orders. The oracle is the server's own text of each value, as its output function prints it,
// read by node-postgres (another wire parser, another UTF-8 decoder) in a session with the same settings; the
// three paths must also agree with each other. Expressions go in one wide row per query.
import { type Client, type FieldDescription, isPgError, type QueryResult } from '@edgepg/client'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Opened, open, server } from './helpers.ts'
import { corpus, lossy, undecodable } from './type-corpus.data.ts'
import { mismatch, type Styles, sameValue, show } from './type-corpus.oracle.ts'

const TIME_ZONES = [
  'UTC',
  'Asia/Kolkata', // +05:30, no DST
  'America/Los_Angeles', // negative, DST
  'Pacific/Chatham', // +12:45 / +13:45, DST
  'America/St_Johns', // -03:30 / -02:30, DST
  'Europe/Amsterdam', // LMT +00:19:32 before 1835, DST
]
const INTERVAL_STYLES: Styles['intervalStyle'][] = [
  'postgres',
  'postgres_verbose',
  'sql_standard',
  'iso_8601',
]
const DATE_ORDERS = ['MDY', 'DMY', 'YMD']

/** Every combination of time zone and interval style, with the date orders in turn. */
const sessions = TIME_ZONES.flatMap((timeZone, z) =>
  INTERVAL_STYLES.map((intervalStyle, s) => ({
    timeZone,
    intervalStyle,
    dateStyle: `ISO, ${DATE_ORDERS[(z + s) % DATE_ORDERS.length]}`,
  })),
)

let db: Opened
/** The oracle: node-postgres over TCP, every value kept as the text the server sent. */
let oracle: pg.Client
beforeAll(async () => {
  db = await open()
  oracle = new pg.Client({
    host: server.host,
    port: server.port,
    user: server.superuser.user,
    password: server.superuser.password,
    database: server.database,
    types: { getTypeParser: () => (text: string) => text },
  })
  await oracle.connect()
})
afterAll(async () => {
  await db.client.end()
  await oracle.end()
})

/** One wide row: column `cN` is expression N. */
const select = (exprs: readonly string[], tag: string) =>
  `select ${exprs.map((e, i) => `(${e}) as c${i}`).join(', ')} /* ${tag} */`

interface Paths {
  text: QueryResult
  binary: QueryResult
  simple: QueryResult
}

/** The same SQL through the three paths; a fresh tag makes the first run really the first. */
async function runPaths(client: Client, sql: string): Promise<Paths> {
  const text = await client.query(sql)
  const binary = await client.query(sql)
  const [simple] = await client.simpleQuery(sql)
  return { text, binary, simple: simple! }
}

type Settings = { timeZone: string; intervalStyle: string; dateStyle: string }

const setting = (s: Settings) =>
  `set time zone '${s.timeZone}'; set intervalstyle = ${s.intervalStyle}; set datestyle = '${s.dateStyle}'`

async function setSession(client: Client, settings: Settings) {
  await client.simpleQuery(setting(settings))
}

/** Every disagreement in one row, one line each, so a failure lists them all. */
function compare(
  paths: Paths,
  oracle: Record<string, unknown>,
  exprs: readonly string[],
  styles: Styles,
): string[] {
  const problems: string[] = []
  const fields: FieldDescription[] = paths.text.fields
  exprs.forEach((expr, i) => {
    const column = `c${i}`
    const oid = fields[i]!.typeOid
    const text = oracle[column] as string | null
    for (const [path, result] of Object.entries(paths) as [keyof Paths, QueryResult][]) {
      const value = result.rows[0]![column]
      const found = mismatch(value, text, oid, styles)
      if (found !== undefined) problems.push(`${path} ${expr} (oid ${oid}): ${found}`)
    }
    const [a, b, c] = [paths.text, paths.binary, paths.simple].map((r) => r.rows[0]![column])
    if (!sameValue(a, b) || !sameValue(a, c))
      problems.push(`paths differ for ${expr}: text ${show(a)}, binary ${show(b)}, simple ${show(c)}`)
  })
  return problems
}

describe('the type corpus against the server text, on every path', () => {
  it(`has at least 300 expressions (${corpus.length})`, () => {
    expect(corpus.length).toBeGreaterThanOrEqual(300)
  })

  for (const [n, settings] of sessions.entries()) {
    it(`decodes every value as the server prints it: TimeZone ${settings.timeZone}, IntervalStyle ${settings.intervalStyle}, DateStyle ${settings.dateStyle}`, async () => {
      await setSession(db.client, settings)
      const tag = `corpus ${n}`
      const paths = await runPaths(db.client, select(corpus, tag))
      expect(paths.text.fields.every((f) => f.format === 0)).toBe(true)
      expect(paths.binary.fields.filter((f) => f.format === 1).length).toBeGreaterThan(corpus.length / 2)
      await oracle.query(setting(settings))
      const printed = await oracle.query(select(corpus, `${tag} oracle`))
      expect(compare(paths, printed.rows[0], corpus, settings).join('\n')).toBe('')
    })
  }
})

describe('values JavaScript holds only approximately', () => {
  it('gives the nearest double on every path', async () => {
    await setSession(db.client, sessions[0]!)
    const paths = await runPaths(
      db.client,
      select(
        lossy.map((c) => c.sql),
        'lossy',
      ),
    )
    for (const [i, c] of lossy.entries()) {
      for (const result of Object.values(paths)) expect(result.rows[0]![`c${i}`], c.sql).toEqual(c.value)
    }
  })
})

describe('values no JavaScript value holds', () => {
  for (const { sql, error } of undecodable) {
    for (const timeZone of ['UTC', 'Asia/Kolkata']) {
      it(`rejects ${sql} with the same encode error on every path (TimeZone ${timeZone}), and the connection goes on`, async () => {
        await setSession(db.client, { timeZone, intervalStyle: 'postgres', dateStyle: 'ISO, MDY' })
        const text = `select ${sql} as v /* ${timeZone} */`
        const failures = [
          await db.client.query(text).catch((e: unknown) => e),
          await db.client.query(text).catch((e: unknown) => e),
          await db.client.simpleQuery(text).catch((e: unknown) => e),
        ]
        for (const failure of failures) {
          expect(isPgError(failure, 'encode'), String(failure)).toBe(true)
          expect((failure as Error).message).toMatch(error)
        }
        expect(new Set(failures.map((f) => (f as Error).message)).size).toBe(1)
        expect((await db.client.queryOne<{ n: number }>('select 1 as n')).n).toBe(1)
      })
    }
  }

  it('reads them as text with dates: string', async () => {
    const { client } = await open({ types: { dates: 'string' } })
    try {
      const sql = `select '294276-12-31 23:59:59.999999'::timestamp as t, '294276-12-31 23:59:59+00'::timestamptz as tz`
      for (const row of [await client.queryOne(sql), await client.queryOne(sql)]) {
        expect(row).toEqual({ t: '294276-12-31 23:59:59.999999', tz: '294276-12-31 23:59:59+00' })
      }
    } finally {
      await client.end()
    }
  })
})
