// A statement that ignores its CancelRequest (it catches query_canceled and goes on) on POST /sql: the
// request is answered at the relay's deadline, and the backend the relay gave up on is terminated before its
// pool slot frees, so the pool's size is never below the number of backends it left running.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  admin,
  pg,
  pgUrl,
  postSql,
  type SqlAnswer,
  sleep,
  startTestRelay,
  type TestRelay,
} from './helpers.ts'

const SQL_TIMEOUT = 1000
/** The client's CANCEL_GRACE_MS: an answer this late waited for the cancel instead of the deadline. */
const CANCEL_GRACE_MS = 5000
const STUBBORN =
  'do $$ begin loop begin perform pg_sleep(1); exception when query_canceled then null; end; end loop; end $$'

let relay: TestRelay
beforeAll(async () => {
  relay = await startTestRelay({ sqlTimeout: SQL_TIMEOUT, sqlPoolMaxPerKey: 3, sqlPoolMax: 6 })
})
afterAll(() => relay.shutdown())

const as = (app: string) => pgUrl(pg.roles.scram, { application_name: app })

/** How many backends of `app` exist (any state). */
async function liveBackends(app: string): Promise<number> {
  return (await admin('select 1 from pg_stat_activity where application_name = $1', [app])).length
}

/** One request, timed from its start. */
async function timed(app: string): Promise<{ answer: SqlAnswer; elapsed: number }> {
  const started = performance.now()
  const answer = await postSql(relay, { query: STUBBORN }, { connectionString: as(app) })
  return { answer, elapsed: performance.now() - started }
}

describe('a statement that ignores its cancel', () => {
  it('is answered at the deadline, and its backend is terminated before its pool slot frees', async () => {
    const app = 'stubborn-rounds'
    const violations: string[] = []
    let isSampling = true
    // The pool's size, read before and after each look at pg_stat_activity, is never below the backends seen.
    const sampler = (async () => {
      while (isSampling) {
        const before = relay.sqlBackends!.stats().size
        const live = await liveBackends(app)
        const after = relay.sqlBackends!.stats().size
        if (live > Math.max(before, after))
          violations.push(`${live} backends of ${app} while the pool's size was ${before}, then ${after}`)
        await sleep(50)
      }
    })()
    try {
      const answers: { answer: SqlAnswer; elapsed: number }[] = []
      for (let round = 0; round < 3; round++)
        answers.push(...(await Promise.all([timed(app), timed(app), timed(app)])))
      for (const { answer, elapsed } of answers) {
        expect(answer.status).toBe(400)
        expect(answer.body).toEqual({
          message: `query cancelled: it ran past the relay's deadline of ${SQL_TIMEOUT} ms`,
          code: '57014',
          severity: 'ERROR',
        })
        // Not held until the client gives up on the cancel (deadline + grace).
        expect(elapsed).toBeLessThan(SQL_TIMEOUT + CANCEL_GRACE_MS - 1000)
      }
      const deadline = Date.now() + 20_000
      while (Date.now() < deadline && (await liveBackends(app)) > 0) await sleep(100)
      expect(await liveBackends(app)).toBe(0)
      for (let i = 0; i < 100 && relay.sqlBackends!.stats().size > 0; i++) await sleep(20)
      expect(relay.sqlBackends!.stats().size).toBe(0)
    } finally {
      isSampling = false
      await sampler
    }
    expect(violations).toEqual([])
    // The three the relay gave up on (the other rounds met the full pool and its deadline while waiting).
    expect(relay.logs.filter((line) => line.includes('"msg":"sql backend terminated"'))).toHaveLength(3)
    expect(relay.logs.filter((line) => line.includes('not terminated'))).toEqual([])
  })

  it('is not terminated when the cancel stopped it: no connection is opened besides the cancel', async () => {
    const app = 'stubborn-none'
    const dials = relay.dials.length
    const answer = await postSql(relay, { query: 'select pg_sleep(30)' }, { connectionString: as(app) })
    expect(answer.body.code).toBe('57014')
    for (let i = 0; i < 200 && (await liveBackends(app)) > 0; i++) await sleep(20)
    expect(await liveBackends(app)).toBe(0)
    // The pooled connection and its CancelRequest: no connection to terminate anything.
    expect(relay.dials.length - dials).toBe(2)
  })

  it("is terminated even when the request's search_path puts look-alikes of pg_terminate_backend first", async () => {
    const app = 'stubborn-shadow'
    const { user } = pg.roles.scram
    await admin(`drop schema if exists sql_shadow cascade; create schema sql_shadow;
      create function sql_shadow.pg_terminate_backend(int) returns bool language sql as 'select true';
      create view sql_shadow.pg_stat_activity as select 0 as pid where false;
      grant usage on schema sql_shadow to ${user}; grant select on sql_shadow.pg_stat_activity to ${user}`)
    try {
      const shadowed = pgUrl(pg.roles.scram, {
        application_name: app,
        options: '-c search_path=sql_shadow,pg_catalog',
      })
      const answer = await postSql(relay, { query: STUBBORN }, { connectionString: shadowed })
      expect(answer.body.code).toBe('57014')
      const deadline = Date.now() + 20_000
      while (Date.now() < deadline && (await liveBackends(app)) > 0) await sleep(100)
      expect(await liveBackends(app)).toBe(0)
    } finally {
      await admin('drop schema if exists sql_shadow cascade')
    }
  })
})
