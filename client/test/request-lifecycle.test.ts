/**
 * The request lifecycle (issue 10): one send path that carries every request's deadline and abort signal,
 * the wire lease that portals and COPY hold, pool leases that never leak, decode failures that stay with
 * their request, and cancels that reach only the statement they mean.
 */
import { createPool, isDatabaseError, isPgError, type Pool, type Transport } from '@edgepg/client'
import { afterEach, describe, expect, it } from 'vitest'
import { startFaultProxy } from '../../test/fault-proxy.ts'
import { admin, open, server, transport, transportKind, url, waitFor } from './helpers.ts'

const pools: Pool[] = []
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.end()))
})

let tables = 0
async function table(): Promise<string> {
  const name = `lifecycle_${transportKind}_${process.pid}_${++tables}`
  await admin(`drop table if exists ${name}; create table ${name} (id int)`)
  await admin(`grant all on ${name} to ${server.roles.scram.user}`)
  return name
}

function pool(max = 1): Pool {
  const created = createPool(url(), { transport: transport(), max })
  pools.push(created)
  return created
}

const settled = <T>(promise: Promise<T>) =>
  promise.then(
    (value) => ({ status: 'fulfilled' as const, value }),
    (reason: unknown) => ({ status: 'rejected' as const, reason }),
  )

describe('pool leases never leak into the next lease', () => {
  it('a lease released with BEGIN in flight does not hand its transaction to the next lease', async () => {
    const name = await table()
    const p = pool(1)
    const a = await p.connect()
    const begun = a.query('begin')
    a.release()
    const b = await p.connect()
    expect(b.transactionStatus).toBe('idle')
    await b.query(`insert into ${name} values (1)`)
    expect(b.transactionStatus).toBe('idle')
    b.release()
    await begun
    // Committed: visible to another connection.
    expect(await admin(`select id from ${name}`)).toEqual([{ id: 1 }])
  })

  it('a lease released with a stream open gives the next lease a clean connection', async () => {
    const p = pool(1)
    const a = await p.connect()
    const rows = a.queryRaw<{ n: number }>('select n from generate_series(1, 100000) n', [], {
      batchSize: 10,
    })
    expect((await rows.next()).value).toEqual({ n: 1 })
    a.release()
    const b = await p.connect()
    expect((await b.queryOne<{ n: number }>('select 7 as n')).n).toBe(7)
    expect(b.transactionStatus).toBe('idle')
    b.release()
    // The abandoned stream delivers the rows it had fetched, then ends with an error, never a hang.
    const error = await (async () => {
      for await (const _ of rows) {
        /* drain */
      }
    })().catch((e: unknown) => e)
    expect(isPgError(error, 'closed')).toBe(true)
  })

  it('a lease released with COPY FROM STDIN waiting on its source gives the next lease a clean connection', async () => {
    const name = await table()
    const p = pool(1)
    const a = await p.connect()
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    async function* slow() {
      yield '1\n'
      await gate
      yield '2\n'
    }
    const copying = settled(a.copyIn(`copy ${name} from stdin`, slow()))
    await new Promise((r) => setTimeout(r, 100))
    a.release()
    const b = await p.connect()
    await b.query(`insert into ${name} values (3)`)
    expect(b.transactionStatus).toBe('idle')
    b.release()
    release()
    expect((await copying).status).toBe('rejected')
    expect(await admin(`select id from ${name}`)).toEqual([{ id: 3 }])
  })
})

describe('portal streams', () => {
  it('return() with a next() pending settles that next()', async () => {
    const { client } = await open()
    const rows = client.queryRaw('select pg_sleep(0.3), 1 as n')
    const pending = settled(rows.next())
    await rows.return?.()
    expect(await pending).toEqual({ status: 'fulfilled', value: { value: undefined, done: true } })
    expect((await client.queryOne<{ n: number }>('select 2 as n')).n).toBe(2)
    await client.end()
  })

  it('overlapping next() calls each get their own row, in order', async () => {
    const { client } = await open()
    const rows = client.queryRaw<{ n: number }>('select n from generate_series(1, 25) n', [], {
      batchSize: 4,
    })
    const results = await Promise.all(Array.from({ length: 27 }, () => rows.next()))
    expect(results.slice(0, 25).map((r) => r.value?.n)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1))
    expect(results.slice(25).every((r) => r.done)).toBe(true)
    await client.end()
  })

  it('a row that cannot be decoded rejects that stream only; the connection lives on', async () => {
    const { client, connection } = await open({
      types: {
        parsers: {
          25: (text) => {
            if (text === 'bad') throw new Error('cannot parse bad')
            return text
          },
        },
      },
    })
    const rows = client.queryRaw<{ t: string }>(
      `select case when n = 3 then 'bad' else 'ok' end as t from generate_series(1, 10) n`,
      [],
      { batchSize: 2 },
    )
    const seen: string[] = []
    const error = await (async () => {
      for await (const row of rows) seen.push(row.t)
    })().catch((e: unknown) => e)
    expect(seen).toEqual(['ok', 'ok'])
    expect(isPgError(error, 'encode')).toBe(true)
    expect(connection.state).toBe('running')
    expect((await client.queryOne<{ n: number }>('select 4 as n')).n).toBe(4)
    await client.end()
  })
})

