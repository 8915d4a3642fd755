// Adversarial review of pipeline pacing (proxy/src/read-pacing.ts, SocketUpstream in proxy/src/session.ts)
// through a real relay and PostgreSQL: a pause always ends (notifications to a silent LISTEN client, a
// pipeline whose last answer is late), a pause never lifts backpressure, and a session that ends during a
// pause (Terminate, cancel, client gone, backend terminated) ends cleanly without touching the others.
// `pipelinePacing: 100` (the most allowed) makes pauses long enough to act inside one; the dialer wraps the
// upstream socket's pause() to see them (a pause the session's backpressure did not ask for is pacing's).
import type { Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { tcpDialer } from '../src/session.ts'
import {
  admin,
  backends,
  type Opened,
  openWs,
  pgAddress,
  sleep,
  startTestRelay,
  type TestRelay,
  tcpDialerIgnoringOptions,
  trustStartup,
} from './helpers.ts'

let relay: TestRelay | undefined
afterEach(async () => {
  await relay?.shutdown()
  relay = undefined
})

function message(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5)
  head[0] = type.charCodeAt(0)
  head.writeInt32BE(body.length + 4, 1)
  return Buffer.concat([head, body])
}
const simpleQuery = (sql: string) => message('Q', Buffer.from(`${sql}\0`))
const terminate = () => message('X', Buffer.alloc(0))
const pipeline = (statements: string[]) => Buffer.concat(statements.map(simpleQuery))

/** A backend message: its type letter and body. */
interface Message {
  type: string
  body: Buffer
}

