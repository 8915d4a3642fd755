// The relay's pooled upstream reads (proxy/src/upstream-reads.ts): every byte PostgreSQL sends reaches its
// client unchanged, in order, whatever the read sizes, however slowly or fast each client reads, while
// sessions share one read buffer and reuse blocks; every lent block comes back, also from sessions that end
// mid-transfer.
import { createHash } from 'node:crypto'
import { connect, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import {
  openWs,
  pg,
  pgAddress,
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

/** The backend message types the answer to a simple query of rows is made of. */
const ANSWER_TYPES = new Set([0x54, 0x44, 0x43, 0x5a]) // T D C Z

function simpleQuery(sql: string): Buffer {
  const text = Buffer.from(`${sql}\0`)
  const head = Buffer.alloc(5)
  head[0] = 0x51 // Q
  head.writeInt32BE(text.length + 4, 1)
  return Buffer.concat([head, text])
}

/**
 * A deterministic result with rows from a few bytes to ~22 KB, so that reads land on both sides of the
 * pooled threshold (16 KB) and across block boundaries. `seed` makes each session's answer its own.
 */
const resultSql = (seed: number, rows: number) =>
  `select i, repeat(md5((i + ${seed})::text), ((i * 7919 + ${seed}) % 700)) from generate_series(1, ${rows}) i`

/**
 * Reads a byte stream message by message: `onLogin` once the login's ReadyForQuery has arrived, then every
 * byte after it goes to the digest until the query's ReadyForQuery.
 */
class AnswerReader {
  #tail: Buffer = Buffer.alloc(0)
  #isLoggedIn = false
  readonly digest = createHash('sha256')
  bytes = 0
  readonly onLogin: () => void
  readonly onDone: () => void
  constructor(onLogin: () => void, onDone: () => void) {
    this.onLogin = onLogin
    this.onDone = onDone
  }

  push(data: Buffer) {
    this.#tail = this.#tail.length ? Buffer.concat([this.#tail, data]) : data
    let offset = 0
    while (this.#tail.length - offset >= 5) {
      const length = this.#tail.readInt32BE(offset + 1)
      if (this.#tail.length - offset < length + 1) break
      const message = this.#tail.subarray(offset, offset + length + 1)
      offset += length + 1
      if (!this.#isLoggedIn) {
        if (message[0] === 0x5a) {
          this.#isLoggedIn = true
          this.onLogin()
        }
        continue
      }
      // A relayed byte out of place shows as a message no answer has: fail at once, not by a timeout.
      if (!ANSWER_TYPES.has(message[0]!) || length < 4) {
        throw new Error(
          `expected T, D, C or Z with a length ≥ 4; found 0x${message[0]!.toString(16)}, ${length}`,
        )
      }
      this.digest.update(message)
      this.bytes += message.length
      if (message[0] === 0x5a) this.onDone()
    }
    this.#tail = this.#tail.subarray(offset)
  }
}

/** The answer to `sql` straight from PostgreSQL over TCP: the reference. */
function directAnswer(sql: string): Promise<{ digest: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ host: pg.host, port: pg.port })
    const reader = new AnswerReader(
      () => socket.write(simpleQuery(sql)),
      () => {
        socket.destroy()
        resolve({ digest: reader.digest.digest('hex'), bytes: reader.bytes })
      },
    )
    socket.on('connect', () => socket.write(trustStartup('edgepg-pooled-reads-reference')))
    socket.on('data', (data) => reader.push(data))
    socket.on('error', reject)
  })
}

