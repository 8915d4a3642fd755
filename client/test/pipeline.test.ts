// Attack cases D4a and D4c: pipelining keeps every answer on its own promise.
import { isDatabaseError, isPgError, type Transport } from '@edgepg/client'
import { describe, expect, it } from 'vitest'
import { open, transport } from './helpers.ts'

describe('pipelining', () => {
  it('D4a: 1,000 pipelined queries mixing rows, errors and row counts each receive their own answer', async () => {
    const { client, done } = await open()
    await client.batchExecute('create temp table d4a (n int)')
    const kinds = ['row', 'error', 'count'] as const
    const settled = await Promise.allSettled(
      Array.from({ length: 1000 }, (_, i) => {
        const kind = kinds[i % 3]!
        if (kind === 'row') return client.queryOne<{ i: number }>('select $1::int as i', [i]).then((r) => r.i)
        if (kind === 'error') return client.query('select $1::int / 0', [i])
        return client.execute('insert into d4a select generate_series(1, $1::int)', [(i % 7) + 1])
      }),
    )
    settled.forEach((outcome, i) => {
      const kind = kinds[i % 3]
      if (kind === 'row') expect(outcome).toEqual({ status: 'fulfilled', value: i })
      if (kind === 'error') {
        expect(outcome.status).toBe('rejected')
        expect(isDatabaseError((outcome as PromiseRejectedResult).reason, '22012')).toBe(true)
      }
      if (kind === 'count') expect(outcome).toEqual({ status: 'fulfilled', value: (i % 7) + 1 })
    })
    const expected = Array.from({ length: 1000 }, (_, i) => (i % 3 === 2 ? (i % 7) + 1 : 0)).reduce(
      (a, b) => a + b,
    )
    expect((await client.queryOne<{ n: bigint }>('select count(*) as n from d4a')).n).toBe(BigInt(expected))
    await client.end()
    await done
  })

  it('sends queries queued in the same tick in one write', async () => {
    const writes: number[] = []
    const inner = transport()
    const counting: Transport = async (target) => {
      const stream = await inner(target)
      const write = stream.write.bind(stream)
      stream.write = (bytes: Uint8Array) => {
        writes.push(bytes.length)
        write(bytes)
      }
      return stream
    }
    const { client } = await open({ transport: counting })
    writes.length = 0
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => client.queryOne('select $1::int as i', [i])),
    )
    expect(results.map((r) => r.i)).toEqual(Array.from({ length: 50 }, (_, i) => i))
    expect(writes.length).toBe(1)
    await client.end()
  })

  it('D4c: end() during a pipeline lets in-flight queries resolve, then closes the socket', async () => {
    const { client, connection, done } = await open()
    const inflight = Array.from({ length: 100 }, (_, i) =>
      client.queryOne<{ i: number }>('select $1::int as i, pg_sleep(0.001)', [i]),
    )
    const ended = client.end()
    const late = client.query('select 1').catch((e) => e)
    const rows = await Promise.all(inflight)
    expect(rows.map((r) => r.i)).toEqual(Array.from({ length: 100 }, (_, i) => i))
    await ended
    await expect(done).resolves.toBeUndefined()
    expect(connection.state).toBe('closed')
    expect(isPgError(await late, 'closed')).toBe(true)
    expect((await late).message).toBe('client is closed')
  })
})
