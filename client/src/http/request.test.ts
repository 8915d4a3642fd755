// The HTTP entry's requests: what it sends (Neon's headers and the statement), where, with which token, and
// how a deadline, a signal or a failing fetch ends a request (bodies: body.test.ts). A fake fetch
// stands in for the relay; integration tests (client/test/http/) run the same against the real one.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { isPgError, type PgError } from '../errors.ts'
import { fakeFetch, field, hangingFetch, ok, result } from './fake-fetch.fixture.ts'
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