/** A small seeded random (mulberry32), so that a failing schedule can be replayed. */
function random(seed: number) {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * The answer to `sql` through the relay. A slow client pauses its socket for a few milliseconds after
 * random messages (so the relay's buffer toward it fills and PostgreSQL is paused); `stopAfter` ends the
 * session abruptly once that many bytes have arrived.
 */
async function relayedAnswer(
  wsUrl: string,
  sql: string,
  options: { slow?: () => number; stopAfter?: number } = {},
): Promise<{ digest: string; bytes: number }> {
  const { ws, closed } = await openWs(`${wsUrl}?address=${pgAddress}`)
  return new Promise((resolve, reject) => {
    const reader = new AnswerReader(
      () => ws.send(simpleQuery(sql)),
      () => {
        ws.close()
        resolve({ digest: reader.digest.digest('hex'), bytes: reader.bytes })
      },
    )
    ws.on('message', (data: Buffer) => {
      try {
        reader.push(data)
      } catch (error) {
        ws.terminate()
        reject(error)
        return
      }
      if (options.stopAfter !== undefined && reader.bytes >= options.stopAfter) {
        ws.terminate()
        resolve({ digest: '', bytes: reader.bytes })
        return
      }
      const pause = options.slow?.()
      if (pause) {
        ws.pause()
        setTimeout(() => ws.resume(), pause)
      }
    })
    void closed.then(({ code }) => reject(new Error(`relay closed the session early (${code})`)))
    ws.send(trustStartup('edgepg-pooled-reads'))
  })
}

describe('pooled upstream reads', () => {
  it('relays every byte unchanged to fast and slow clients at once, and gets every block back', async () => {
    // A small high-water mark: the relay pauses PostgreSQL often, so lent blocks wait in the send buffer.
    relay = await startTestRelay({ highWaterMark: 64 * 1024 })
    const sessions = Array.from({ length: 8 }, (_, seed) => ({
      seed,
      sql: resultSql(seed, 2500 + seed * 300),
    }))
    const expected = await Promise.all(sessions.map(({ sql }) => directAnswer(sql)))
    const wsUrl = relay.wsUrl
    const got = await Promise.all(
      sessions.map(({ seed, sql }) => {
        const next = random(seed + 1)
        // Even sessions read as fast as they can; odd ones pause up to 8 ms after one message in four.
        const slow = seed % 2 ? () => (next() < 0.25 ? 1 + Math.floor(next() * 8) : 0) : undefined
        return relayedAnswer(wsUrl, sql, slow ? { slow } : {})
      }),
    )
    expect(got).toEqual(expected)
    // Each answer is several MB; the pooled path must have carried them (long reads went through blocks),
    // reusing a few blocks rather than one per read.
    const total = expected.reduce((sum, { bytes }) => sum + bytes, 0)
    expect(total).toBeGreaterThan(30 * 1024 * 1024)
    expect(relay.readBlocks.made).toBeGreaterThan(0)
    expect(relay.readBlocks.made).toBeLessThan(total / (64 * 1024) / 4)
    await expect.poll(() => relay!.readBlocks.lent).toBe(0)
  })

  it('gets every lent block back from clients that vanish mid-transfer, and relays the next answer intact', async () => {
    relay = await startTestRelay({ highWaterMark: 64 * 1024 })
    const sql = resultSql(99, 3000)
    const expected = await directAnswer(sql)
    for (let round = 0; round < 4; round++) {
      await Promise.all(
        [1, 2, 3].map((n) =>
          relayedAnswer(relay!.wsUrl, sql, { stopAfter: n * 300_000 + round * 77_777, slow: () => n % 2 }),
        ),
      )
    }
    await expect.poll(() => relay!.sessions.size, { timeout: 10_000 }).toBe(0)
    await expect.poll(() => relay!.readBlocks.lent, { timeout: 10_000 }).toBe(0)
    expect(await relayedAnswer(relay.wsUrl, sql)).toEqual(expected)
  })

  it('still relays through a custom dialer that does not pass the pooled reads on', async () => {
    relay = await startTestRelay({}, undefined, { dial: tcpDialerIgnoringOptions })
    const sql = resultSql(7, 2000)
    const [expected, got] = await Promise.all([directAnswer(sql), relayedAnswer(relay.wsUrl, sql)])
    expect(got).toEqual(expected)
    expect(relay.readBlocks.made).toBe(0)
  })
})
