// The never-driven rejection, dead sockets and server-side termination: D1a, D1c, D1d, D5a.
import { connect, DatabaseError, isDatabaseError, isPgError } from '@edgepg/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FaultProxy, startFaultProxy } from '../../test/fault-proxy.ts'
import { admin, open, server, transport, unhandledRejections, url, waitFor } from './helpers.ts'

describe('a connection nobody drives', () => {
  it('rejects a query within about a second with kind not-driven naming connection.run()', async () => {
    const [client] = await connect(url(), { transport: transport() })
    const started = performance.now()
    const error = await client.query('select 1').catch((e) => e)
    const elapsed = performance.now() - started
    expect(isPgError(error, 'not-driven')).toBe(true)
    expect(error.message).toContain('connection.run()')
    expect(elapsed).toBeGreaterThanOrEqual(950)
    expect(elapsed).toBeLessThan(2000)
    await client.end()
  })

  it('honours a configured notDrivenTimeout and stays usable once run() is called', async () => {
    const [client, connection] = await connect(url(), { transport: transport(), notDrivenTimeout: 100 })
    const started = performance.now()
    await expect(client.query('select 1')).rejects.toSatisfy((e) => isPgError(e, 'not-driven'))
    expect(performance.now() - started).toBeLessThan(500)
    const done = connection.run()
    expect((await client.queryOne<{ n: number }>('select 2 as n')).n).toBe(2)
    await client.end()
    await done
  })

  it('sends requests queued before run() once run() is called in time', async () => {
    const [client, connection] = await connect(url(), { transport: transport() })
    const pending = client.queryOne<{ n: number }>('select 3 as n')
    await new Promise((r) => setTimeout(r, 100))
    expect(connection.state).toBe('ready')
    void connection.run()
    expect((await pending).n).toBe(3)
    await client.end()
  })
})

describe('when the transport dies', () => {
  let proxy: FaultProxy
  beforeAll(async () => {
    proxy = await startFaultProxy({ host: server.host, port: server.port })
  })
  afterAll(() => proxy.close())

  it('D1a: a reset mid-query rejects the pending and queued queries at once, and run() rejects', async () => {
    proxy.faults = {}
    const { client, connection, done } = await open({ url: url(undefined, proxy.host, proxy.port) })
    const slow = client.query('select pg_sleep(5)')
    const queued = client.query('select 1')
    await new Promise((r) => setTimeout(r, 100))
    const started = performance.now()
    proxy.resetAll()
    const [a, b] = await Promise.all([slow.catch((e) => e), queued.catch((e) => e)])
    expect(performance.now() - started).toBeLessThan(500)
    for (const error of [a, b]) {
      expect(isPgError(error)).toBe(true)
      expect(['io', 'closed']).toContain(error.kind)
    }
    await expect(done).rejects.toSatisfy((e) => isPgError(e))
    expect(connection.state).toBe('closed')
    const later = await client.query('select 1').catch((e) => e)
    expect(isPgError(later, 'closed')).toBe(true)
    expect(later.message).toMatch(/connection is closed/)
  })

  it('D1c: a server that never answers the startup fails connect at the configured timeout', async () => {
    proxy.faults = { blackhole: true }
    const started = performance.now()
    const error = await connect(url(undefined, proxy.host, proxy.port), {
      transport: transport(),
      connectTimeout: 400,
    }).catch((e) => e)
    const elapsed = performance.now() - started
    proxy.faults = {}
    expect(isPgError(error, 'timeout')).toBe(true)
    expect(error.message).toMatch(/connect timed out after 400 ms waiting for the authentication request/)
    expect(elapsed).toBeGreaterThanOrEqual(390)
    expect(elapsed).toBeLessThan(900)
  })

  it('D1c: connect_timeout in the URL is honoured (seconds)', async () => {
    proxy.faults = { blackhole: true }
    const started = performance.now()
    const error = await connect(`${url(undefined, proxy.host, proxy.port)}?connect_timeout=1`, {
      transport: transport(),
    }).catch((e) => e)
    proxy.faults = {}
    expect(isPgError(error, 'timeout')).toBe(true)
    expect(performance.now() - started).toBeGreaterThanOrEqual(990)
  })

  it('survives traffic sliced into 1-byte chunks', async () => {
    proxy.faults = { slice: 1 }
    const { client } = await open({ url: url(undefined, proxy.host, proxy.port) })
    const rows = await client.query('select n, repeat($1, n) as s from generate_series(1, 20) n', ['ab'])
    expect(rows.rows[19]).toEqual({ n: 20, s: 'ab'.repeat(20) })
    proxy.faults = {}
    await client.end()
  })
})

describe('D1d: the server terminates the backend', () => {
  it('rejects the running query with 57P01, the queued ones with the cause, and run() with the error', async () => {
    let results: unknown[] = []
    let runError: unknown
    const unhandled = await unhandledRejections(async () => {
      const [client, connection] = await connect(url(), { transport: transport() })
      const run = connection.run().catch((e) => {
        runError = e
      })
      const pid = connection.processId
      const sleeping = client.query('select pg_sleep(10)').catch((e) => e)
      const queued = client.query('select 1').catch((e) => e)
      await waitFor(async () => {
        const rows = await admin(`select 1 from pg_stat_activity where pid = $1 and wait_event = 'PgSleep'`, [
          pid,
        ])
        return rows.length === 1
      })
      await admin('select pg_terminate_backend($1)', [pid])
      results = await Promise.all([sleeping, queued])
      await run
    })
    expect(unhandled).toEqual([])
    const [sleeping, queued] = results as [DatabaseError, Error]
    expect(sleeping).toBeInstanceOf(DatabaseError)
    expect(sleeping.code).toBe('57P01')
    expect(isPgError(queued, 'closed')).toBe(true)
    expect((queued as Error).cause).toBe(sleeping)
    expect(isPgError(runError, 'closed')).toBe(true)
    expect((runError as Error).message).toMatch(/57P01/)
  })
})

