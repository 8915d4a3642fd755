// Adversarial review of the relay's pooled upstream reads (proxy/src/upstream-reads.ts): sessions that share
// one read buffer and a pool of blocks, against mixed fast, slow, pipelining and vanishing clients on seeded
// schedules, COPY to a slow client, backends terminated and upstreams reset while blocks are lent, and a
// custom dialer whose socket had data before the relay took it. Every completed answer is compared by digest
// with the same answer over direct TCP; every lent block comes back; no session disturbs another.
import { createHash } from 'node:crypto'
import type { Server } from 'node:net'
import { connect as connectPg } from '@edgepg/client'
import { webSocket } from '@edgepg/client/websocket'
import { afterEach, describe, expect, it } from 'vitest'
import { type FaultProxy, startFaultProxy } from '../../test/fault-proxy.ts'
import { type Answer, AnswerReader, directAnswer, random, rowsSql } from './answers.ts'
import {
  admin,
  loopbackServer,
  openWs,
  pg,
  pgAddress,
  pgUrl,
  simpleQuery,
  sleep,
  slowDialer,
  startTestRelay,
  type TestRelay,
  trustStartup,
} from './helpers.ts'

let relay: TestRelay | undefined
let proxy: FaultProxy | undefined
let server: Server | undefined
afterEach(async () => {
  await relay?.shutdown()
  await proxy?.close()
  server?.close()
  relay = undefined
  proxy = undefined
  server = undefined
})

const HWM = 64 * 1024

/** Many short answers: a pipeline of simple queries, each its own flush (short reads, pacing's case). */
const pipelineOf = (seed: number, count: number) =>
  Buffer.concat(Array.from({ length: count }, (_, i) => simpleQuery(`select ${seed * 100_000 + i}, 'p${i}'`)))

type Behaviour = 'fast' | 'slow' | 'terminate' | 'close'

/**
 * The answer through the relay. `slow` pauses the client for a few ms after random messages; `terminate`
 * and `close` end the session (abruptly, or with a closing handshake) once `stopAfter` bytes have come.
 */
async function relayedAnswer(
  wsUrl: string,
  request: Buffer,
  options: { answers?: number; behaviour?: Behaviour; next?: () => number; stopAfter?: number } = {},
): Promise<Answer> {
  const { behaviour = 'fast', next = Math.random, stopAfter = Infinity } = options
  const { ws, closed } = await openWs(`${wsUrl}?address=${pgAddress}`)
  return new Promise((resolve, reject) => {
    const reader = new AnswerReader(
      options.answers ?? 1,
      () => ws.send(request),
      () => {
        ws.close()
        resolve({ digest: reader.digest.digest('hex'), bytes: reader.bytes })
      },
    )
    let isStopped = false
    ws.on('message', (data: Buffer) => {
      if (isStopped) return
      try {
        reader.push(data)
      } catch (error) {
        ws.terminate()
        reject(error)
        return
      }
      if (reader.bytes >= stopAfter && (behaviour === 'terminate' || behaviour === 'close')) {
        isStopped = true
        if (behaviour === 'terminate') ws.terminate()
        else ws.close()
        void closed.then(() => resolve({ digest: '', bytes: reader.bytes }))
        return
      }
      if (behaviour === 'slow' && next() < 0.25) {
        ws.pause()
        setTimeout(() => ws.resume(), 1 + Math.floor(next() * 8))
      }
    })
    void closed.then(({ code }) => {
      if (!isStopped) reject(new Error(`relay closed the session early (${code})`))
    })
    ws.send(trustStartup('adv-reads'))
  })
}

/** Opens a session, logs in, stops reading, and asks for `sql`; resolves once the relay holds lent blocks. */
async function stalledSession(wsUrl: string, address: string, app: string, sql: string) {
  const opened = await openWs(`${wsUrl}?address=${address}`)
  const received: Buffer[] = []
  opened.ws.on('message', (data: Buffer) => received.push(data))
  opened.ws.send(trustStartup(app))
  await expect.poll(() => received.length, { timeout: 10_000 }).toBeGreaterThan(0)
  await sleep(20)
  opened.ws.pause()
  opened.ws.send(simpleQuery(sql))
  return { ...opened, received }
}

