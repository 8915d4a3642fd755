// The HTTP entry's request bodies: parameters as the wire path encodes them, and batches (transaction) with
// their Neon-Batch-* headers, plus the query helpers built on query. A fake fetch stands in for the relay.
import { describe, expect, it } from 'vitest'
import { isPgError, type PgError } from '../errors.ts'
import { encodeParam } from '../types/encode.ts'
import { answer, fakeFetch, field, ok, result } from './fake-fetch.fixture.ts'
import { http } from './index.ts'

const CONNECTION = 'postgres://alice:s3cret@db.internal:5432/app'
const URL = 'https://relay.test/sql'
const one = ok(result([field('n', 23)], [['1']]))

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (error: unknown) => error as PgError,
  )

describe('parameters', () => {
  /** The `params` a query with `values` sends. */
  async function sent(values: unknown[]): Promise<unknown[]> {
    const { fetch, calls } = fakeFetch(ok(result([], [], 'SELECT', 0)))
    await http(CONNECTION, { url: URL, fetch }).query('select', values)
    return (calls[0]!.body as { params: unknown[] }).params
  }

  it('are sent as the text the wire path sends, NULL as null', async () => {
    const date = new Date('2024-02-29T13:04:05.123Z')
    const bc = new Date(Date.UTC(-43, 2, 15, 12))
    const values = [
      'a "quoted" text',
      '',
      42,
      -0,
      1.5,
      Number.NaN,
      Number.NEGATIVE_INFINITY,
      2n ** 70n,
      true,
      false,
      null,
      undefined,
      date,
      bc,
      { months: 14, days: -3, microseconds: 1500 },
      { a: [1, 'b'], c: null },
      [1, null, 'a b', 'NULL', '"q"\\', ''],
      [
        [1, 2],
        [3, 4],
      ],
      [{ a: 1 }, date],
    ]
    expect(await sent(values)).toEqual([
      'a "quoted" text',
      '',
      '42',
      '-0',
      '1.5',
      'NaN',
      '-Infinity',
      '1180591620717411303424',
      't',
      'f',
      null,
      null,
      '2024-02-29T13:04:05.123Z',
      '0044-03-15T12:00:00.000Z BC',
      '14 mons -3 days 1500 microseconds',
      '{"a":[1,"b"],"c":null}',
      '{1,NULL,"a b","NULL","\\"q\\"\\\\",""}',
      '{{1,2},{3,4}}',
      '{"{\\"a\\":1}",2024-02-29T13:04:05.123Z}',
    ])
    // … which is encodeParam's text, value for value.
    expect(await sent(values)).toEqual(values.map(encodeParam))
  })

  it('send bytes, alone or in arrays, as bytea hex text', async () => {
    const bytes = Uint8Array.of(0x00, 0xca, 0xfe, 0xff)
    expect(
      await sent([
        bytes,
        new Uint8Array(0),
        bytes.buffer,
        new DataView(bytes.buffer, 1, 2),
        Uint16Array.of(0x0102),
        [bytes, null, new Uint8Array(0)],
        [[Uint8Array.of(1)], [Uint8Array.of(2)]],
      ]),
    ).toEqual([
      '\\x00cafeff',
      '\\x',
      '\\x00cafeff',
      '\\xcafe',
      '\\x0201',
      '{"\\\\x00cafeff",NULL,"\\\\x"}',
      '{{"\\\\x01"},{"\\\\x02"}}',
    ])
  })

  it('that cannot be encoded reject with the error the wire path gives, before any request', async () => {
    const { fetch, calls } = fakeFetch(one)
    const db = http(CONNECTION, { url: URL, fetch })
    const cyclic: unknown[] = []
    cyclic.push(cyclic)
    const cases: [unknown, string][] = [
      [() => 1, 'parameter $2 could not be encoded: cannot encode a function as a query parameter'],
      [Symbol('s'), 'parameter $2 could not be encoded: cannot encode a symbol as a query parameter'],
      [new Date(Number.NaN), 'parameter $2 could not be encoded: cannot encode an invalid Date'],
      [cyclic, 'parameter $2 could not be encoded: cannot encode an array that contains itself'],
      [{ n: 1n }, 'parameter $2 could not be encoded: cannot encode an object as json'],
    ]
    for (const [value, message] of cases) {
      const error = await failure(db.query('select $1, $2', [1, value]))
      expect(isPgError(error, 'encode')).toBe(true)
      expect(error.message.startsWith(message), error.message).toBe(true)
    }
    expect(calls).toHaveLength(0)
  })

  it('and the text must be what the wire path accepts', async () => {
    const { fetch, calls } = fakeFetch(one)
    const db = http(CONNECTION, { url: URL, fetch })
    const cases: [() => Promise<unknown>, string][] = [
      [() => db.query(42 as never), 'query text must be a string, found number'],
      [() => db.query('select', 'x' as never), 'query parameters must be an array, found string'],
      [
        () => db.query('select', [], { rowMode: 'rows' as never }),
        "rowMode must be 'object' or 'array', found rows",
      ],
      [
        () => db.query('select', [], { timeout: 0 }),
        'timeout must be a positive number of milliseconds up to 2147483647, found 0',
      ],
      [() => db.query('select', [], { signal: {} as never }), 'signal must be an AbortSignal, found object'],
    ]
    for (const [run, message] of cases) {
      const error = await failure(run())
      expect(isPgError(error, 'usage')).toBe(true)
      expect(error.message).toBe(message)
    }
    expect(calls).toHaveLength(0)
  })
})