/** A raw session through the relay: every backend message it received, parsed, in order. */
class RawSession {
  readonly messages: Message[] = []
  #tail: Buffer = Buffer.alloc(0)
  readonly opened: Opened
  constructor(opened: Opened) {
    this.opened = opened
    opened.ws.on('message', (data: Buffer) => this.#push(data))
  }

  #push(data: Buffer) {
    this.#tail = this.#tail.length ? Buffer.concat([this.#tail, data]) : data
    let offset = 0
    while (this.#tail.length - offset >= 5) {
      const length = this.#tail.readInt32BE(offset + 1)
      if (length < 4) throw new Error(`expected a message length ≥ 4, found ${length}`)
      if (this.#tail.length - offset < length + 1) break
      this.messages.push({
        type: String.fromCharCode(this.#tail[offset]!),
        body: Buffer.from(this.#tail.subarray(offset + 5, offset + 1 + length)),
      })
      offset += length + 1
    }
    this.#tail = this.#tail.subarray(offset)
  }

  count(type: string): number {
    return this.messages.filter((m) => m.type === type).length
  }

  /** The single-column text values of every DataRow, in order. */
  values(): string[] {
    return this.messages
      .filter((m) => m.type === 'D')
      .map(({ body }) => body.subarray(6, 6 + body.readInt32BE(2)).toString())
  }

  /** The SQLSTATE of each ErrorResponse. */
  errorCodes(): string[] {
    return this.messages
      .filter((m) => m.type === 'E')
      .map(({ body }) => {
        const fields = body.toString().split('\0')
        return fields.find((f) => f.startsWith('C'))!.slice(1)
      })
  }

  backendKey(): Buffer {
    return this.messages.find((m) => m.type === 'K')!.body
  }
}

/** Opens a session as the trust role and waits for its login's ReadyForQuery. */
async function login(wsUrl: string, app: string): Promise<RawSession> {
  const session = new RawSession(await openWs(`${wsUrl}?address=${pgAddress}`))
  session.opened.ws.send(trustStartup(app))
  await expect.poll(() => session.count('Z'), { timeout: 10_000 }).toBe(1)
  return session
}

/** An upstream socket the dialer made: how often it was paused, and what to do at the next pause. */
interface Dialed {
  socket: Socket
  pauses: number
  onPause?: (() => void) | undefined
}

/**
 * A dialer that records each upstream socket and counts its pause() calls (pacing and backpressure both
 * pause the socket; with a client that reads at once and a roomy high-water mark, only pacing does).
 * `onPause` runs once, on the next turn of the event loop after a pause: well within a 100 ms pause.
 */
function countingDialer(dialed: Dialed[]) {
  return async (...args: Parameters<typeof tcpDialer>): Promise<Socket> => {
    const socket = await tcpDialer(...args)
    const entry: Dialed = { socket, pauses: 0 }
    const pause = socket.pause.bind(socket)
    socket.pause = () => {
      entry.pauses++
      const run = entry.onPause
      entry.onPause = undefined
      if (run) setImmediate(run)
      return pause()
    }
    dialed.push(entry)
    return socket
  }
}

/**
 * Sends bursts of short queries until the upstream is paced once (whether 32 reads in a row come within
 * 0.25 ms depends on the machine's load, so one burst may not do it). The burst that paced is answered in
 * full before this returns.
 */
async function paceOnce(session: RawSession, entry: Dialed): Promise<void> {
  const before = entry.pauses
  for (let round = 0; round < 60 && entry.pauses === before; round++) {
    const answered = session.count('Z')
    session.opened.ws.send(pipeline(selects(0, 1000)))
    await expect.poll(() => session.count('Z'), { timeout: 20_000 }).toBe(answered + 1000)
  }
  expect(entry.pauses).toBeGreaterThan(before)
}

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => String(from + i))
const selects = (from: number, count: number) => range(from, count).map((n) => `select ${n}`)

describe('pipeline pacing, adversarially', () => {
  it('delivers every notification to a silent LISTEN client while another session commits them one by one', async () => {
    relay = await startTestRelay({ pipelinePacing: 100 })
    const listener = await login(relay.wsUrl, 'adv-pacing-listen')
    listener.opened.ws.send(simpleQuery('listen adv_pacing'))
    await expect.poll(() => listener.count('Z')).toBe(2)
    // Each statement of the pipeline is its own transaction: one notification, one flush, one short read.
    const notifier = await login(relay.wsUrl, 'adv-pacing-notify')
    const count = 600
    notifier.opened.ws.send(pipeline(range(0, count).map((n) => `select pg_notify('adv_pacing', '${n}')`)))
    await expect.poll(() => notifier.count('Z'), { timeout: 20_000 }).toBe(count + 1)
    // The listener has said nothing since LISTEN: every notification must still arrive, the last included.
    await expect.poll(() => listener.count('A'), { timeout: 20_000 }).toBe(count)
    const payloads = listener.messages
      .filter((m) => m.type === 'A')
      .map(({ body }) => body.subarray(4).toString().split('\0')[1])
    expect(payloads).toEqual(range(0, count))
  })

  it('sends the last answer of a paced pipeline even when it comes long after the others', async () => {
    relay = await startTestRelay({ pipelinePacing: 100 })
    const session = await login(relay.wsUrl, 'adv-pacing-late')
    session.opened.ws.send(pipeline([...selects(0, 400), 'select pg_sleep(0.3)', 'select 400']))
    await expect.poll(() => session.count('Z'), { timeout: 20_000 }).toBe(1 + 402)
    expect(session.values()).toEqual([...range(0, 400), '', '400'])
  })

  it('answers a simple-query pipeline of thousands of statements in order, paced or not', async () => {
    for (const pipelinePacing of [0, 1, 100]) {
      relay = await startTestRelay({ pipelinePacing })
      const session = await login(relay.wsUrl, `adv-pacing-thousands-${pipelinePacing}`)
      // 4000 Query messages in one WebSocket message, and one Query of 2000 statements.
      session.opened.ws.send(pipeline(selects(0, 4000)))
      session.opened.ws.send(simpleQuery(selects(4000, 2000).join(';')))
      await expect.poll(() => session.count('Z'), { timeout: 20_000 }).toBe(1 + 4001)
      expect(session.values()).toEqual(range(0, 6000))
      expect(session.count('E')).toBe(0)
      session.opened.ws.close()
      await session.opened.closed
      await relay.shutdown()
      relay = undefined
    }
  })

  it('never pauses the upstream with pipelinePacing 0 for a client that keeps up', async () => {
    const dialed: Dialed[] = []
    relay = await startTestRelay({ pipelinePacing: 0 }, undefined, { dial: countingDialer(dialed) })
    const session = await login(relay.wsUrl, 'adv-pacing-off')
    for (let round = 0; round < 3; round++) session.opened.ws.send(pipeline(selects(0, 2000)))
    await expect.poll(() => session.count('Z'), { timeout: 20_000 }).toBe(6001)
    expect(session.values()).toEqual([...range(0, 2000), ...range(0, 2000), ...range(0, 2000)])
    expect(dialed.map(({ pauses }) => pauses)).toEqual([0])
  })

  it('keeps a slow client bounded to the high-water mark and one read while a pipeline is paced', async () => {
    const highWaterMark = 64 * 1024
    relay = await startTestRelay({ highWaterMark, pipelinePacing: 1 })
    const session = await login(relay.wsUrl, 'adv-pacing-slow')
    const [relayed] = [...relay.sessions]
    const { ws } = session.opened
    // ~20 MB of short answers, more than the kernel's buffers hold, in messages under maxPayload (1 MiB).
    const count = 20_000
    for (let from = 0; from < count; from += 5000)
      ws.send(pipeline(range(from, 5000).map((n) => `select ${n}, repeat('p', 1000)`)))
    let most = 0
    const sample = setInterval(() => {
      most = Math.max(most, relayed!.bufferedToClient)
    }, 1)
    try {
      // Stalls long enough to fill the kernel's buffers and the relay's, then reads in short spurts.
      for (let round = 0; round < 4; round++) {
        ws.pause()
        // Until the relay's buffer fills (the first stall, at least, outlasts the kernel's buffers).
        const isFull = () => relayed!.bufferedToClient > highWaterMark / 2 || session.count('Z') > count
        for (let wait = 0; wait < 100 && !isFull(); wait++) await sleep(20)
        await sleep(50)
        ws.resume()
        await sleep(20)
      }
      ws.resume()
      await expect.poll(() => session.count('Z'), { timeout: 20_000 }).toBe(count + 1)
    } finally {
      clearInterval(sample)
    }
    expect(most).toBeGreaterThan(highWaterMark / 2)
    // The mark, one read (64 KB), and the headers of the frames buffered (bufferedAmount counts them).
    expect(most).toBeLessThanOrEqual(highWaterMark + 64 * 1024 + 1024)
    expect(session.count('D')).toBe(count)
    expect(session.values().slice(0, 3)).toEqual(['0', '1', '2'])
  })

  it('cancels a query behind a paced pipeline, the cancel’s error arriving through the paced socket', async () => {
    const dialed: Dialed[] = []
    relay = await startTestRelay({ pipelinePacing: 100 }, undefined, { dial: countingDialer(dialed) })
    const session = await login(relay.wsUrl, 'adv-pacing-cancel')
    await paceOnce(session, dialed[0]!)
    const answered = session.count('Z')
    session.opened.ws.send(pipeline([...selects(0, 1000), 'select pg_sleep(60)', 'select 1']))
    // Once the sleep runs (every select before it answered, the last of them paced): a cancel that lands
    // earlier would cancel nothing.
    const sleeping = () =>
      admin(
        `select 1 from pg_stat_activity where application_name = 'adv-pacing-cancel' and query like 'select pg_sleep%'`,
      ).then((rows) => rows.length)
    await expect.poll(sleeping, { timeout: 10_000 }).toBe(1)
    const cancel = await openWs(`${relay.wsUrl}?address=${pgAddress}`)
    const request = Buffer.alloc(16)
    request.writeInt32BE(16, 0)
    request.writeInt32BE(80877102, 4)
    session.backendKey().copy(request, 8)
    cancel.ws.send(request)
    await cancel.closed
    await expect.poll(() => session.count('Z'), { timeout: 20_000 }).toBe(answered + 1002)
    expect(session.errorCodes()).toEqual(['57014'])
    expect(session.values().slice(-1001)).toEqual([...range(0, 1000), '1'])
  })

  it('ends a session whose client sends Terminate during a pause, and no other', async () => {
    const dialed: Dialed[] = []
    relay = await startTestRelay({ pipelinePacing: 100 }, undefined, { dial: countingDialer(dialed) })
    const other = await login(relay.wsUrl, 'adv-pacing-bystander')
    const session = await login(relay.wsUrl, 'adv-pacing-terminate')
    await paceOnce(session, dialed[1]!)
    dialed[1]!.onPause = () => session.opened.ws.send(terminate())
    // Bursts until the next pause sends Terminate: the session then ends however many bursts it took.
    for (let round = 0; round < 60 && session.opened.ws.readyState === session.opened.ws.OPEN; round++) {
      session.opened.ws.send(pipeline(selects(0, 1000)))
      await Promise.race([session.opened.closed, sleep(300)])
    }
    expect((await session.opened.closed).code).toBe(1000)
    await expect.poll(() => backends('adv-pacing-terminate'), { timeout: 10_000 }).toBe(0)
    await expect.poll(() => relay!.sessions.size).toBe(1)
    other.opened.ws.send(pipeline(selects(0, 500)))
    await expect.poll(() => other.count('Z'), { timeout: 20_000 }).toBe(501)
    expect(other.values()).toEqual(range(0, 500))
  })

  it('ends sessions whose client vanishes or whose backend is terminated during a pause, and no other', async () => {
    const dialed: Dialed[] = []
    relay = await startTestRelay({ pipelinePacing: 100 }, undefined, { dial: countingDialer(dialed) })
    const other = await login(relay.wsUrl, 'adv-pacing-bystander2')
    const vanishing = await login(relay.wsUrl, 'adv-pacing-vanish')
    const killed = await login(relay.wsUrl, 'adv-pacing-killed')
    await paceOnce(vanishing, dialed[1]!)
    await paceOnce(killed, dialed[2]!)
    let isKilled = false
    dialed[1]!.onPause = () => vanishing.opened.ws.terminate()
    dialed[2]!.onPause = () => {
      isKilled = true
      void admin(
        `select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'adv-pacing-killed'`,
      )
    }
    for (let round = 0; round < 60; round++) {
      if (vanishing.opened.ws.readyState === vanishing.opened.ws.OPEN)
        vanishing.opened.ws.send(pipeline(selects(0, 1000)))
      if (!isKilled) killed.opened.ws.send(pipeline(selects(0, 1000)))
      if (isKilled && vanishing.opened.ws.readyState !== vanishing.opened.ws.OPEN) break
      await sleep(300)
    }
    await vanishing.opened.closed
    // A backend that dies with queries unread resets its socket: the relay may see the reset (1011) before
    // the FATAL error, which is then lost; otherwise the error, then the end (1000).
    expect([1000, 1011]).toContain((await killed.opened.closed).code)
    expect(['', '57P01']).toContain(killed.errorCodes().join())
    await expect.poll(() => backends('adv-pacing-vanish'), { timeout: 10_000 }).toBe(0)
    await expect.poll(() => relay!.sessions.size).toBe(1)
    expect(relay.readBlocks.lent).toBe(0)
    other.opened.ws.send(pipeline(selects(0, 500)))
    await expect.poll(() => other.count('Z'), { timeout: 20_000 }).toBe(501)
    expect(other.values()).toEqual(range(0, 500))
  })

  it('paces a custom dialer’s socket (no pooled reads) and still delivers every answer', async () => {
    relay = await startTestRelay({ pipelinePacing: 100 }, undefined, { dial: tcpDialerIgnoringOptions })
    const session = await login(relay.wsUrl, 'adv-pacing-custom-dialer')
    session.opened.ws.send(pipeline([...selects(0, 1000), 'select pg_sleep(0.2)', 'select 1000']))
    await expect.poll(() => session.count('Z'), { timeout: 20_000 }).toBe(1 + 1002)
    expect(session.values()).toEqual([...range(0, 1000), '', '1000'])
  })

  it('shuts down with sessions in a pause and blocks lent, closing every one', async () => {
    const dialed: Dialed[] = []
    relay = await startTestRelay({ pipelinePacing: 100, highWaterMark: 64 * 1024 }, undefined, {
      dial: countingDialer(dialed),
    })
    const paced = await login(relay.wsUrl, 'adv-pacing-shutdown')
    const bulk = await login(relay.wsUrl, 'adv-pacing-shutdown-bulk')
    await paceOnce(paced, dialed[0]!)
    // A slow reader of a bulk result: it reads 1 ms in 4, so the relay's buffer toward it stays full of
    // lent blocks, yet it still reads the closing frame.
    const slow = setInterval(() => {
      bulk.opened.ws.pause()
      setTimeout(() => bulk.opened.ws.resume(), 3)
    }, 4)
    try {
      bulk.opened.ws.send(simpleQuery(`select repeat('b', 30000) from generate_series(1, 20000)`))
      await expect.poll(() => relay!.readBlocks.lent, { timeout: 10_000 }).toBeGreaterThan(0)
      let shutdown: Promise<void> | undefined
      dialed[0]!.onPause = () => {
        shutdown ??= relay!.shutdown()
      }
      for (let round = 0; round < 30 && !shutdown; round++) {
        paced.opened.ws.send(pipeline(selects(0, 1000)))
        await sleep(200)
      }
      // Inside a pause when one came soon enough (the machine's load decides); at the end regardless.
      shutdown ??= relay.shutdown()
      await shutdown
    } finally {
      clearInterval(slow)
    }
    bulk.opened.ws.resume()
    expect((await paced.opened.closed).code).toBe(1001)
    expect((await bulk.opened.closed).code).toBe(1001)
    expect(relay.sessions.size).toBe(0)
    await expect.poll(() => relay!.readBlocks.lent, { timeout: 10_000 }).toBe(0)
  })
})
