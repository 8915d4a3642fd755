/**
 * Model-based: random sequences of transactions (committed, thrown after a failed statement, rolled back
 * to a savepoint, controlled and rolled back), streams left early, aborted writes and concurrent pairs, on a
 * pool of two connections. After every step no lease is outstanding and the committed rows are exactly the
 * model's.
 */
import fc from 'fast-check'
import { Kysely, sql, WithSchemaPlugin } from 'kysely'
import { beforeAll, describe, expect, it } from 'vitest'
import { EdgePgDialect } from '../src/index.ts'
import { admin, createSchema, type DB, pool, TRANSPORTS, waitFor } from './helpers.ts'

type Step =
  | { kind: 'commit'; tag: string }
  | { kind: 'throwAfterFailure'; tag: string }
  | { kind: 'savepointRollback'; keep: string; drop: string }
  | { kind: 'controlledRollback'; tag: string }
  | { kind: 'streamLeftEarly'; after: number }
  | { kind: 'abortedInsert'; tag: string }
  | { kind: 'concurrent'; a: string; b: string }

const tag = fc.string({ minLength: 1, maxLength: 6 })
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('commit' as const), tag }),
  fc.record({ kind: fc.constant('throwAfterFailure' as const), tag }),
  fc.record({ kind: fc.constant('savepointRollback' as const), keep: tag, drop: tag }),
  fc.record({ kind: fc.constant('controlledRollback' as const), tag }),
  fc.record({ kind: fc.constant('streamLeftEarly' as const), after: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ kind: fc.constant('abortedInsert' as const), tag }),
  fc.record({ kind: fc.constant('concurrent' as const), a: tag, b: tag }),
)

/** Runs one step; returns the tags it committed. */
async function run(db: Kysely<DB>, s: Step): Promise<string[]> {
  switch (s.kind) {
    case 'commit':
      await db.transaction().execute((trx) => trx.insertInto('ledger').values({ tag: s.tag }).execute())
      return [s.tag]
    case 'throwAfterFailure':
      await db
        .transaction()
        .execute(async (trx) => {
          await trx.insertInto('ledger').values({ tag: s.tag }).execute()
          await sql`select 1/0`.execute(trx).catch(() => undefined)
          throw new Error('step gave up')
        })
        .catch(() => undefined)
      return []
    case 'savepointRollback': {
      const trx = await db.startTransaction().execute()
      await trx.insertInto('ledger').values({ tag: s.keep }).execute()
      const sp = await trx.savepoint('sp').execute()
      await sp.insertInto('ledger').values({ tag: s.drop }).execute()
      await (await sp.rollbackToSavepoint('sp').execute()).commit().execute()
      return [s.keep]
    }
    case 'controlledRollback': {
      const trx = await db.startTransaction().execute()
      await trx.insertInto('ledger').values({ tag: s.tag }).execute()
      await trx.rollback().execute()
      return []
    }
    case 'streamLeftEarly': {
      let seen = 0
      for await (const _ of db.selectNoFrom(sql<number>`generate_series(1, 50)`.as('n')).stream(2)) {
        if (seen++ >= s.after) break
      }
      return []
    }
    case 'abortedInsert': {
      const signal = AbortSignal.abort(new Error('aborted step'))
      await db
        .insertInto('ledger')
        .values({ tag: s.tag })
        .execute({ signal })
        .catch(() => undefined)
      return []
    }
    case 'concurrent': {
      const [a, b] = await Promise.all([
        run(db, { kind: 'commit', tag: s.a }),
        run(db, { kind: 'commit', tag: s.b }),
      ])
      return [...a, ...b]
    }
  }
}

describe.each(TRANSPORTS)('model-based lifecycle over %s', (kind) => {
  const schema = `kysely_model_${kind}`
  beforeAll(async () => {
    await createSchema(schema)
  })

  it('leaves no lease outstanding and exactly the committed rows after random sequences', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), async (steps) => {
        await admin(`truncate ${schema}.ledger restart identity`)
        const edgepg = pool(kind, { max: 2 })
        const db = new Kysely<DB>({
          dialect: new EdgePgDialect({ pool: edgepg }),
          plugins: [new WithSchemaPlugin(schema)],
        })
        try {
          const model: string[] = []
          for (const s of steps) {
            model.push(...(await run(db, s)))
            await waitFor(() => edgepg.stats.leased === 0)
            const rows = await db.selectFrom('ledger').select('tag').execute()
            expect(rows.map((r) => r.tag).sort()).toEqual([...model].sort())
          }
          expect(edgepg.stats.size).toBeLessThanOrEqual(2)
        } finally {
          await db.destroy()
        }
        expect(edgepg.isEnded).toBe(true)
      }),
      { numRuns: 12 },
    )
  })
})