describe('D5a: statement_timeout', () => {
  it('cancels a slow statement with 57014 and leaves the connection usable', async () => {
    const { client } = await open()
    await client.query('set statement_timeout = 100')
    const error = await client.query('select pg_sleep(1)').catch((e) => e)
    expect(isDatabaseError(error, '57014')).toBe(true)
    expect(error.message).toMatch(/statement timeout/)
    expect((await client.queryOne<{ n: number }>('select 5 as n')).n).toBe(5)
    await client.end()
  })
})

describe('clean shutdown', () => {
  it('end() resolves run() and later requests reject with client is closed', async () => {
    const { client, connection, done } = await open()
    await client.end()
    await expect(done).resolves.toBeUndefined()
    expect(connection.state).toBe('closed')
    expect(client.isClosed).toBe(true)
    await expect(client.query('select 1')).rejects.toThrow('client is closed')
  })

  it('end() before run() rejects queued requests and closes', async () => {
    const [client, connection] = await connect(url(), { transport: transport() })
    const queued = client.query('select 1').catch((e) => e)
    await client.end()
    expect(isPgError(await queued, 'closed')).toBe(true)
    expect(connection.state).toBe('closed')
  })
})

describe('request deadlines', () => {
  it('D4b: a timeout on pipelined query k rejects k, destroys the connection, and no result lands elsewhere', async () => {
    const { client, connection } = await open()
    const outcomes = await Promise.allSettled([
      client.queryOne<{ i: number }>('select 0 as i'),
      client.queryOne<{ i: number }>('select 1 as i'),
      client.queryOne<{ i: number }>('select 2 as i, pg_sleep(3)', [], { timeout: 200 }),
      client.queryOne<{ i: number }>('select 3 as i'),
      client.queryOne<{ i: number }>('select 4 as i'),
    ])
    expect(outcomes[0]).toEqual({ status: 'fulfilled', value: { i: 0 } })
    expect(outcomes[1]).toEqual({ status: 'fulfilled', value: { i: 1 } })
    const timedOut = (outcomes[2] as PromiseRejectedResult).reason
    expect(isPgError(timedOut, 'timeout')).toBe(true)
    expect(timedOut.message).toBe('query timed out after 200 ms')
    for (const outcome of outcomes.slice(3)) {
      expect(outcome.status).toBe('rejected')
      const reason = (outcome as PromiseRejectedResult).reason
      expect(isPgError(reason, 'closed')).toBe(true)
      expect(reason.cause).toBe(timedOut)
    }
    expect(connection.state).toBe('closed')
  })

  it('D5b: an AbortSignal cancels the running statement with 57014 and the connection stays usable', async () => {
    const { client, connection } = await open()
    const controller = new AbortController()
    const started = performance.now()
    const pending = client.query('select pg_sleep(10)', [], { signal: controller.signal })
    setTimeout(() => controller.abort(), 150)
    const error = await pending.catch((e) => e)
    expect(error.message).toBe('canceling statement due to user request')
    expect(isDatabaseError(error, '57014')).toBe(true)
    expect(error.message).toBe('canceling statement due to user request')
    expect(performance.now() - started).toBeLessThan(3000)
    expect(connection.state).toBe('running')
    expect((await client.queryOne<{ n: number }>('select 6 as n')).n).toBe(6)
    await client.end()
  })

  it('D5b: cancelToken().cancel() cancels the running statement from outside', async () => {
    const { client } = await open()
    const token = client.cancelToken()
    const pending = client.query('select pg_sleep(10)').catch((e) => e)
    await new Promise((r) => setTimeout(r, 150))
    await token.cancel()
    expect(isDatabaseError(await pending, '57014')).toBe(true)
    expect((await client.queryOne<{ n: number }>('select 7 as n')).n).toBe(7)
    await client.end()
  })

  it('refuses an already-aborted signal without sending anything', async () => {
    const { client } = await open()
    await expect(client.query('select 1', [], { signal: AbortSignal.abort() })).rejects.toSatisfy((e) =>
      isPgError(e, 'aborted'),
    )
    expect((await client.queryOne<{ n: number }>('select 1 as n')).n).toBe(1)
    await client.end()
  })

  it('D1b: a blackholed connection fails by queryTimeout, is destroyed, and a new connection works', async () => {
    const proxy = await startFaultProxy({ host: server.host, port: server.port })
    try {
      const { client, connection } = await open({
        url: url(undefined, proxy.host, proxy.port),
        queryTimeout: 300,
      })
      expect((await client.queryOne<{ n: number }>('select 1 as n')).n).toBe(1)
      proxy.faults = { blackhole: true }
      const started = performance.now()
      const error = await client.query('select 2').catch((e) => e)
      expect(isPgError(error, 'timeout')).toBe(true)
      expect(performance.now() - started).toBeGreaterThanOrEqual(290)
      expect(connection.state).toBe('closed')
      await expect(client.query('select 3')).rejects.toSatisfy((e) => isPgError(e, 'closed'))
      proxy.faults = {}
      const fresh = await open({ url: url(undefined, proxy.host, proxy.port) })
      expect((await fresh.client.queryOne<{ n: number }>('select 4 as n')).n).toBe(4)
      await fresh.client.end()
    } finally {
      await proxy.close()
    }
  })
})
