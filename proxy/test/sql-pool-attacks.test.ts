// Relay attack cases Q1, Q2 and Q7 (../shared/attack-cases.md) on POST /sql through a real relay and the
// test PostgreSQL: a wrong password never rides a pooled login, no session state survives into the next
// request on the same backend, and 500 concurrent requests never take the pool past its bounds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { admin, pg, pgUrl, postSql, sleep, startTestRelay, type TestRelay } from './helpers.ts'

const RAW = { 'neon-raw-text-output': 'true', 'neon-array-mode': 'true' }
const pidQuery = { query: 'select pg_backend_pid()::text as pid' }

describe('Q1: a wrong password after a good pooled login', () => {
  let relay: TestRelay
  beforeAll(async () => {
    relay = await startTestRelay({ sqlPoolMaxPerKey: 1 })
  })
  afterAll(() => relay.shutdown())

  it('gets 28P01 from a login of its own; the pooled connection serves only the right password', async () => {
    const app = { application_name: 'q1' }
    const good = pgUrl(pg.roles.scram, app)
    const first = await postSql(relay, pidQuery, { connectionString: good, headers: RAW })
    expect(first.status).toBe(200)
    const pid = first.body.rows[0][0]
    const opened = relay.metrics.sqlBackendsOpened
    const wrong = await postSql(relay, pidQuery, {
      connectionString: pgUrl({ user: pg.roles.scram.user, password: `${pg.roles.scram.password}x` }, app),
      headers: RAW,
    })
    expect(wrong.status).toBe(400)
    expect(wrong.body).toMatchObject({ code: '28P01' })
    expect(relay.metrics.sqlBackendsOpened).toBe(opened + 1)
    const again = await postSql(relay, pidQuery, { connectionString: good, headers: RAW })
    expect(again.body.rows[0][0]).toBe(pid)
    // No password at all is another key too: it must authenticate, and SCRAM without a password fails.
    const none = await postSql(relay, pidQuery, {
      connectionString: pgUrl({ user: pg.roles.scram.user, password: '' }, app),
      headers: RAW,
    })
    expect(none.status).toBe(400)
    expect(none.text).not.toContain(pid)
    expect(relay.sqlBackends!.stats().inUse).toBe(0)
  })
})

describe('Q2: session state left by one request', () => {
  let relay: TestRelay
  beforeAll(async () => {
    relay = await startTestRelay({ sqlPoolMaxPerKey: 1 })
  })
  afterAll(() => relay.shutdown())

  const connectionString = pgUrl(pg.roles.scram, { application_name: 'q2' })
  const run = async (query: string) => {
    const answer = await postSql(relay, { query }, { connectionString, headers: RAW })
    expect(answer.status, `${query}: ${answer.text}`).toBe(200)
    return answer.body.rows as (string | null)[][]
  }
  const samePid = async (leave: string) => {
    const [[before]] = (await run('select pg_backend_pid()::text')) as [[string]]
    await run(leave)
    // Give the pool the moment it needs to run DISCARD ALL before the next lease.
    for (let i = 0; i < 50 && relay.sqlBackends!.stats().idle === 0; i++) await sleep(10)
    const [[after]] = (await run('select pg_backend_pid()::text')) as [[string]]
    expect(after, 'the next request ran on the same backend').toBe(before)
  }

  it.each([
    ['SET', 'set search_path = pg_catalog', "select current_setting('search_path')", [['"$user", public']]],
    [
      'set_config(…, false)',
      "select set_config('statement_timeout', '4321', false)",
      "select current_setting('statement_timeout')",
      [['0']],
    ],
    [
      'a temporary table',
      'create temporary table q2_temp (n int)',
      "select to_regclass('pg_temp.q2_temp')::text",
      [[null]],
    ],
    [
      'an advisory lock',
      'select pg_advisory_lock(4242)::text',
      "select count(*)::text from pg_locks where locktype = 'advisory' and objid = 4242",
      [['0']],
    ],
    ['LISTEN', 'listen q2_channel', 'select count(*)::text from pg_listening_channels()', [['0']]],
    [
      'PREPARE',
      'prepare q2_statement as select 1',
      'select count(*)::text from pg_prepared_statements',
      [['0']],
    ],
  ])('%s is invisible to the next request on the same backend', async (_kind, leave, look, expected) => {
    await samePid(leave)
    expect(await run(look)).toEqual(expected)
  })

  it('a SET inside a committed batch is invisible to the next request too', async () => {
    const batch = await postSql(
      relay,
      {
        queries: [
          { query: "set application_name = 'q2-changed'" },
          { query: 'select pg_backend_pid()::text' },
        ],
      },
      { connectionString, headers: RAW },
    )
    expect(batch.status).toBe(200)
    expect(await run("select current_setting('application_name'), pg_backend_pid()::text")).toEqual([
      ['q2', batch.body.results[1].rows[0][0]],
    ])
  })
})

