// The type corpus through Kysely, differentially: every expression of client/test/type-corpus.data.ts selected
// through Kysely on edgepg (EdgePgDialect, over TCP and through the relay) and through Kysely on node-postgres
// (Kysely's own PostgresDialect over a pg.Pool, the oracle). Every edgepg value is mapped through the table of
// deliberate differences (pg-mapping.ts) and must then equal pg's value; the edgepg pool has one connection,
// so the second run of the same SQL is the cached statement with binary results, and it must agree too. Both
// run with the process in UTC and in America/St_Johns (-03:30), where reading timestamps as local time (pg)
// and as UTC (edgepg) part ways.
import { isPgError } from '@edgepg/client'
import { Kysely, sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { corpus, undecodable } from '../../../client/test/type-corpus.data.ts'
import { show } from '../../../client/test/type-corpus.oracle.ts'
import { EdgePgDialect } from '../src/index.ts'
import { admin, kyselyOnPg, pool, server, TRANSPORTS } from './helpers.ts'
import { sameAsPg, toPg } from './pg-mapping.ts'
import { PARAM_TYPES, paramProblems, paramTable } from './type-corpus.params.ts'
import {
  createTables,
  inTimeZone,
  ROUND_TRIP_TYPES,
  roundTrip,
  TIME_ZONES,
  tableName,
} from './type-corpus.tables.ts'

// biome-ignore lint/suspicious/noExplicitAny: the corpus' rows are as wide as the corpus, untyped
type AnyDB = any

/** One wide row: column `cN` is expression N. */
const wideSelect = (exprs: readonly string[]) =>
  sql.raw(`select ${exprs.map((e, i) => `(${e}) as c${i}`).join(', ')}`)

/** The type OID of every corpus expression, as the server resolves it. */
async function typeOids(exprs: readonly string[]): Promise<number[]> {
  const [row] = await admin<Record<string, number>>(
    `select ${exprs.map((e, i) => `pg_typeof(${e})::oid::int as c${i}`).join(', ')}`,
  )
  return exprs.map((_, i) => row![`c${i}`]!)
}

/**
 * The corpus values pg reads as an Invalid Date (past the Date range, year 275760, in the process's local
 * time), which it then cannot write back; edgepg gives them as the date's text or a UTC Date.
 */
const INVALID_ON_PG: Record<(typeof TIME_ZONES)[number], string[]> = {
  UTC: [`'5874897-12-31'::date`],
  'America/St_Johns': [
    `'5874897-12-31'::date`,
    `'275760-09-12 23:59:59.999999'::timestamp`, // 275760-09-13 03:30 UTC as local time: past the Date range
    `'275760-09-13 00:00:00'::timestamp`,
  ],
}

describe.each(TRANSPORTS)(
  'the type corpus through Kysely on edgepg over %s, against Kysely on pg',
  (kind) => {
    const schema = `kysely_corpus_${kind}`
    let edge: Kysely<AnyDB>
    let onPg: Kysely<AnyDB>
    let oids: number[]

    beforeAll(async () => {
      edge = new Kysely<AnyDB>({
        dialect: new EdgePgDialect({ pool: pool(kind, { max: 1 }) }),
      })
      onPg = kyselyOnPg<AnyDB>()
      oids = await typeOids(corpus)
    })
    afterAll(async () => {
      await edge?.destroy()
      await onPg?.destroy()
    })

    for (const timeZone of TIME_ZONES) {
      it(`gives every corpus value as Kysely on pg does, after the documented mapping, on both result formats (process TZ ${timeZone})`, async () => {
        await inTimeZone(timeZone, async () => {
          const query = wideSelect(corpus)
          const first = (await query.execute(edge)).rows[0] as Record<string, unknown>
          const cached = (await query.execute(edge)).rows[0] as Record<string, unknown>
          const oracle = (await query.execute(onPg)).rows[0] as Record<string, unknown>
          const problems: string[] = []
          corpus.forEach((expr, i) => {
            const column = `c${i}`
            const expected = oracle[column]
            for (const [path, row] of [
              ['first run', first],
              ['cached run', cached],
            ] as const) {
              const mapped = toPg(row[column], oids[i]!)
              if (!sameAsPg(mapped, expected))
                problems.push(
                  `${path} ${expr} (oid ${oids[i]}): edgepg ${show(row[column])} maps to ${show(mapped)}, pg gave ${show(expected)}`,
                )
            }
          })
          expect(problems.join('\n')).toBe('')
        })
      })
    }

    it('refuses the timestamps no Date holds with an encode error where pg gives an Invalid Date', async () => {
      for (const { sql: expr, error } of undecodable) {
        const query = wideSelect([expr])
        const failure = await query.execute(edge).catch((e: unknown) => e)
        expect(isPgError(failure, 'encode'), `${expr}: ${String(failure)}`).toBe(true)
        expect((failure as Error).message).toMatch(error)
        const value = ((await query.execute(onPg)).rows[0] as Record<string, unknown>).c0
        const dates = [value].flat()
        expect(
          dates.some((d) => d instanceof Date && Number.isNaN(d.getTime())),
          `${expr}: pg gave ${show(value)}`,
        ).toBe(true)
      }
      expect(((await wideSelect(['1']).execute(edge)).rows[0] as Record<string, unknown>).c0).toBe(1)
    })

    describe('through a table: each library writes its own values back with the query builder', () => {
      beforeAll(async () => {
        const owner = `"${server.roles.scram.user}"`
        await admin(`drop schema if exists ${schema} cascade; create schema ${schema} authorization ${owner}`)
        await createTables(
          schema,
          owner,
          ROUND_TRIP_TYPES.flatMap((type) =>
            ['edgepg', 'pg'].map((via) => ({ name: tableName(type, via), type: type.sql })),
          ),
        )
      })

      for (const timeZone of TIME_ZONES) {
        it(`reads back what Kysely on pg reads back, and stores the same text (process TZ ${timeZone})`, async () => {
          await inTimeZone(timeZone, async () => {
            const { problems, invalidOnPg } = await roundTrip({ edge, onPg, schema, oids, timeZone })
            expect(problems.join('\n')).toBe('')
            expect(invalidOnPg).toEqual(INVALID_ON_PG[timeZone])
          })
        })
      }
    })

    describe('parameters: the same JS values written by both libraries', () => {
      beforeAll(async () => {
        const owner = `"${server.roles.scram.user}"`
        await createTables(
          schema,
          owner,
          PARAM_TYPES.flatMap((type) =>
            ['edgepg', 'pg'].map((via) => ({ name: paramTable(type, via), type })),
          ),
        )
      })

      for (const timeZone of TIME_ZONES) {
        it(`store the same server text, but for the documented differences (process TZ ${timeZone})`, async () => {
          await inTimeZone(timeZone, async () => {
            const problems = await paramProblems(
              [
                ['edgepg', edge],
                ['pg', onPg],
              ],
              schema,
              timeZone,
            )
            expect(problems.join('\n')).toBe('')
          })
        })
      }
    })
  },
)
