import { isDatabaseError } from '@edgepg/client'
import { describe, expect, it } from 'vitest'
import { admin, open } from './helpers.ts'

describe('queryRaw streaming', () => {
  it('streams 100,000 rows in batches, in order', async () => {
    const { client } = await open()
    let count = 0
    let sum = 0
    for await (const row of client.queryRaw<{ n: number }>('select n from generate_series(1, 100000) n', [], {
      batchSize: 5000,
    })) {
      count++
      sum += row.n
      if (row.n !== count) throw new Error(`row ${count} arrived as ${row.n}`)
    }
    expect(count).toBe(100_000)
    expect(sum).toBe((100_000 * 100_001) / 2)
    await client.end()
  })

  it('keeps only one batch in flight: the server waits while the consumer lags', async () => {
    const { client, connection } = await open()
    const iterator = client.queryRaw<{ n: number }>(
      `select n, repeat('x', 1000) as pad from generate_series(1, 200000) n`,
      [],
      {
        batchSize: 100,
      },
    )
    expect((await iterator.next()).value.n).toBe(1)
    await new Promise((r) => setTimeout(r, 300))
    const [row] = await admin<{ wait_event: string }>(
      `select wait_event from pg_stat_activity where pid = $1`,
      [connection.processId],
    )
    // Between batches the backend waits to read our next Execute; it is not pushing the rest of the result.
    expect(row?.wait_event).toBe('ClientRead')
    await iterator.return?.()
    await client.end()
  })

  it('closes the portal when the loop breaks early, and the connection stays usable', async () => {
    const { client } = await open()
    const seen: number[] = []
    for await (const row of client.queryRaw<{ n: number }>(
      'select n from generate_series(1, 1000000) n',
      [],
      {
        batchSize: 10,
      },
    )) {
      seen.push(row.n)
      if (seen.length === 25) break
    }
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => i + 1))
    expect(client.transactionStatus).toBe('idle')
    expect((await client.queryOne<{ n: number }>('select 42 as n')).n).toBe(42)
    await client.end()
  })

  it('holds requests made while the stream is open and runs them after it', async () => {
    const { client } = await open()
    const iterator = client.queryRaw<{ n: number }>('select n from generate_series(1, 30) n', [], {
      batchSize: 10,
    })
    const first = await iterator.next()
    const meanwhile = client.queryOne<{ n: number }>('select 99 as n')
    const rest: number[] = []
    for await (const row of iterator) rest.push(row.n)
    expect(first.value.n).toBe(1)
    expect(rest).toEqual(Array.from({ length: 29 }, (_, i) => i + 2))
    expect((await meanwhile).n).toBe(99)
    await client.end()
  })

  it('throws the database error raised mid-stream and leaves the connection usable', async () => {
    const { client } = await open()
    const seen: number[] = []
    const error = await (async () => {
      for await (const row of client.queryRaw<{ r: number }>(
        'select 10 / (5000 - n) as r from generate_series(1, 10000) n',
        [],
        {
          batchSize: 1000,
        },
      )) {
        seen.push(row.r)
      }
    })().catch((e) => e)
    expect(isDatabaseError(error, '22012')).toBe(true)
    expect(seen.length).toBeGreaterThan(0)
    expect((await client.queryOne<{ n: number }>('select 1 as n')).n).toBe(1)
    await client.end()
  })

  it('refuses a batchSize the protocol cannot carry (Execute takes a 32-bit row count), and takes the largest', async () => {
    const { client } = await open()
    for (const batchSize of [2 ** 31, 2 ** 32 + 3]) {
      const rows = client.queryRaw('select 1 as n', [], { batchSize })
      await expect(rows.next()).rejects.toThrow(
        `batchSize must be a positive integer up to 2147483647, found ${batchSize}`,
      )
    }
    const all = []
    for await (const row of client.queryRaw<{ n: number }>('select generate_series(1, 3) as n', [], {
      batchSize: 2 ** 31 - 1,
    }))
      all.push(row.n)
    expect(all).toEqual([1, 2, 3])
    await client.end()
  })

  it('decodes with the types it is given, and refuses them on a prepared statement', async () => {
    const { client } = await open()
    const options = { types: { raw: true }, batchSize: 10 }
    const rows: unknown[] = []
    for await (const row of client.queryRaw('select 5::int8 as l, true as b', [], options))
      rows.push({ ...(row as object) })
    expect(rows).toEqual([{ l: '5', b: 't' }])
    const statement = await client.prepare('select 1 as n')
    await expect(client.queryRaw(statement, [], options).next()).rejects.toThrow(
      /types is not an option of a query on a prepared statement/,
    )
    const plain: unknown[] = []
    for await (const row of client.queryRaw('select 5::int8 as l')) plain.push({ ...(row as object) })
    expect(plain).toEqual([{ l: 5n }])
    await client.end()
  })

  it('streams a prepared statement with binary results', async () => {
    const { client } = await open()
    const statement = await client.prepare('select n::int8 as n from generate_series(1, $1::int) n')
    const values: bigint[] = []
    for await (const row of client.queryRaw<{ n: bigint }>(statement, [5], { batchSize: 2 }))
      values.push(row.n)
    expect(values).toEqual([1n, 2n, 3n, 4n, 5n])
    await client.end()
  })
})
