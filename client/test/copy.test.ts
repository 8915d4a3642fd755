import { isDatabaseError, isPgError } from '@edgepg/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { admin, type Opened, open, transportKind } from './helpers.ts'

const table = `copy_${transportKind}`
let db: Opened

beforeAll(async () => {
  db = await open()
  await db.client.batchExecute(`drop table if exists ${table}; create table ${table} (id int, name text)`)
})
afterAll(async () => {
  await db.client.batchExecute(`drop table if exists ${table}`)
  await db.client.end()
})

const reset = () => db.client.query(`truncate ${table}`)
const count = async () =>
  (await db.client.queryOne<{ n: number }>(`select count(*)::int as n from ${table}`)).n
const text = async (stream: ReadableStream<Uint8Array>) => new Response(stream).text()

describe('copyIn', () => {
  it('copies rows from an array of strings and resolves with the row count', async () => {
    await reset()
    const rows = await db.client.copyIn(`copy ${table} (id, name) from stdin`, ['1\tapple\n2\tpe', 'ar\n'])
    expect(rows).toBe(2)
    expect((await db.client.query(`select * from ${table} order by id`)).rows).toEqual([
      { id: 1, name: 'apple' },
      { id: 2, name: 'pear' },
    ])
  })

  it('streams 100,000 rows from a ReadableStream of bytes', async () => {
    await reset()
    const encoder = new TextEncoder()
    let next = 0
    const source = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (next >= 100_000) return controller.close()
        let chunk = ''
        for (let i = 0; i < 1000; i++, next++) chunk += `${next}\tname ${next}\n`
        controller.enqueue(encoder.encode(chunk))
      },
    })
    expect(await db.client.copyIn(`copy ${table} from stdin`, source)).toBe(100_000)
    const { n, s } = await db.client.queryOne<{ n: number; s: string }>(
      `select count(*)::int as n, sum(id)::text as s from ${table}`,
    )
    expect(n).toBe(100_000)
    expect(s).toBe(String((99_999 * 100_000) / 2))
  })

  it('a source that throws aborts the COPY with CopyFail: nothing copied, the connection usable', async () => {
    await reset()
    async function* failing() {
      yield '1\tone\n'
      yield '2\ttwo\n'
      throw new Error('disk on fire')
    }
    const error = await db.client.copyIn(`copy ${table} from stdin`, failing()).catch((e: unknown) => e)
    expect(isPgError(error, 'usage')).toBe(true)
    expect((error as Error).cause).toBeInstanceOf(Error)
    expect(((error as Error).cause as Error).message).toBe('disk on fire')
    expect(await count()).toBe(0)
  })

  it('a bad row rejects with the server error (22P02) and the connection stays usable', async () => {
    await reset()
    const error = await db.client
      .copyIn(`copy ${table} from stdin`, ['1\tok\n', 'not-a-number\tbad\n', '3\tok\n'])
      .catch((e: unknown) => e)
    expect(isDatabaseError(error, '22P02')).toBe(true)
    expect((error as Error).message).toMatch(/invalid input syntax for type integer/)
    expect(await count()).toBe(0)
  })

  it('requests made during the COPY are held and answered after it, in order', async () => {
    await reset()
    let release!: () => void
    const gate = new Promise<void>((r) => {
      release = r
    })
    async function* slow() {
      yield '1\ta\n'
      await gate
      yield '2\tb\n'
    }
    const copying = db.client.copyIn(`copy ${table} from stdin`, slow())
    const during = db.client.queryOne<{ n: number }>('select 41 + 1 as n')
    const counted = count()
    await new Promise((r) => setTimeout(r, 50))
    release()
    expect(await copying).toBe(2)
    expect((await during).n).toBe(42)
    expect(await counted).toBe(2)
  })

  it('refuses a statement that is not COPY FROM STDIN, and stays usable', async () => {
    await expect(db.client.copyIn('select 1', ['x'])).rejects.toThrow(
      /copyIn expects COPY … FROM STDIN, but the server answered RowDescription/,
    )
    await expect(db.client.copyIn(`copy ${table} to stdout`, [])).rejects.toThrow(/CopyOutResponse/)
    expect((await db.client.queryOne<{ n: number }>('select 1 as n')).n).toBe(1)
  })

  it('copies inside a transaction and is rolled back with it', async () => {
    await reset()
    await expect(
      db.client.transaction(async (tx) => {
        expect(await tx.copyIn(`copy ${table} from stdin`, ['1\tx\n'])).toBe(1)
        expect(await count()).toBe(1)
        throw new Error('undo')
      }),
    ).rejects.toThrow('undo')
    expect(await count()).toBe(0)
  })

  it('refuses a source that is not a stream or iterable, and chunks of the wrong type', async () => {
    await reset()
    await expect(db.client.copyIn(`copy ${table} from stdin`, 42 as never)).rejects.toThrow(
      /copyIn source must be a ReadableStream or an \(async\) iterable/,
    )
    await expect(db.client.copyIn(`copy ${table} from stdin`, [7 as never])).rejects.toThrow(
      /copyIn source yielded number: expected Uint8Array or string chunks/,
    )
    expect(await count()).toBe(0)
  })
})