describe('decode failures stay with their request', () => {
  it('a value that cannot be decoded rejects its query; pipelined queries around it succeed', async () => {
    const { client, connection } = await open({
      types: {
        parsers: {
          25: (text) => {
            if (text === 'bad') throw new Error('cannot parse bad')
            return text
          },
        },
      },
    })
    const [before, bad, after] = await Promise.all([
      settled(client.queryOne(`select 'a'::text as t`)),
      settled(client.query(`select 'bad'::text as t from generate_series(1, 1000)`)),
      settled(client.queryOne(`select 'b'::text as t`)),
    ])
    expect(before).toEqual({ status: 'fulfilled', value: { t: 'a' } })
    expect(after).toEqual({ status: 'fulfilled', value: { t: 'b' } })
    expect(bad.status).toBe('rejected')
    expect(isPgError((bad as { reason: unknown }).reason, 'encode')).toBe(true)
    expect(connection.state).toBe('running')
    await client.end()
  })
})

describe('every request carries the deadline and the signal', () => {
  /** Holds an exclusive lock on a fresh table so that statements needing it wait. */
  async function locked() {
    const name = await table()
    const holder = await open({ role: server.superuser })
    await holder.client.query('begin')
    await holder.client.query(`lock table ${name} in access exclusive mode`)
    return { name, release: () => holder.client.end() }
  }

  it('prepare() behind a lock rejects at queryTimeout', async () => {
    const { name, release } = await locked()
    try {
      const { client } = await open({ queryTimeout: 300 })
      const started = performance.now()
      const error = await client.prepare(`select * from ${name}`).catch((e: unknown) => e)
      expect(isPgError(error, 'timeout')).toBe(true)
      expect(performance.now() - started).toBeLessThan(3000)
    } finally {
      await release()
    }
  })

  for (const [label, run] of [
    [
      'simpleQuery',
      (c: Awaited<ReturnType<typeof open>>['client'], sql: string, o: object) => c.simpleQuery(sql, o),
    ],
    [
      'batchExecute',
      (c: Awaited<ReturnType<typeof open>>['client'], sql: string, o: object) => c.batchExecute(sql, o),
    ],
    [
      'prepare',
      (c: Awaited<ReturnType<typeof open>>['client'], sql: string, o: object) => c.prepare(sql, [], o),
    ],
    [
      'queryRaw',
      async (c: Awaited<ReturnType<typeof open>>['client'], sql: string, o: object) => {
        for await (const _ of c.queryRaw(sql, [], o)) {
          /* drain */
        }
      },
    ],
  ] as const) {
    it(`${label} rejects at its own timeout`, async () => {
      const { name, release } = await locked()
      try {
        const { client } = await open()
        const error = await run(client, `select * from ${name}`, { timeout: 300 }).catch((e: unknown) => e)
        expect(isPgError(error, 'timeout'), String(error)).toBe(true)
      } finally {
        await release()
      }
    })

    it(`${label} is cancelled by its signal and the connection stays usable`, async () => {
      const { name, release } = await locked()
      try {
        const { client, connection } = await open()
        const controller = new AbortController()
        setTimeout(() => controller.abort(), 200)
        const error = await run(client, `select * from ${name}`, { signal: controller.signal }).catch(
          (e: unknown) => e,
        )
        expect(isDatabaseError(error, '57014') || isPgError(error, 'aborted'), String(error)).toBe(true)
        expect(connection.state).toBe('running')
        expect((await client.queryOne<{ n: number }>('select 8 as n')).n).toBe(8)
        await client.end()
      } finally {
        await release()
      }
    })
  }

  it('closeStatement() rejects at its timeout when the server is silent', async () => {
    const proxy = await startFaultProxy({ host: server.host, port: server.port })
    try {
      const { client } = await open({ url: url(undefined, proxy.host, proxy.port) })
      const statement = await client.prepare('select 1')
      proxy.faults = { blackhole: true }
      const error = await client.closeStatement(statement, { timeout: 200 }).catch((e: unknown) => e)
      expect(isPgError(error, 'timeout')).toBe(true)
    } finally {
      await proxy.close()
    }
  })

  it('an aborted request still queued behind another rejects at once and the connection stays usable', async () => {
    const { client, connection } = await open()
    const controller = new AbortController()
    const first = client.queryOne<{ n: number }>('select 1 as n, pg_sleep(0.4)')
    const second = settled(client.query('select 2', [], { signal: controller.signal }))
    setTimeout(() => controller.abort(), 50)
    const started = performance.now()
    const outcome = await second
    expect(performance.now() - started).toBeLessThan(300)
    expect(outcome.status).toBe('rejected')
    expect(isPgError((outcome as { reason: unknown }).reason, 'aborted')).toBe(true)
    expect((await first).n).toBe(1)
    expect(connection.state).toBe('running')
    expect((await client.queryOne<{ n: number }>('select 3 as n')).n).toBe(3)
    await client.end()
  })

  it('an aborted request held behind a stream is taken back without touching the connection', async () => {
    const { client, connection } = await open()
    const rows = client.queryRaw<{ n: number }>('select n from generate_series(1, 100) n', [], {
      batchSize: 5,
    })
    expect((await rows.next()).value).toEqual({ n: 1 })
    const controller = new AbortController()
    const held = settled(client.query('select 2', [], { signal: controller.signal }))
    controller.abort()
    const outcome = await held
    expect(isPgError((outcome as { reason: unknown }).reason, 'aborted')).toBe(true)
    let count = 1
    for await (const _ of rows) count++
    expect(count).toBe(100)
    expect(connection.state).toBe('running')
    await client.end()
  })
})

