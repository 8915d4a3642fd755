import { describe, expect, it } from 'vitest'
import { toParamText } from './params.ts'
import { beginStatement, parseBody, parseConnectionString, parseHeaders } from './request.ts'

const URL_OK = 'postgres://app:s%40cret@db.example.com:6543/shop?application_name=web&sslmode=disable'
const headersOf =
  (headers: Record<string, string>) =>
  (name: string): string | undefined =>
    headers[name]

describe('parseConnectionString', () => {
  it('takes the host:port, user, decoded password, database and parameters of a postgres url', () => {
    const parsed = parseConnectionString(URL_OK)
    expect(parsed).toEqual({
      ok: true,
      value: {
        connectionString: URL_OK,
        address: 'db.example.com:6543',
        user: 'app',
        database: 'shop',
        password: 's@cret',
        parameters: { application_name: 'web', sslmode: 'disable' },
      },
    })
  })

  it('defaults the port to 5432 and the database to the user, keeps ipv6 brackets, accepts postgresql://', () => {
    const parsed = parseConnectionString('postgresql://app@[::1]')
    expect(parsed.ok && parsed.value).toMatchObject({
      address: '[::1]:5432',
      database: 'app',
      password: undefined,
    })
  })

  it('refuses what is not a postgres url with a user and a host, never echoing the value', () => {
    const cases: [string, string][] = [
      ['mysql://app:pw@h/db', 'expected postgres://user:password@host:port/database'],
      ['postgres://:pw@h/db', 'has no user'],
      ['postgres://app:pw@:5432/db', 'not a valid url'],
      ['postgres://app:pw@h:99999/db', 'not a valid url'],
      ['postgres://app:%zz@h/db', 'malformed percent-encoding'],
      ['postgres://app:pw@h/db/extra', 'one path segment'],
      ['postgres://app:pw@h/db#x', 'no #fragment'],
    ]
    for (const [text, message] of cases) {
      const parsed = parseConnectionString(text)
      expect(parsed.ok, text).toBe(false)
      if (parsed.ok) continue
      expect(parsed.message).toContain(message)
      expect(parsed.message).not.toContain('pw')
    }
  })

  it('refuses parameters that would name another host, port or login, unknown and repeated ones', () => {
    for (const name of ['host', 'hostaddr', 'port', 'user', 'password', 'dbname']) {
      const parsed = parseConnectionString(`postgres://app:pw@h/db?${name}=10.0.0.1`)
      expect(parsed.ok ? '' : parsed.message).toContain(`the parameter ${name} is not accepted`)
    }
    const unknown = parseConnectionString('postgres://app:pw@h/db?target_session_attrs=any')
    expect(unknown.ok ? '' : unknown.message).toContain('unknown parameter "target_session_attrs"')
    const twice = parseConnectionString('postgres://app:pw@h/db?options=a&options=b')
    expect(twice.ok ? '' : twice.message).toContain('the parameter options is given twice')
  })
})

describe('parseHeaders', () => {
  it('reads the connection string, the flags and the batch settings', () => {
    const parsed = parseHeaders(
      headersOf({
        'neon-connection-string': URL_OK,
        'neon-raw-text-output': 'true',
        'neon-array-mode': 'TRUE',
        'neon-batch-isolation-level': 'RepeatableRead',
        'neon-batch-read-only': 'true',
        'neon-batch-deferrable': 'false',
      }),
    )
    expect(parsed.ok && { ...parsed.value, connection: undefined }).toEqual({
      connection: undefined,
      isRawText: true,
      isArrayMode: true,
      batch: { isolation: 'RepeatableRead', readOnly: true, deferrable: false },
    })
  })

  it('defaults to objects of converted values and the server’s transaction defaults', () => {
    const parsed = parseHeaders(headersOf({ 'neon-connection-string': URL_OK }))
    expect(parsed.ok && parsed.value).toMatchObject({
      isRawText: false,
      isArrayMode: false,
      batch: { isolation: undefined, readOnly: undefined, deferrable: undefined },
    })
  })

  it('refuses a missing connection string and bad flag or isolation values, saying what was expected', () => {
    expect(parseHeaders(headersOf({}))).toEqual({
      ok: false,
      message: 'missing header neon-connection-string: expected a postgres:// url with user and password',
    })
    expect(parseHeaders(headersOf({ 'neon-connection-string': URL_OK, 'neon-array-mode': 'yes' }))).toEqual({
      ok: false,
      message: 'header neon-array-mode: expected true or false, found "yes"',
    })
    expect(
      parseHeaders(headersOf({ 'neon-connection-string': URL_OK, 'neon-batch-isolation-level': 'Snapshot' })),
    ).toEqual({
      ok: false,
      message:
        'header neon-batch-isolation-level: expected Serializable, RepeatableRead, ReadCommitted, ReadUncommitted, found "Snapshot"',
    })
  })
})

