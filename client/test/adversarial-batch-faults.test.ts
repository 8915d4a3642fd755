/**
 * An adversarial review of `batch` and the pipelined query path (issue 14), under faults: batches mixed with
 * every other flow in one tick, aborts, timeouts, cuts and stalls mid-batch (the fault proxy), one signal for
 * many requests, pool.batch, and a long queue with removals. Every promise must settle.
 */
import { connect, createPool, isDatabaseError, isPgError, type Transport } from '@edgepg/client'
import { nodeSocket } from '@edgepg/client/node'
import { webSocket } from '@edgepg/client/websocket'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { type FaultProxy, startFaultProxy } from '../../test/fault-proxy.ts'
import { admin, type Opened, openEach, server, transport, transportKind, url } from './helpers.ts'

const db = openEach()

const table = `advb_faults_${transportKind}`
afterAll(() => admin(`drop table if exists ${table}`))

async function freshTable(client: Opened['client']) {
  await client.batchExecute(`drop table if exists ${table}; create table ${table} (k int primary key)`)
}

const committed = async () =>
  ((await admin(`select k from ${table} order by k`)) as { k: number }[]).map((r) => r.k)

const relay = new URL(inject('relayUrl'))
let proxy: FaultProxy
beforeAll(async () => {
  proxy =
    transportKind === 'tcp'
      ? await startFaultProxy({ host: server.host, port: server.port })
      : await startFaultProxy({ host: relay.hostname, port: Number(relay.port) })
})
afterAll(() => proxy.close())

/** A transport and URL that go through the fault proxy. */
function through(): { transport: Transport; target: string } {
  if (transportKind === 'tcp')
    return { transport: nodeSocket(), target: url(undefined, proxy.host, proxy.port) }
  return { transport: webSocket({ url: `ws://${proxy.host}:${proxy.port}${relay.pathname}` }), target: url() }
}

const messageOf = (s: PromiseSettledResult<unknown>) =>
  s.status === 'rejected' ? (s.reason as Error).message : 'fulfilled'

describe('a batch among every other flow in one tick', () => {
  it('gives each caller its own answer: query, prepare, queryRaw, copyIn, copyOut, a transaction, LISTEN/NOTIFY', async () => {
    const { client, connection } = await db()
    await freshTable(client)
    const channel = `advb_${transportKind}_ch`
    const heard: string[] = []
    connection.on('notification', (n) => heard.push(n.payload))
    const calls = await Promise.all([
      client.query(`listen ${channel}`).then(() => 'listening'),
      client.batch([
        [`insert into ${table} values ($1)`, [1]],
        ['select pg_notify($1, $2)', [channel, 'from batch']],
      ]),
      client.query('select $1::int as n', [2]).then((r) => r.rows),
      client
        .prepare('select $1::text as t')
        .then((s) => client.batch([[s, ['p']]]).then((rs) => rs[0]!.rows)),
      (async () => {
        const rows: unknown[] = []
        for await (const row of client.queryRaw('select generate_series(1, $1::int) as g', [3]))
          rows.push(row)
        return rows
      })(),
      client.copyIn(`copy ${table} from stdin`, ['10\n', '11\n']),
      client.batch([[`select count(*)::int as n from ${table} where k >= 10`]]).then((rs) => rs[0]!.rows),
      client
        .copyOut(`copy (select k from ${table} where k >= 10 order by k) to stdout`)
        .then(async (stream) => {
          let text = ''
          const decoder = new TextDecoder()
          for await (const chunk of stream) text += decoder.decode(chunk, { stream: true })
          return text
        }),
      client.transaction(async (tx) => {
        const [r] = await tx.batch([[`insert into ${table} values (20)`], ['select 1 as one']])
        return r!.rowCount
      }),
    ])
    expect(calls).toEqual([
      'listening',
      expect.any(Array),
      [{ n: 2 }],
      [{ t: 'p' }],
      [{ g: 1 }, { g: 2 }, { g: 3 }],
      2,
      [{ n: 2 }],
      '10\n11\n',
      1,
    ])
    // (The transaction's body runs after its BEGIN's answer: a batch issued in the same tick would run inside it.)
    expect((await client.batch([[`select array_agg(k order by k) as ks from ${table}`]]))[0]!.rows).toEqual([
      { ks: [1, 10, 11, 20] },
    ])
    expect(heard).toEqual(['from batch'])
  })
})