describe('end() while a portal or COPY owns the wire', () => {
  it('writes Terminate last: requests held behind an open stream complete first', async () => {
    const { client, done } = await open()
    const rows = client.queryRaw<{ n: number }>('select n from generate_series(1, 1000) n', [], {
      batchSize: 10,
    })
    expect((await rows.next()).value).toEqual({ n: 1 })
    const held = client.queryOne<{ n: number }>('select 42 as n')
    const ended = client.end()
    expect((await held).n).toBe(42)
    await ended
    await done
    // The rows already fetched are delivered, then the stream says why it stopped.
    const rest: number[] = []
    const error = await (async () => {
      for await (const row of rows) rest.push(row.n)
    })().catch((e: unknown) => e)
    expect(rest).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10])
    expect(isPgError(error, 'closed')).toBe(true)
  })

  it('writes Terminate last: a COPY waiting on its source is failed, held requests then run', async () => {
    const name = await table()
    const { client, done } = await open()
    async function* never() {
      yield '1\n'
      await new Promise(() => {})
    }
    const copying = settled(client.copyIn(`copy ${name} from stdin`, never()))
    await new Promise((r) => setTimeout(r, 100))
    const held = client.queryOne<{ n: number }>('select 43 as n')
    await client.end()
    await done
    expect((await held).n).toBe(43)
    const outcome = await copying
    expect(isPgError((outcome as { reason: unknown }).reason, 'closed')).toBe(true)
    expect(await admin(`select id from ${name}`)).toEqual([])
  })
})

describe('cancellation targets only the statement it means', () => {
  it('a cancel for a pipelined request that already finished does not cancel the next caller', async () => {
    // With 150 ms each way, the client still thinks `select 1` runs when the server has finished it and
    // would be running the next statement: its cancel must not land there.
    const proxy = await startFaultProxy({ host: server.host, port: server.port })
    try {
      const { client } = await open({ url: url(undefined, proxy.host, proxy.port) })
      proxy.faults = { latency: 150 }
      const controller = new AbortController()
      const first = settled(client.query('select 1 as n', [], { signal: controller.signal }))
      const second = settled(client.queryOne<{ n: number }>('select 2 as n, pg_sleep(1)'))
      setTimeout(() => controller.abort(), 220)
      const [a, b] = await Promise.all([first, second])
      expect(b).toEqual({ status: 'fulfilled', value: { n: 2, pg_sleep: '' } })
      expect(a.status === 'fulfilled' || isDatabaseError(a.reason, '57014')).toBe(true)
      await client.end()
    } finally {
      await proxy.close()
    }
  })
})