describe('transaction', () => {
  const two = ok({ results: [result([], [], 'INSERT', 1), result([field('n', 23)], [['1']])] })

  it('posts every statement in one request and resolves with one result per statement', async () => {
    const { fetch, calls } = fakeFetch(two)
    const [inserted, listed] = await http(CONNECTION, { url: URL, fetch }).transaction([
      ['insert into t values ($1)', [1]],
      ['select n from t'],
    ])
    expect(calls).toHaveLength(1)
    expect(calls[0]!.body).toEqual({
      queries: [
        { query: 'insert into t values ($1)', params: ['1'] },
        { query: 'select n from t', params: [] },
      ],
    })
    expect(inserted).toMatchObject({ command: 'INSERT', rowCount: 1, rows: [] })
    expect(listed!.rows.map((r) => ({ ...r }))).toEqual([{ n: 1 }])
  })

  it('sends the isolation level, read only and deferrable as Neon-Batch-* headers', async () => {
    const cases: [Record<string, unknown>, Record<string, string>][] = [
      [{}, {}],
      [{ isolation: 'serializable' }, { 'Neon-Batch-Isolation-Level': 'Serializable' }],
      [{ isolation: 'repeatable read' }, { 'Neon-Batch-Isolation-Level': 'RepeatableRead' }],
      [{ isolation: 'read committed' }, { 'Neon-Batch-Isolation-Level': 'ReadCommitted' }],
      [{ isolation: 'read uncommitted' }, { 'Neon-Batch-Isolation-Level': 'ReadUncommitted' }],
      [
        { readOnly: true, deferrable: true },
        { 'Neon-Batch-Read-Only': 'true', 'Neon-Batch-Deferrable': 'true' },
      ],
      [
        { readOnly: false, deferrable: false },
        { 'Neon-Batch-Read-Only': 'false', 'Neon-Batch-Deferrable': 'false' },
      ],
    ]
    for (const [options, headers] of cases) {
      const { fetch, calls } = fakeFetch(two)
      await http(CONNECTION, { url: URL, fetch }).transaction([['insert'], ['select']], options)
      const batch = Object.fromEntries(
        Object.entries(calls[0]!.headers).filter(([k]) => k.startsWith('Neon-Batch')),
      )
      expect(batch, JSON.stringify(options)).toEqual(headers)
    }
  })

  it('refuses unknown options and malformed statements before any request', async () => {
    const { fetch, calls } = fakeFetch(two)
    const db = http(CONNECTION, { url: URL, fetch })
    const cases: [() => Promise<unknown>, string][] = [
      [
        () => db.transaction([['select']], { isolation: 'snapshot' as never }),
        'unknown isolation level "snapshot"',
      ],
      [
        () => db.transaction([['select']], { isolation: 'toString' as never }),
        'unknown isolation level "toString"',
      ],
      [
        () => db.transaction([['select']], { readOnly: 'yes' as never }),
        'readOnly must be a boolean, found string',
      ],
      [
        () => db.transaction('select' as never),
        'transaction expects an array of [text, params] queries, found string',
      ],
      [
        () => db.transaction(['select' as never]),
        'transaction query 1 must be a [text, params] array, found string',
      ],
    ]
    for (const [run, message] of cases) {
      const error = await failure(run())
      expect(isPgError(error, 'usage')).toBe(true)
      expect(error.message).toBe(message)
    }
    expect(calls).toHaveLength(0)
  })

  it('resolves an empty batch with no results and no request', async () => {
    const { fetch, calls } = fakeFetch(two)
    expect(await http(CONNECTION, { url: URL, fetch }).transaction([])).toEqual([])
    expect(calls).toHaveLength(0)
  })

  it('rejects with kind protocol when the answer does not hold one result per statement', async () => {
    const { fetch } = fakeFetch(ok({ results: [result([], [])] }))
    const error = await failure(http(CONNECTION, { url: URL, fetch }).transaction([['a'], ['b']]))
    expect(isPgError(error, 'protocol')).toBe(true)
    expect(error.message).toBe("expected 2 results in the relay's answer to a batch, found 1")
  })
})

