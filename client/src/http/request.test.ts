// The HTTP entry's requests: what it sends (Neon's headers and body, parameters as the wire path encodes them),
// where, with which token, and how a deadline, a signal or a failing fetch ends a request. A fake fetch
// stands in for the relay; integration tests (client/test/http/) run the same against the real one.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { isPgError, type PgError } from '../errors.ts'
import { encodeParam } from '../types/encode.ts'
import { answer, fakeFetch, field, hangingFetch, ok, result } from './fake-fetch.fixture.ts'
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

afterEach(() => {
  vi.unstubAllGlobals()
})

describe('a query request', () => {
  it("posts the statement and its parameters to the url with Neon's headers", async () => {
    const { fetch, calls } = fakeFetch(one)
    await http(CONNECTION, { url: URL, fetch }).query('select $1::int as n', [1])
    expect(calls).toHaveLength(1)
    expect(calls[0]!.url).toBe(URL)
    expect(calls[0]!.init.method).toBe('POST')
    expect(calls[0]!.headers).toEqual({
      'Content-Type': 'application/json',
      'Neon-Connection-String': CONNECTION,
      'Neon-Raw-Text-Output': 'true',
      'Neon-Array-Mode': 'true',
    })
    expect(calls[0]!.body).toEqual({ query: 'select $1::int as n', params: ['1'] })
  })

  it('sends the token as Authorization: Bearer, asking an async token function on every request', async () => {
    const { fetch, calls } = fakeFetch(one)
    let n = 0
    const db = http(CONNECTION, { url: URL, fetch, token: async () => `token-${++n}` })
    await db.query('select 1')
    await db.query('select 1')
    expect(calls.map((c) => c.headers.Authorization)).toEqual(['Bearer token-1', 'Bearer token-2'])
    const fixed = fakeFetch(one)
    await http(CONNECTION, { url: URL, fetch: fixed.fetch, token: 'abc' }).query('select 1')
    expect(fixed.calls[0]!.headers.Authorization).toBe('Bearer abc')
  })

  it('rejects with an auth error and sends nothing when the token function throws', async () => {
    const { fetch, calls } = fakeFetch(one)
    const db = http(CONNECTION, {
      url: URL,
      fetch,
      token: () => {
        throw new Error('vault is sealed')
      },
    })
    const error = await failure(db.query('select 1'))
    expect(isPgError(error, 'auth')).toBe(true)
    expect(error.message).toBe('could not get the relay token: vault is sealed')
    expect(calls).toHaveLength(0)
  })

  it('refuses a token a header cannot carry without showing it', async () => {
    for (const token of ['abc\r\ndef', '', ' padded ', 'naïve']) {
      const { fetch, calls } = fakeFetch(one)
      const error = await failure(http(CONNECTION, { url: URL, fetch, token }).query('select 1'))
      expect(isPgError(error, 'auth'), token).toBe(true)
      expect(error.message).toBe(
        'expected the relay token as a non-empty string of printable ASCII characters, found a string with other characters',
      )
      expect(calls).toHaveLength(0)
    }
    const error = await failure(
      http(CONNECTION, { url: URL, token: async () => 42 as never }).query('select 1'),
    )
    expect(error.message).toMatch(/found number$/)
  })

  it("derives the default url from the connection string's host as Neon's driver does", async () => {
    const cases: [string, boolean, string][] = [
      [
        'postgres://u:p@ep-cool-1.us-east-2.aws.neon.tech/db',
        false,
        'https://api.us-east-2.aws.neon.tech/sql',
      ],
      [
        'postgres://u:p@ep-cool-1.us-east-2.aws.neon.tech/db',
        true,
        'https://apiauth.us-east-2.aws.neon.tech/sql',
      ],
      ['postgresql://u:p@localhost:5432/db', false, 'https://localhost/sql'],
    ]
    for (const [connection, hasToken, expected] of cases) {
      const { fetch, calls } = fakeFetch(one)
      await http(connection, { fetch, ...(hasToken ? { token: 't' } : {}) }).query('select 1')
      expect(calls[0]!.url).toBe(expected)
    }
  })

  it('calls the global fetch, looked up at each request, when none is given', async () => {
    const first = fakeFetch(one)
    const db = http(CONNECTION, { url: URL })
    vi.stubGlobal('fetch', first.fetch)
    await db.query('select 1')
    const second = fakeFetch(one)
    vi.stubGlobal('fetch', second.fetch)
    await db.query('select 1')
    expect([first.calls.length, second.calls.length]).toEqual([1, 1])
  })

  it('calls a custom fetch as a plain function, not as a method of the client', async () => {
    const seen: unknown[] = []
    const fetch = function (this: unknown) {
      seen.push(this)
      return Promise.resolve(one.clone())
    }
    await http(CONNECTION, { url: URL, fetch }).query('select 1')
    expect(seen).toEqual([undefined])
  })
})