describe('pool open backoff', () => {
  it('does not reopen at once after a failed login: attempts are spaced by the backoff', async () => {
    const opens: number[] = []
    const base = transport()
    const counting: Transport = (target) => {
      opens.push(performance.now())
      return base(target)
    }
    const p = createPool(url({ user: server.roles.scram.user, password: 'wrong-password' }), {
      transport: counting,
      max: 4,
      openBackoffMax: 400,
    })
    pools.push(p)
    for (let i = 0; i < 6; i++) {
      const outcome = await settled(p.query('select 1'))
      expect(isDatabaseError((outcome as { reason: unknown }).reason, '28P01')).toBe(true)
    }
    // Without a backoff each caller starts its own login at once; with it, 100 ms doubling (±20 %).
    expect(opens.length).toBe(6)
    const gaps = opens.slice(1).map((at, i) => at - opens[i]!)
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(75)
    expect(gaps.at(-1)).toBeGreaterThanOrEqual(300)
  })

  it('callers arriving while the backoff runs share the next attempt', async () => {
    let opens = 0
    const base = transport()
    const counting: Transport = (target) => {
      opens++
      return base(target)
    }
    const p = createPool(url({ user: server.roles.scram.user, password: 'wrong-password' }), {
      transport: counting,
      max: 2,
      openBackoffMax: 300,
    })
    pools.push(p)
    await settled(p.query('select 1'))
    const before = opens
    const outcomes = await Promise.all(Array.from({ length: 30 }, () => settled(p.query('select 1'))))
    for (const outcome of outcomes) {
      expect(isDatabaseError((outcome as { reason: unknown }).reason, '28P01')).toBe(true)
    }
    expect(opens - before).toBeLessThanOrEqual(2)
  })

  it('serves again once the server is reachable', async () => {
    const proxy = await startFaultProxy({ host: server.host, port: server.port })
    try {
      proxy.faults = { reset: true }
      const p = createPool(url(undefined, proxy.host, proxy.port), {
        transport: transport(),
        max: 2,
        openBackoffMax: 200,
      })
      pools.push(p)
      expect((await settled(p.query('select 1'))).status).toBe('rejected')
      proxy.faults = {}
      await waitFor(async () => (await settled(p.query('select 1'))).status === 'fulfilled', 5000)
    } finally {
      await proxy.close()
    }
  })
})

describe('a stream that waits behind another lease holder', () => {
  it('return() before the stream was written settles, after a cancelled query (lifecycle model M4)', async () => {
    const { client, connection } = await open()
    for (let i = 0; i < 3; i++) {
      const controller = new AbortController()
      const query = client.query('select pg_sleep(0.3), $1::text as token', ['t'], {
        signal: controller.signal,
      })
      setTimeout(() => controller.abort(), 12)
      await query.catch(() => {})
      const rows = client.queryRaw('select i from generate_series(1, 3) i', [], { batchSize: 2 })
      const next = settled(rows.next())
      const returned = settled(rows.return!())
      expect(await next).toEqual({ status: 'fulfilled', value: { value: undefined, done: true } })
      expect((await returned).status).toBe('fulfilled')
    }
    expect(connection.state).toBe('running')
    expect((await client.queryOne<{ n: number }>('select 5 as n')).n).toBe(5)
    await client.end()
  })
})

describe('deadlines a timer cannot hold', () => {
  it('a timeout above 2^31 − 1 ms is refused instead of firing after 1 ms (adversarial finding A2)', async () => {
    const { client, connection } = await open()
    const error = await client.query('select 1', [], { timeout: 2 ** 31 }).catch((e: unknown) => e)
    expect(isPgError(error, 'usage')).toBe(true)
    expect(connection.state).toBe('running')
    expect((await client.queryOne<{ n: number }>('select 1 as n', [], { timeout: 2 ** 31 - 1 })).n).toBe(1)
    await client.end()
    await expect(open({ queryTimeout: 2 ** 31 })).rejects.toSatisfy((e) => isPgError(e, 'config'))
  })
})