describe('copyOut', () => {
  it('streams the rows of COPY TO STDOUT', async () => {
    await reset()
    await db.client.query(`insert into ${table} values (1, 'a'), (2, null)`)
    const stream = await db.client.copyOut(`copy (select * from ${table} order by id) to stdout (format csv)`)
    expect(await text(stream)).toBe('1,a\n2,\n')
  })

  it('delivers every byte of a large COPY to a slow consumer', async () => {
    const stream = await db.client.copyOut(
      `copy (select i, repeat('x', 100) from generate_series(1, 50000) i) to stdout`,
    )
    const reader = stream.getReader()
    let bytes = 0
    let lines = 0
    let reads = 0
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      bytes += value.length
      for (const byte of value) if (byte === 10) lines++
      if (++reads % 50 === 0) await new Promise((r) => setTimeout(r, 5))
    }
    expect(lines).toBe(50_000)
    let expected = 0
    for (let i = 1; i <= 50_000; i++) expected += String(i).length + 1 + 100 + 1
    expect(bytes).toBe(expected)
  })

  it('rejects with the server error when the COPY cannot start, and stays usable', async () => {
    const error = await db.client.copyOut('copy no_such_table to stdout').catch((e: unknown) => e)
    expect(isDatabaseError(error, '42P01')).toBe(true)
    expect((await db.client.queryOne<{ n: number }>('select 1 as n')).n).toBe(1)
  })

  it('cancelling the stream discards the rest and leaves the connection in sync', async () => {
    const stream = await db.client.copyOut(`copy (select i from generate_series(1, 200000) i) to stdout`)
    const reader = stream.getReader()
    await reader.read()
    await reader.cancel()
    expect((await db.client.queryOne<{ n: number }>('select 7 as n')).n).toBe(7)
  })

  it('refuses a statement that is not COPY TO STDOUT, and stays usable', async () => {
    await expect(db.client.copyOut('select 1')).rejects.toThrow(/copyOut expects COPY … TO STDOUT/)
    await expect(db.client.copyOut(`copy ${table} from stdin`)).rejects.toThrow(
      /copyOut expects COPY … TO STDOUT, but the server answered CopyInResponse/,
    )
    expect((await db.client.queryOne<{ n: number }>('select 1 as n')).n).toBe(1)
  })

  it('round-trips binary COPY: out of one table, into another, byte for byte', async () => {
    await reset()
    await db.client.query(`insert into ${table} select i, md5(i::text) from generate_series(1, 1000) i`)
    await db.client.batchExecute(`drop table if exists ${table}_b; create table ${table}_b (like ${table})`)
    // Piped between two connections, as a table copy between databases would be.
    const target = await open()
    const out = await db.client.copyOut(`copy ${table} to stdout (format binary)`)
    expect(await target.client.copyIn(`copy ${table}_b from stdin (format binary)`, out)).toBe(1000)
    await target.client.end()
    const [diff] = await admin<{ n: number }>(
      `select count(*)::int as n from (select * from ${table} except select * from ${table}_b) d`,
    )
    expect(diff!.n).toBe(0)
    await db.client.query(`drop table ${table}_b`)
  })
})
