// The never-driven rejection and a dead backend, in a real page.
import { connect, DatabaseError, isPgError } from '@edgepg/client'
import { webSocket } from '@edgepg/client/websocket'
import { describe, expect, it } from 'vitest'
import { open, relayUrl, server, url, waitFor } from './page.ts'

describe('a connection nobody drives', () => {
  it('rejects a query with kind not-driven naming connection.run()', async () => {
    const [client] = await connect(url(), { transport: webSocket({ url: relayUrl }) })
    const error = await client.query('select 1').catch((e) => e)
    expect(isPgError(error, 'not-driven')).toBe(true)
    expect(error.message).toContain('connection.run()')
    await client.end()
  })
})

describe('when the backend is terminated', () => {
  it('rejects the running query with 57P01, the queued and later ones with kind closed', async () => {
    const victim = await open()
    const admin = await open({ role: server.superuser })
    const pid = victim.connection.processId
    const sleeping = victim.client.query('select pg_sleep(10)').catch((e) => e)
    const queued = victim.client.query('select 1').catch((e) => e)
    await waitFor(async () => {
      const { rows } = await admin.client.query(
        `select 1 from pg_stat_activity where pid = $1 and wait_event = 'PgSleep'`,
        [pid],
      )
      return rows.length === 1
    })
    await admin.client.query('select pg_terminate_backend($1)', [pid])
    const [running, waiting] = await Promise.all([sleeping, queued])
    expect(running).toBeInstanceOf(DatabaseError)
    expect(running.code).toBe('57P01')
    expect(isPgError(waiting, 'closed')).toBe(true)
    await expect(victim.done).rejects.toSatisfy((e) => isPgError(e, 'closed'))
    expect(victim.connection.state).toBe('closed')
    const later = await victim.client.query('select 1').catch((e) => e)
    expect(isPgError(later, 'closed')).toBe(true)
    expect((await admin.client.queryOne<{ n: number }>('select 1 as n')).n).toBe(1)
    await admin.client.end()
  })
})