describe('query helpers', () => {
  const rows = (n: number) =>
    ok(
      result(
        [field('n', 23)],
        Array.from({ length: n }, (_, i) => [String(i)]),
      ),
    )

  it('sql sends each interpolated value as a parameter and resolves with the rows', async () => {
    const { fetch, calls } = fakeFetch(rows(1))
    const db = http(CONNECTION, { url: URL, fetch })
    const name = "o'brien"
    const found = await db.sql`select * from people where name = ${name} and age > ${30}`
    expect(calls[0]!.body).toEqual({
      query: 'select * from people where name = $1 and age > $2',
      params: [name, '30'],
    })
    expect(found.map((r) => ({ ...r }))).toEqual([{ n: 0 }])
    const error = await failure((db.sql as unknown as (text: string) => Promise<unknown>)('select 1'))
    expect(isPgError(error, 'usage')).toBe(true)
  })

  it('queryOne, queryOpt and execute check the row count as the wire client does', async () => {
    const db = (n: number) => http(CONNECTION, { url: URL, fetch: fakeFetch(rows(n)).fetch })
    expect({ ...(await db(1).queryOne('select')) }).toEqual({ n: 0 })
    expect((await failure(db(2).queryOne('select'))).message).toBe(
      'query returned 2 rows, expected exactly one',
    )
    expect(isPgError(await failure(db(0).queryOne('select')), 'row-count')).toBe(true)
    expect(await db(0).queryOpt('select')).toBeNull()
    expect((await failure(db(2).queryOpt('select'))).message).toBe(
      'query returned 2 rows, expected at most one',
    )
    expect(await db(3).execute('select')).toBe(3)
    const none = http(CONNECTION, {
      url: URL,
      fetch: fakeFetch(ok(result([], [], 'CREATE TABLE', null))).fetch,
    })
    expect(await none.execute('create table t ()')).toBe(0)
  })

  it('rejects with what the relay answered', async () => {
    const { fetch } = fakeFetch(answer(502, { message: 'could not reach the database' }))
    const error = await failure(http(CONNECTION, { url: URL, fetch }).query('select'))
    expect(isPgError(error, 'io')).toBe(true)
    expect(error.message).toBe('the relay answered 502: could not reach the database')
  })
})