describe('http() options', () => {
  const refusal = (run: () => unknown) => {
    try {
      run()
    } catch (error) {
      return error as PgError
    }
    throw new Error('expected http() to throw')
  }

  it('refuses what is not a postgres URL in printable ASCII, without showing the connection string', () => {
    const cases: [unknown, RegExp][] = [
      [undefined, /^expected a connection string \(postgres:\/\/…\), found undefined$/],
      ['host=db user=alice password=s3cret', /^expected a connection string starting with postgres:\/\//],
      ['mysql://alice:s3cret@db/app', /^expected a connection string starting with postgres:\/\//],
      ['postgres://alice:sécret@db/app', /^expected the connection string in printable ASCII/],
      ['postgres://alice:s3cret\n@db/app', /^expected the connection string in printable ASCII/],
    ]
    for (const [connection, message] of cases) {
      const error = refusal(() => http(connection as string, { url: URL }))
      expect(isPgError(error, 'config'), String(connection)).toBe(true)
      expect(error.message).toMatch(message)
      expect(error.message).not.toMatch(/s3cret|sécret/)
    }
  })

  it('refuses a bad url, token or fetch', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ url: 'relay.test/sql' }, 'url must be an absolute http or https URL, found "relay.test/sql"'],
      [{ url: 'ftp://relay.test/sql' }, 'url must be an http or https URL, found ftp:'],
      [{ url: URL, token: 42 }, 'token must be a string or a function, found number'],
      [{ url: URL, fetch: 'fetch' }, 'fetch must be a function, found string'],
      [{}, 'the connection string names no host; pass the endpoint as options.url'],
    ]
    for (const [options, message] of cases) {
      const connection = options.url === undefined ? 'postgres:///app' : CONNECTION
      const error = refusal(() => http(connection, options))
      expect(isPgError(error, 'config')).toBe(true)
      expect(error.message).toBe(message)
    }
  })
})

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

describe('deadline, signal and failures', () => {
  it('a timeout rejects with kind timeout and aborts the fetch', async () => {
    const { fetch, signals } = hangingFetch()
    const error = await failure(http(CONNECTION, { url: URL, fetch }).query('select', [], { timeout: 20 }))
    expect(isPgError(error, 'timeout')).toBe(true)
    expect(error.message).toBe('query timed out after 20 ms')
    expect(signals[0]!.aborted).toBe(true)
  })

  it('a timeout settles the query even when the fetch ignores its signal', async () => {
    const fetch = () => new Promise<Response>(() => {})
    const error = await failure(http(CONNECTION, { url: URL, fetch }).query('select', [], { timeout: 20 }))
    expect(isPgError(error, 'timeout')).toBe(true)
  })

  it('a timeout also bounds reading the answer and waiting for the token', async () => {
    const stalled = new Response(new ReadableStream({ start() {} }), { status: 200 })
    const body = await failure(
      http(CONNECTION, { url: URL, fetch: async () => stalled }).query('select', [], { timeout: 20 }),
    )
    expect(isPgError(body, 'timeout')).toBe(true)
    const { fetch, calls } = fakeFetch(one)
    const token = () => new Promise<string>(() => {})
    const waiting = await failure(
      http(CONNECTION, { url: URL, fetch, token }).query('select', [], { timeout: 20 }),
    )
    expect(isPgError(waiting, 'timeout')).toBe(true)
    expect(calls).toHaveLength(0)
  })

  it('an abort rejects with kind aborted, its reason as the cause, and aborts the fetch', async () => {
    const { fetch, signals } = hangingFetch()
    const controller = new AbortController()
    const pending = failure(
      http(CONNECTION, { url: URL, fetch }).query('select', [], { signal: controller.signal }),
    )
    await vi.waitFor(() => expect(signals).toHaveLength(1))
    controller.abort('user left')
    const error = await pending
    expect(isPgError(error, 'aborted')).toBe(true)
    expect(error.message).toBe('query aborted by its AbortSignal')
    expect(error.cause).toBe('user left')
    expect(signals[0]!.aborted).toBe(true)
  })

  it('an already aborted signal rejects before any request', async () => {
    const { fetch, calls } = fakeFetch(one)
    const error = await failure(
      http(CONNECTION, { url: URL, fetch }).query('select', [], { signal: AbortSignal.abort() }),
    )
    expect(isPgError(error, 'aborted')).toBe(true)
    expect(error.message).toBe('request aborted before it was sent')
    expect(calls).toHaveLength(0)
  })

  it('a fetch that fails rejects with kind io naming the relay, not the connection string or the query string', async () => {
    const fetch = () => Promise.reject(new TypeError('fetch failed'))
    const db = http(CONNECTION, { url: 'https://relay.test/sql?key=hidden', fetch })
    const error = await failure(db.query('select'))
    expect(isPgError(error, 'io')).toBe(true)
    expect(error.message).toBe('could not reach the relay at https://relay.test/sql: TypeError: fetch failed')
    expect(error.cause).toBeInstanceOf(TypeError)
  })

  it('an answer that is not JSON rejects with kind protocol', async () => {
    const fetch = async () => new Response('<html>gateway</html>', { status: 200 })
    const error = await failure(http(CONNECTION, { url: URL, fetch }).query('select'))
    expect(isPgError(error, 'protocol')).toBe(true)
    expect(error.message).toBe(`expected JSON in the relay's answer, found "<html>gateway</html>"`)
  })

  it('a listener on the caller signal is removed once the query settles', async () => {
    const { fetch } = fakeFetch(one)
    const controller = new AbortController()
    const removed = vi.spyOn(controller.signal, 'removeEventListener')
    await http(CONNECTION, { url: URL, fetch }).query('select', [], { signal: controller.signal })
    expect(removed).toHaveBeenCalledWith('abort', expect.any(Function))
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
