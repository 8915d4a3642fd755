// /metrics for POST /sql: the pool's size, in-use and waiting gauges, answers by status class, backends
// opened; /healthz unchanged; no log line carries a password, connection string or token.
import { mintToken } from '@edgepg/proxy'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pg, pgAddress, pgUrl, postSql, sleep, startTestRelay, type TestRelay } from './helpers.ts'

const SECRET = 'metrics-secret-metrics-secret-metrics-secret'
let relay: TestRelay
beforeAll(async () => {
  relay = await startTestRelay({ sqlPoolMaxPerKey: 1, tokenSecrets: [SECRET], requireToken: false })
})
afterAll(() => relay.shutdown())

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${relay.url}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(`${name} `))
  if (line === undefined) throw new Error(`no metric ${name}`)
  return Number(line.slice(name.length + 1))
}

describe('sql metrics', () => {
  it('count answers by status class, backends opened, and show the pool’s gauges', async () => {
    const before = {
      ok: await metric('edgepg_relay_sql_requests_total{status="2xx"}'),
      client: await metric('edgepg_relay_sql_requests_total{status="4xx"}'),
      opened: await metric('edgepg_relay_sql_backends_opened_total'),
    }
    expect((await postSql(relay, { query: 'select 1' })).status).toBe(200)
    expect((await postSql(relay, { query: 'select 1' })).status).toBe(200)
    expect((await postSql(relay, { query: 'selec' })).status).toBe(400)
    expect(await metric('edgepg_relay_sql_requests_total{status="2xx"}')).toBe(before.ok + 2)
    expect(await metric('edgepg_relay_sql_requests_total{status="4xx"}')).toBe(before.client + 1)
    expect(await metric('edgepg_relay_sql_backends_opened_total')).toBe(before.opened + 1)
    expect(await metric('edgepg_relay_sql_pool_size')).toBe(1)

    const running = postSql(relay, { query: 'select pg_sleep(0.5)' })
    while ((await metric('edgepg_relay_sql_pool_in_use')) === 0) await sleep(10)
    const waiting = postSql(relay, { query: 'select 1' })
    while ((await metric('edgepg_relay_sql_pool_waiting')) === 0) await sleep(10)
    expect(await metric('edgepg_relay_sql_pool_in_use')).toBe(1)
    expect((await running).status).toBe(200)
    expect((await waiting).status).toBe(200)
    expect(await metric('edgepg_relay_sql_pool_waiting')).toBe(0)
    expect(await metric('edgepg_relay_sql_pool_in_use')).toBe(0)
  })

  it('leave /healthz as it was', async () => {
    const response = await fetch(`${relay.url}/healthz`)
    expect(await response.json()).toEqual({ status: 'ok', openSessions: 0 })
  })

  it('log no password, connection string or token, also for refusals and failed logins', async () => {
    const token = await mintToken(SECRET, { tgt: pgAddress, exp: Math.floor(Date.now() / 1000) + 60 })
    await postSql(relay, { query: 'select 1' }, { headers: { authorization: `Bearer ${token}` } })
    await postSql(relay, { query: 'select 1' }, { headers: { authorization: `Bearer ${token}x` } })
    await postSql(
      relay,
      { query: 'select 1' },
      { connectionString: pgUrl({ user: pg.roles.scram.user, password: 'wrong-Secret-9' }) },
    )
    await postSql(
      relay,
      { query: 'select 1' },
      { connectionString: pgUrl().replace(pgAddress, '10.1.1.1:5432') },
    )
    const logs = relay.logs.join('\n')
    expect(relay.logs.length).toBeGreaterThan(0)
    for (const secret of [pg.roles.scram.password, 'wrong-Secret-9', token, 'postgres://'])
      expect(logs).not.toContain(secret)
  })
})