describe('aborts, timeouts and cuts mid-batch', () => {
  it('an abort while the batch runs cancels it, rolls back its earlier statements and keeps the connection', async () => {
    const { client } = await db()
    await freshTable(client)
    const controller = new AbortController()
    const batch = client.batch(
      [[`insert into ${table} values (1)`], ['select pg_sleep(5)'], [`insert into ${table} values (2)`]],
      { signal: controller.signal },
    )
    setTimeout(() => controller.abort(), 150)
    expect(isDatabaseError(await batch.catch((e: unknown) => e), '57014')).toBe(true)
    expect((await client.query('select 1 as ok')).rows).toEqual([{ ok: 1 }])
    expect(await committed()).toEqual([])
  })

  it('an abort of a batch queued behind a running query leaves the requests around it their answers', async () => {
    const { client } = await db()
    const head = client.query('select pg_sleep(0.2) as s')
    const controller = new AbortController()
    const aborted = client.batch([['select 1 as a'], ['select 2 as b']], { signal: controller.signal })
    const after = client.batch([['select 3 as c'], ['select 4 as d']])
    const afterQuery = client.query('select 5 as e')
    setTimeout(() => controller.abort(), 30)
    expect(isPgError(await aborted.catch((e: unknown) => e), 'aborted')).toBe(true)
    await head
    expect((await after).map((r) => r.rows[0])).toEqual([{ c: 3 }, { d: 4 }])
    expect((await afterQuery).rows).toEqual([{ e: 5 }])
  })

  it('a timeout mid-batch destroys the connection, settles every promise and commits nothing', async () => {
    const { client } = await db()
    await freshTable(client)
    const settled = await Promise.allSettled([
      client.query('select 0 as z'),
      client.batch([[`insert into ${table} values (1)`], ['select pg_sleep(5)']], { timeout: 100 }),
      client.query('select 1 as a'),
      client.batch([['select 1 as a']]),
    ])
    expect(settled[0]!.status).toBe('fulfilled')
    expect(isPgError((settled[1] as PromiseRejectedResult).reason, 'timeout')).toBe(true)
    expect(settled.slice(2).map(messageOf)).toEqual([
      'connection destroyed: a request was abandoned (query timed out after 100 ms)',
      'connection destroyed: a request was abandoned (query timed out after 100 ms)',
    ])
    expect(client.isClosed).toBe(true)
    await expect.poll(committed).toEqual([])
  })

  it('a connection cut while a large batch answers settles every promise', async () => {
    const { transport: t, target } = through()
    const [client, connection] = await connect(target, { transport: t })
    connection.run().catch(() => {})
    try {
      await client.query('select 1')
      // Cut once 1 MB of the 20 MB answer has come down (the count includes the startup's bytes).
      proxy.faults = { cutAfter: 1_000_000 }
      const batch = client.batch([
        ['select repeat($1, 100000) as r from generate_series(1, 200)', ['x']],
        ['select 2'],
      ])
      const query = client.query('select 3')
      const settled = await Promise.allSettled([batch, query])
      expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected'])
      expect(client.isClosed).toBe(true)
    } finally {
      proxy.faults = {}
      await client.end()
    }
  })

  it('a stall mid-batch ends with the timeout, and every promise settles', async () => {
    const { transport: t, target } = through()
    const [client, connection] = await connect(target, { transport: t })
    connection.run().catch(() => {})
    try {
      await client.query('select 1')
      proxy.faults = { blackhole: true }
      const settled = await Promise.allSettled([
        client.batch([['select 1'], ['select 2']], { timeout: 150 }),
        client.query('select 3'),
      ])
      expect(isPgError((settled[0] as PromiseRejectedResult).reason, 'timeout')).toBe(true)
      expect(settled[1]!.status).toBe('rejected')
    } finally {
      proxy.faults = {}
      await client.end()
    }
  })
})