describe('pooled upstream reads, adversarially', () => {
  it('relays every byte unchanged to a dozen mixed clients on seeded schedules, and gets every block back', async () => {
    relay = await startTestRelay({ highWaterMark: HWM })
    const behaviours: Behaviour[] = ['fast', 'slow', 'terminate', 'close']
    const plans = Array.from({ length: 12 }, (_, seed) => {
      const next = random(1000 + seed)
      const isPipeline = seed % 3 === 2
      return {
        seed,
        next,
        behaviour: behaviours[seed % 4]!,
        request: isPipeline ? pipelineOf(seed, 1500) : simpleQuery(rowsSql(seed, 800 + seed * 90)),
        answers: isPipeline ? 1500 : 1,
        stopAfter: 50_000 + Math.floor(next() * 400_000),
      }
    })
    const expected = await Promise.all(plans.map(({ request, answers }) => directAnswer(request, answers)))
    for (let round = 0; round < 2; round++) {
      const got = await Promise.all(plans.map((plan) => relayedAnswer(relay!.wsUrl, plan.request, plan)))
      plans.forEach((plan, i) => {
        if (plan.behaviour === 'fast' || plan.behaviour === 'slow') expect(got[i]).toEqual(expected[i])
        else expect(got[i]!.bytes).toBeGreaterThanOrEqual(Math.min(plan.stopAfter, expected[i]!.bytes))
      })
    }
    await expect.poll(() => relay!.sessions.size, { timeout: 10_000 }).toBe(0)
    await expect.poll(() => relay!.readBlocks.lent, { timeout: 10_000 }).toBe(0)
    // Blocks are reused: at most what twelve sessions at the mark (each block ≥ 16 KB of data) hold at once.
    expect(relay.readBlocks.made).toBeLessThanOrEqual(12 * Math.ceil((HWM + 64 * 1024) / (16 * 1024)) + 12)
    // The pool is still sound for the next session.
    expect(await relayedAnswer(relay.wsUrl, plans[0]!.request)).toEqual(expected[0])
  })

  it('streams COPY TO STDOUT of a large table to a slow client unchanged', async () => {
    await admin(
      `create table if not exists adv_reads_copy as select i, md5(i::text) as h, repeat('c', i % 3000) as pad from generate_series(1, 6000) i`,
    )
    await admin('grant select on adv_reads_copy to public')
    relay = await startTestRelay({ highWaterMark: HWM })
    const request = simpleQuery('copy adv_reads_copy to stdout')
    const expected = await directAnswer(request)
    expect(expected.bytes).toBeGreaterThan(8 * 1024 * 1024)
    const got = await relayedAnswer(relay.wsUrl, request, { behaviour: 'slow', next: random(7) })
    expect(got).toEqual(expected)
    await expect.poll(() => relay!.readBlocks.lent, { timeout: 10_000 }).toBe(0)
  })

  it('gives lent blocks back when PostgreSQL terminates the backend of a stalled client, and spares the others', async () => {
    relay = await startTestRelay({ highWaterMark: HWM })
    const stalled = await stalledSession(
      relay.wsUrl,
      pgAddress,
      'adv-reads-killed',
      `select repeat('k', 30000) from generate_series(1, 3000)`,
    )
    const [session] = [...relay.sessions]
    await expect.poll(() => session!.bufferedToClient, { timeout: 10_000 }).toBeGreaterThan(HWM / 2)
    expect(relay.readBlocks.lent).toBeGreaterThan(0)
    const bystanderRequest = simpleQuery(rowsSql(5, 1500))
    const bystander = relayedAnswer(relay.wsUrl, bystanderRequest, { behaviour: 'slow', next: random(5) })
    await admin(
      `select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'adv-reads-killed'`,
    )
    stalled.ws.resume()
    expect((await stalled.closed).code).toBe(1000)
    // The rows sent before the end arrive whole (the reader throws on a byte out of place), then
    // PostgreSQL's FATAL error if it could still write it (a backend stuck in ClientWrite may not).
    const reader = new AnswerReader(
      1,
      () => {},
      () => {},
    )
    reader.push(Buffer.concat(stalled.received))
    expect(reader.bytes).toBeGreaterThan(HWM)
    expect(['', '57P01']).toContain(reader.errors.join())
    expect(await bystander).toEqual(await directAnswer(bystanderRequest))
    await expect.poll(() => relay!.readBlocks.lent, { timeout: 10_000 }).toBe(0)
    expect(relay.sessions.size).toBe(0)
  })

  it('gives lent blocks back when the upstream is reset under a stalled client, and spares the others', async () => {
    proxy = await startFaultProxy({ host: pg.host, port: pg.port })
    const proxied = `127.0.0.1:${proxy.port}`
    relay = await startTestRelay({ highWaterMark: HWM, allow: [pgAddress, proxied] })
    const stalled = await stalledSession(
      relay.wsUrl,
      proxied,
      'adv-reads-reset',
      `select repeat('r', 30000) from generate_series(1, 3000)`,
    )
    const [session] = [...relay.sessions]
    await expect.poll(() => session!.bufferedToClient, { timeout: 10_000 }).toBeGreaterThan(HWM / 2)
    expect(relay.readBlocks.lent).toBeGreaterThan(0)
    const bystanderRequest = simpleQuery(rowsSql(6, 1500))
    const bystander = relayedAnswer(relay.wsUrl, bystanderRequest, { behaviour: 'slow', next: random(6) })
    proxy.resetAll()
    await sleep(50)
    stalled.ws.resume()
    expect([1000, 1011]).toContain((await stalled.closed).code)
    expect(await bystander).toEqual(await directAnswer(bystanderRequest))
    await expect.poll(() => relay!.readBlocks.lent, { timeout: 10_000 }).toBe(0)
    expect(relay.sessions.size).toBe(0)
  })

  it('relays what a custom dialer’s socket read before the relay took it, first and in order', async () => {
    // An upstream that speaks first (as a proxy protocol or a greeting would): 100 KB at once, then an echo.
    const greeting = Buffer.alloc(100 * 1024)
    for (let i = 0; i < greeting.length; i++) greeting[i] = (i * 31 + (i >> 8)) & 0xff
    const upstream = await loopbackServer((socket) => {
      socket.write(greeting.subarray(0, 20_000))
      socket.write(greeting.subarray(20_000))
      socket.on('data', (data) => socket.write(data))
    })
    server = upstream.server
    const { address } = upstream
    for (const passesOnread of [true, false]) {
      relay = await startTestRelay({ allow: [address], allowPrivate: true }, undefined, {
        // Takes its time after connecting: the greeting is read meanwhile.
        dial: slowDialer(100, passesOnread),
      })
      const { ws, received, closed } = await openWs(`${relay.wsUrl}?address=${address}`)
      const startup = trustStartup('adv-reads-early')
      ws.send(startup)
      const expected = Buffer.concat([greeting, startup])
      await expect
        .poll(() => received.reduce((sum, chunk) => sum + chunk.length, 0), { timeout: 10_000 })
        .toBe(expected.length)
      expect(Buffer.concat(received).equals(expected)).toBe(true)
      ws.close()
      await closed
      await expect.poll(() => relay!.readBlocks.lent).toBe(0)
      await relay.shutdown()
      relay = undefined
    }
  })

  it('answers an edgepg client’s pipeline of short queries and bulk results interleaved, paced and pooled', async () => {
    relay = await startTestRelay({ pipelinePacing: 1, highWaterMark: 256 * 1024 })
    const [client, connection] = await connectPg(pgUrl(), { transport: webSocket({ url: relay.wsUrl }) })
    const done = connection.run()
    const short = (n: number) =>
      client.query<{ n: number }>('select $1::int as n', [n]).then(({ rows }) => rows[0]!.n)
    // Rows of 20-40 KB: reads past the pooled threshold and past pacing's bulk limit, between short answers.
    const bulk = (n: number) =>
      client
        .query<{ h: string; len: number }>(
          `select md5(string_agg(p, '')) as h, sum(length(p))::int as len from (select repeat(md5(i::text), 600 + $1::int * 50) as p from generate_series(1, 40) i) s`,
          [n],
        )
        .then(({ rows }) => rows[0]!)
    const big = (n: number) =>
      client
        .query<{ p: string }>(
          'select repeat(md5(i::text), 600 + $1::int * 50) as p from generate_series(1, 40) i',
          [n],
        )
        .then(({ rows }) => rows.map(({ p }) => p))
    const work: Promise<unknown>[] = []
    for (let n = 0; n < 1500; n++) {
      work.push(short(n))
      if (n % 100 === 0) work.push(Promise.all([big(n / 100), bulk(n / 100)]))
    }
    const results = await Promise.all(work)
    let n = 0
    for (const result of results) {
      if (Array.isArray(result)) {
        const [rows, summary] = result as [string[], { h: string; len: number }]
        expect(rows.join('').length).toBe(summary.len)
        expect(createHash('md5').update(rows.join('')).digest('hex')).toBe(summary.h)
      } else expect(result).toBe(n++)
    }
    expect(n).toBe(1500)
    await client.end()
    await done
    await expect.poll(() => relay!.readBlocks.lent).toBe(0)
  })
})
