// The relay's pooled upstream reads (proxy/src/upstream-reads.ts): every byte PostgreSQL sends reaches its
// client unchanged, in order, whatever the read sizes, however slowly or fast each client reads, while
// sessions share one read buffer and reuse blocks; every lent block comes back, also from sessions that end
// mid-transfer.
import { afterEach, describe, expect, it } from 'vitest'
import { AnswerReader, directAnswer, random, rowsSql } from './answers.ts'
import {
  openWs,
  pgAddress,
  simpleQuery,
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
      1,
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
      sql: rowsSql(seed, 2500 + seed * 300),
    }))
    const expected = await Promise.all(sessions.map(({ sql }) => directAnswer(simpleQuery(sql))))
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
    const sql = rowsSql(99, 3000)
    const expected = await directAnswer(simpleQuery(sql))
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
    const sql = rowsSql(7, 2000)
    const [expected, got] = await Promise.all([
      directAnswer(simpleQuery(sql)),
      relayedAnswer(relay.wsUrl, sql),
    ])
    expect(got).toEqual(expected)
    expect(relay.readBlocks.made).toBe(0)
  })
})