describe('one signal for many requests', () => {
  it('aborts 50 pipelined queries and batches sharing one signal: the running one is cancelled, the rest withdrawn', async () => {
    const { client } = await db()
    const controller = new AbortController()
    const calls = Array.from({ length: 50 }, (_, i) =>
      i % 2
        ? client.batch([['select pg_sleep(0.05)'], ['select $1::int as n', [i]]], {
            signal: controller.signal,
          })
        : client.query('select pg_sleep(0.05), $1::int as n', [i], { signal: controller.signal }),
    )
    setTimeout(() => controller.abort(), 120)
    const settled = await Promise.allSettled(calls)
    const kinds = settled.map((s) =>
      s.status === 'fulfilled'
        ? 'ok'
        : isDatabaseError(s.reason, '57014')
          ? 'cancelled'
          : isPgError(s.reason, 'aborted')
            ? 'aborted'
            : String(s.reason),
    )
    // In order: those that finished, at most one cancelled while it ran, then every other one taken back.
    const firstNotOk = kinds.indexOf(kinds.find((k) => k !== 'ok')!)
    expect(firstNotOk).toBeGreaterThan(0)
    expect(kinds.slice(firstNotOk).filter((k) => k === 'cancelled').length).toBeLessThanOrEqual(1)
    expect(kinds.slice(firstNotOk + 1).every((k) => k === 'aborted')).toBe(true)
    expect((await client.query('select 1 as ok')).rows).toEqual([{ ok: 1 }])
  })
})

describe('pool.batch', () => {
  it('keeps the connection after a failed batch, and destroys one a batch left in a transaction (failed or not)', async () => {
    const pool = createPool(url(), { transport: transport(), max: 1 })
    try {
      expect(
        isDatabaseError(await pool.batch([['select 1'], ['select 1/0']]).catch((e: unknown) => e), '22012'),
      ).toBe(true)
      for (const queries of [
        [['begin'], ['select 1/0']],
        [['select 1'], ['begin']],
      ] as const) {
        const error = await pool.batch(queries).catch((e: unknown) => e)
        expect((error as Error).message).toMatch(/left a transaction open/)
      }
      expect((await pool.batch([['select 3 as n']]))[0]!.rows).toEqual([{ n: 3 }])
    } finally {
      await pool.end()
    }
  })
})

describe('a long queue', () => {
  it('keeps the order of 10,000 pipelined queries and batches while a third of them are withdrawn', async () => {
    const { client } = await db()
    const holder = new AbortController()
    // The head holds the wire (it has a signal), so everything behind it is held and can be withdrawn.
    const head = client.query('select pg_sleep(0.1)', [], { signal: holder.signal })
    const calls: Promise<unknown>[] = []
    const expected: unknown[] = []
    const controllers: AbortController[] = []
    for (let i = 0; i < 10_000; i++) {
      const isWithdrawn = i % 3 === 1
      const signal = isWithdrawn ? new AbortController() : undefined
      if (signal) controllers.push(signal)
      const options = signal ? { signal: signal.signal } : undefined
      if (i % 5 === 0) {
        calls.push(
          client
            .batch(
              [
                ['select $1::int as n', [i]],
                ['select $1::int + 1 as m', [i]],
              ],
              options,
            )
            .then((rs) => rs.map((r) => r.rows[0]))
            .catch((e: unknown) => (isPgError(e, 'aborted') ? 'aborted' : e)),
        )
        expected.push(isWithdrawn ? 'aborted' : [{ n: i }, { m: i + 1 }])
      } else {
        calls.push(
          client
            .query('select $1::int as n', [i], options)
            .then((r) => r.rows[0])
            .catch((e: unknown) => (isPgError(e, 'aborted') ? 'aborted' : e)),
        )
        expected.push(isWithdrawn ? 'aborted' : { n: i })
      }
      // Withdraw from the middle while the ring grows, in waves.
      if (i % 1000 === 999) for (const c of controllers.splice(0)) c.abort()
    }
    for (const c of controllers.splice(0)) c.abort()
    await head
    expect(await Promise.all(calls)).toEqual(expected)
    expect((await client.query('select 1 as ok')).rows).toEqual([{ ok: 1 }])
  })
})