describe('bounded shutdown', () => {
  it('end({ timeout }) settles when the server went silent with a request in flight', async () => {
    const proxy = await startFaultProxy({ host: server.host, port: server.port })
    try {
      const { client, done } = await open({ url: url(undefined, proxy.host, proxy.port) })
      await client.query('select 1')
      proxy.faults = { blackhole: true }
      const inFlight = settled(client.query('select 2'))
      const started = performance.now()
      await client.end({ timeout: 300 })
      expect(performance.now() - started).toBeLessThan(3000)
      const outcome = await inFlight
      expect(isPgError((outcome as { reason: unknown }).reason, 'timeout')).toBe(true)
      await expect(done).rejects.toSatisfy((e) => isPgError(e, 'timeout'))
    } finally {
      await proxy.close()
    }
  })

  it('end() without a timeout still lets a slow in-flight query finish', async () => {
    const { client } = await open()
    const slow = client.queryOne<{ n: number }>('select 9 as n, pg_sleep(0.3)')
    await client.end({ timeout: 5000 })
    expect((await slow).n).toBe(9)
  })

  it('pool.end({ timeout }) settles with a query in flight on a silent server and a lease out', async () => {
    const proxy = await startFaultProxy({ host: server.host, port: server.port })
    try {
      const p = createPool(url(undefined, proxy.host, proxy.port), { transport: transport(), max: 2 })
      const lease = await p.connect()
      await p.query('select 1')
      proxy.faults = { blackhole: true }
      const inFlight = settled(p.query('select 2'))
      const started = performance.now()
      await p.end({ timeout: 300 })
      expect(performance.now() - started).toBeLessThan(3000)
      expect((await inFlight).status).toBe('rejected')
      await expect(lease.query('select 3')).rejects.toSatisfy((e) => isPgError(e))
      lease.release()
    } finally {
      await proxy.close()
    }
  })

  it('end({ timeout }) refuses a timeout a timer cannot hold', async () => {
    const { client } = await open()
    await expect(client.end({ timeout: 2 ** 31 })).rejects.toSatisfy((e) => isPgError(e, 'usage'))
    await client.end()
  })
})

describe('one transaction at a time per client', () => {
  it('a second client.transaction() while one is open is refused instead of running inside it', async () => {
    const name = await table()
    const { client } = await open()
    const [a, b] = await Promise.all([
      settled(
        client.transaction(async (tx) => {
          await tx.query(`insert into ${name} values (1)`)
          await new Promise((r) => setTimeout(r, 50))
          throw new Error('a fails')
        }),
      ),
      settled(
        client.transaction(async (tx) => {
          await tx.query(`insert into ${name} values (2)`)
        }),
      ),
    ])
    expect(a.status).toBe('rejected')
    expect(isPgError((b as { reason: unknown }).reason, 'usage')).toBe(true)
    // a's insert was rolled back; b never ran inside it.
    expect(await admin(`select id from ${name}`)).toEqual([])
    await client.transaction(async (tx) => {
      await tx.query(`insert into ${name} values (3)`)
    })
    expect(await admin(`select id from ${name}`)).toEqual([{ id: 3 }])
    await client.end()
  })
})

describe('float text is exact whatever the server configuration', () => {
  it('pins extra_float_digits and refuses one that would round text floats', async () => {
    const { client } = await open()
    expect(await client.queryOne(`select current_setting('extra_float_digits') as d`)).toEqual({ d: '3' })
    await client.end()
    const options = encodeURIComponent('-c extra_float_digits=0')
    await expect(open({ url: `${url()}?options=${options}` })).rejects.toSatisfy((e) =>
      isPgError(e, 'config'),
    )
  })
})

describe('a bounded pool shutdown stops what still runs', () => {
  it('pool.end({ timeout }) cancels the statements still running on its connections', async () => {
    const mark = `pool_end_${transportKind}_${process.pid}`
    const p = createPool(url(), { transport: transport(), max: 2 })
    const running = settled(p.query(`select pg_sleep(5) /*${mark}*/`))
    const lease = await p.connect()
    const leased = settled(lease.query(`select pg_sleep(5) /*${mark}*/`))
    await new Promise((r) => setTimeout(r, 150))
    await p.end({ timeout: 200 })
    expect((await running).status).toBe('rejected')
    expect((await leased).status).toBe('rejected')
    lease.release()
    await waitFor(async () => {
      const [row] = await admin<{ n: number }>(
        `select count(*)::int as n from pg_stat_activity where state = 'active' and query like $1`,
        [`%/*${mark}*/%`],
      )
      return row!.n === 0
    }, 3000)
  })
})