describe('Q7: 500 concurrent requests', () => {
  let relay: TestRelay
  beforeAll(async () => {
    relay = await startTestRelay({
      sqlPoolMaxPerKey: 4,
      sqlPoolMax: 6,
      maxConnectionsPerIp: 1000,
    })
  })
  afterAll(() => relay.shutdown())

  it('never take the pool past maxPerKey and sqlPoolMax, nor PostgreSQL past the same bound', async () => {
    const apps = ['q7-a', 'q7-b']
    let maxSize = 0
    let maxPerKey = 0
    let maxBackends = 0
    let isRunning = true
    const sampler = (async () => {
      while (isRunning) {
        const stats = relay.sqlBackends!.stats()
        maxSize = Math.max(maxSize, stats.size)
        for (const counts of stats.perKey.values()) maxPerKey = Math.max(maxPerKey, counts.size)
        const [row] = await admin(
          'select count(*)::int as n from pg_stat_activity where application_name = any($1)',
          [apps],
        )
        maxBackends = Math.max(maxBackends, Number(row!.n))
        await sleep(5)
      }
    })()
    const answers = await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        postSql(
          relay,
          { query: 'select pg_sleep(0.002), $1::int as i', params: [i] },
          { connectionString: pgUrl(pg.roles.scram, { application_name: apps[i % 2]! }), headers: RAW },
        ),
      ),
    )
    isRunning = false
    await sampler
    const statuses = new Map<number, number>()
    for (const answer of answers) statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1)
    for (const answer of answers) {
      if (answer.status === 503) expect(answer.body.message).toMatch(/no connection became free within/)
      else expect(answer.status, answer.text).toBe(200)
    }
    expect(statuses.get(200)).toBeGreaterThan(0)
    expect(maxSize).toBeLessThanOrEqual(6)
    expect(maxPerKey).toBeLessThanOrEqual(4)
    expect(maxBackends).toBeLessThanOrEqual(6)
    expect(maxSize).toBeGreaterThan(1)
    const stats = relay.sqlBackends!.stats()
    expect({ inUse: stats.inUse, waiting: stats.waiting }).toEqual({ inUse: 0, waiting: 0 })
  })

  it('of one key open no more backends than maxPerKey, reusing them', async () => {
    const opened = relay.metrics.sqlBackendsOpened
    const answers = await Promise.all(
      Array.from({ length: 200 }, () =>
        postSql(relay, pidQuery, {
          connectionString: pgUrl(pg.roles.scram, { application_name: 'q7-one' }),
          headers: RAW,
        }),
      ),
    )
    for (const answer of answers) expect(answer.status, answer.text).toBe(200)
    const pids = new Set(answers.map((answer) => answer.body.rows[0][0]))
    expect(pids.size).toBeLessThanOrEqual(4)
    expect(relay.metrics.sqlBackendsOpened - opened).toBeLessThanOrEqual(4)
  })
})

describe('Q7: waiters', () => {
  it('past sqlPoolAcquireTimeout get a 503 saying no connection became free', async () => {
    const relay = await startTestRelay({ sqlPoolMaxPerKey: 1, sqlPoolAcquireTimeout: 200 })
    try {
      const holder = postSql(relay, { query: 'select pg_sleep(1.5)' })
      while (relay.sqlBackends!.stats().inUse === 0) await sleep(10)
      const waiters = await Promise.all([0, 1, 2].map(() => postSql(relay, { query: 'select 1' })))
      for (const waiter of waiters) {
        expect(waiter.status).toBe(503)
        expect(waiter.body.message).toContain('no connection became free within 200 ms')
      }
      expect((await holder).status).toBe(200)
      expect((await postSql(relay, { query: 'select 1' })).status).toBe(200)
    } finally {
      await relay.shutdown()
    }
  })

  it('beyond sqlPoolMaxWaiting get a 503 at once saying the pool is full', async () => {
    const relay = await startTestRelay({ sqlPoolMaxPerKey: 1, sqlPoolMaxWaiting: 1 })
    try {
      const holder = postSql(relay, { query: 'select pg_sleep(1)' })
      while (relay.sqlBackends!.stats().inUse === 0) await sleep(10)
      const waiter = postSql(relay, { query: 'select 1' })
      while (relay.sqlBackends!.stats().waiting === 0) await sleep(10)
      const refused = await postSql(relay, { query: 'select 1' })
      expect(refused.status).toBe(503)
      expect(refused.body.message).toContain('the sql pool is full')
      expect((await waiter).status).toBe(200)
      expect((await holder).status).toBe(200)
    } finally {
      await relay.shutdown()
    }
  })
})