describe('parseBody', () => {
  it('reads one statement with parameters, and a batch', () => {
    expect(parseBody('{"query":"select $1","params":["a",null,1,true]}')).toEqual({
      ok: true,
      value: { kind: 'single', query: { query: 'select $1', params: ['a', null, '1', 'true'] } },
    })
    expect(parseBody('{"queries":[{"query":"select 1"},{"query":"select $1","params":[2]}]}')).toEqual({
      ok: true,
      value: {
        kind: 'batch',
        queries: [
          { query: 'select 1', params: [] },
          { query: 'select $1', params: ['2'] },
        ],
      },
    })
  })

  it('refuses malformed bodies with what was expected and found', () => {
    const cases: [string, string][] = [
      ['', 'found an empty body'],
      ['{', 'the body is not valid json'],
      ['[1]', 'found an array'],
      ['"select 1"', 'found a string'],
      ['{}', 'found neither'],
      ['{"query":"x","queries":[]}', 'found both'],
      ['{"query":1}', '"query" must be a string, found a number'],
      ['{"query":"x","params":{}}', '"params" must be an array, found an object'],
      ['{"queries":{}}', '"queries" must be an array, found an object'],
      ['{"queries":[1]}', 'queries[0] must be an object'],
      ['{"queries":[{"query":null}]}', 'queries[0]: "query" must be a string, found null'],
      [
        '{"query":"x","params":[[[[[[[[1]]]]]]],[[[[[[1]]]]]]]}',
        'params[0] is an array nested deeper than 6 levels',
      ],
    ]
    for (const [text, message] of cases) {
      const parsed = parseBody(text)
      expect(parsed.ok ? '' : parsed.message, text).toContain(message)
    }
  })
})

describe('toParamText', () => {
  it('writes objects as json and arrays as postgresql array literals, quoting every element', () => {
    expect(toParamText({ a: [1, 'x'] })).toEqual({ ok: true, value: '{"a":[1,"x"]}' })
    expect(toParamText([1, null, 'a "b" \\c', [true, { k: 1 }]])).toEqual({
      ok: true,
      value: '{"1",NULL,"a \\"b\\" \\\\c",{"true","{\\"k\\":1}"}}',
    })
    expect(toParamText([])).toEqual({ ok: true, value: '{}' })
    expect(toParamText('\\x00ff')).toEqual({ ok: true, value: '\\x00ff' })
  })
})

describe('beginStatement', () => {
  it('names each transaction mode the headers set, and nothing else', () => {
    const none = { isolation: undefined, readOnly: undefined, deferrable: undefined }
    expect(beginStatement(none)).toBe('BEGIN')
    expect(beginStatement({ isolation: 'Serializable', readOnly: true, deferrable: true })).toBe(
      'BEGIN ISOLATION LEVEL SERIALIZABLE, READ ONLY, DEFERRABLE',
    )
    expect(
      beginStatement({ ...none, isolation: 'ReadUncommitted', readOnly: false, deferrable: false }),
    ).toBe('BEGIN ISOLATION LEVEL READ UNCOMMITTED, READ WRITE, NOT DEFERRABLE')
  })
})
