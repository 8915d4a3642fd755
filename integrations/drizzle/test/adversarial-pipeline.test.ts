/**
 * Adversarial, randomised: many Drizzle queries in flight at once on a small edgepg pool (pipelined on shared
 * connections), some failing, some inside transactions — each caller gets exactly its own answer or its own
 * error, over TCP and the relay.
 */
import { sql } from 'drizzle-orm'
import { DrizzleQueryError } from 'drizzle-orm/errors'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { drizzle } from '../src/index.ts'
import { pool, TRANSPORTS } from './helpers.ts'

type Call = { kind: 'ok' | 'fail' | 'tx'; n: number }

describe.each(TRANSPORTS)('pipelined drizzle callers over %s', (kind) => {
  const db = drizzle(pool(kind, { max: 2, pipeline: 8 }))
  afterAll(async () => {
    await db.$client.end()
  })
  const prepared = db
    .select({
      n: sql<number>`${sql.placeholder('n')}::int`,
      half: sql<string>`(${sql.placeholder('n')}::int / 2)::text`,
    })
    .from(sql`(select 1) as one`)
    .prepare('adv_pipeline')

  function run(call: Call): Promise<unknown> {
    if (call.kind === 'ok') return prepared.execute({ n: call.n })
    if (call.kind === 'fail') return db.execute(sql`select ${call.n}::int / 0 as boom`)
    return db.transaction(async (tx) => {
      await tx.execute(sql.raw(`set local application_name = 'c${call.n}'`))
      const shown = await tx.execute<{ name: string }>(
        sql`select current_setting('application_name') as name`,
      )
      return shown.rows[0]!.name
    })
  }

  it('answers each of up to 60 concurrent callers with its own result or its own error', async () => {
    const call = fc.record({
      kind: fc.constantFrom<Call['kind']>('ok', 'ok', 'ok', 'fail', 'tx'),
      n: fc.integer({ min: -1_000_000, max: 1_000_000 }),
    })
    await fc.assert(
      fc.asyncProperty(fc.array(call, { minLength: 1, maxLength: 60 }), async (calls) => {
        const settled = await Promise.allSettled(calls.map(run))
        settled.forEach((outcome, i) => {
          const { kind: k, n } = calls[i]!
          if (k === 'fail') {
            expect(outcome.status).toBe('rejected')
            const reason = (outcome as PromiseRejectedResult).reason as DrizzleQueryError
            expect(reason).toBeInstanceOf(DrizzleQueryError)
            expect(reason.cause).toMatchObject({ code: '22012' })
            expect(reason.params).toEqual([n])
          } else {
            expect(outcome).toEqual({
              status: 'fulfilled',
              value: k === 'ok' ? [{ n, half: String(Math.trunc(n / 2)) }] : `c${n}`,
            })
          }
        })
        expect(db.$client.stats).toMatchObject({ leased: 0, waiting: 0 })
      }),
      { numRuns: 15 },
    )
  })
})
