import { serialize } from 'pg-protocol'
import { describe, expect, it } from 'vitest'
import { concat, cstring, int16, int32, message } from '../../test/pg-bytes.ts'
import { type Direction, WireDecoder, type WireMessage } from './wire.ts'

// Frontend bytes come from pg-protocol's serializer and backend bytes from a test-only builder: neither
// shares code with the decoder under test.

const CLIENT_FIRST = 'n,,n=,r=rOprNGfwEbeRWgbNEkqO'
const CLIENT_FINAL =
  'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ='
const SERVER_FIRST = 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096'
const SERVER_FINAL = 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='

/** One SCRAM login and a query with an error, as the two byte streams of one connection. */
function conversation(): { direction: Direction; bytes: Uint8Array }[] {
  const backend = (...parts: Uint8Array[]) => ({ direction: 'backend' as const, bytes: concat(...parts) })
  const frontend = (...parts: Uint8Array[]) => ({ direction: 'frontend' as const, bytes: concat(...parts) })
  return [
    frontend(serialize.startup({ user: 'app', database: 'shop' })),
    backend(message('R', int32(10), cstring('SCRAM-SHA-256-PLUS'), cstring('SCRAM-SHA-256'), [0])),
    frontend(serialize.sendSASLInitialResponseMessage('SCRAM-SHA-256', CLIENT_FIRST)),
    backend(message('R', int32(11), new TextEncoder().encode(SERVER_FIRST))),
    frontend(serialize.sendSCRAMClientFinalMessage(CLIENT_FINAL)),
    backend(
      message('R', int32(12), new TextEncoder().encode(SERVER_FINAL)),
      message('R', int32(0)),
      message('S', cstring('server_version'), cstring('18.4')),
      message('K', int32(4242), int32(0x5ec2e7)),
      message('Z', [0x49]),
    ),
    frontend(serialize.query('select 1 as n, null as nothing; selec 2')),
    backend(
      message(
        'T',
        int16(2),
        [...cstring('n'), ...int32(0), ...int16(0), ...int32(23), ...int16(4), ...int32(-1), ...int16(0)],
        [
          ...cstring('nothing'),
          ...int32(0),
          ...int16(0),
          ...int32(25),
          ...int16(-1),
          ...int32(-1),
          ...int16(0),
        ],
      ),
      message('D', int16(2), int32(1), [0x31], int32(-1)),
      message('C', cstring('SELECT 1')),
      message(
        'E',
        [0x53, ...cstring('ERROR')],
        [0x43, ...cstring('42601')],
        [0x4d, ...cstring('syntax error at or near "selec"')],
        [0x50, ...cstring('33')],
        [0],
      ),
      message('Z', [0x49]),
    ),
    frontend(serialize.end()),
  ]
}

function decodeAll(chunks: { direction: Direction; bytes: Uint8Array }[]): WireMessage[] {
  const messages: WireMessage[] = []
  const decoder = new WireDecoder((m) => messages.push(m))
  for (const [i, chunk] of chunks.entries()) decoder.push(chunk.direction, chunk.bytes, i)
  return messages
}

/** The same streams, each chunk cut in two at `at` (chunks shorter than that stay whole). */
function splitAt(chunks: { direction: Direction; bytes: Uint8Array }[], at: number) {
  return chunks.flatMap((c) =>
    at > 0 && at < c.bytes.length
      ? [
          { direction: c.direction, bytes: c.bytes.subarray(0, at) },
          { direction: c.direction, bytes: c.bytes.subarray(at) },
        ]
      : [c],
  )
}

const summary = (messages: WireMessage[]) => messages.map((m) => ({ ...m, at: 0 }))

describe('WireDecoder', () => {
  it('names every message of a SCRAM login and a failing multi-statement query, in order', () => {
    const messages = decodeAll(conversation())
    expect(messages.map((m) => `${m.direction === 'frontend' ? '>' : '<'} ${m.type}`)).toEqual([
      '> StartupMessage',
      '< AuthenticationSASL',
      '> SASLInitialResponse',
      '< AuthenticationSASLContinue',
      '> SASLResponse',
      '< AuthenticationSASLFinal',
      '< AuthenticationOk',
      '< ParameterStatus',
      '< BackendKeyData',
      '< ReadyForQuery',
      '> Query',
      '< RowDescription',
      '< DataRow',
      '< CommandComplete',
      '< ErrorResponse',
      '< ReadyForQuery',
      '> Terminate',
    ])
  })

  it('decodes the fields a user wants to see', () => {
    const byType = new Map(decodeAll(conversation()).map((m) => [m.type, m]))
    expect(byType.get('StartupMessage')?.fields).toEqual({
      protocol: '3.0',
      user: 'app',
      database: 'shop',
      client_encoding: 'UTF8',
    })
    expect(byType.get('AuthenticationSASL')?.fields).toEqual({
      mechanisms: 'SCRAM-SHA-256-PLUS, SCRAM-SHA-256',
    })
    expect(byType.get('SASLInitialResponse')?.fields.mechanism).toBe('SCRAM-SHA-256')
    expect(byType.get('ParameterStatus')?.fields).toEqual({ name: 'server_version', value: '18.4' })
    expect(byType.get('BackendKeyData')?.fields.pid).toBe('4242')
    expect(byType.get('Query')?.fields).toEqual({ sql: 'select 1 as n, null as nothing; selec 2' })
    expect(byType.get('RowDescription')?.fields).toEqual({ columns: 'n:23, nothing:25' })
    expect(byType.get('DataRow')?.fields).toEqual({ values: '"1", NULL' })
    expect(byType.get('CommandComplete')?.fields).toEqual({ tag: 'SELECT 1' })
    expect(byType.get('ErrorResponse')?.fields).toEqual({
      severity: 'ERROR',
      code: '42601',
      message: 'syntax error at or near "selec"',
      position: '33',
    })
    expect(byType.get('ReadyForQuery')?.fields).toEqual({ status: 'I (idle)' })
  })

  it('reports each message with its full length on the wire and the time of the chunk that completed it', () => {
    const chunks = conversation()
    const messages = decodeAll(chunks)
    const lengths = (d: Direction) =>
      messages.filter((m) => m.direction === d).reduce((sum, m) => sum + m.length, 0)
    const bytes = (d: Direction) =>
      chunks.filter((c) => c.direction === d).reduce((sum, c) => sum + c.bytes.length, 0)
    expect(lengths('frontend')).toBe(bytes('frontend'))
    expect(lengths('backend')).toBe(bytes('backend'))
    expect(messages.find((m) => m.type === 'Terminate')?.at).toBe(chunks.length - 1)
  })

  it('never shows the SASL payloads, the cancel key or a password', () => {
    const text = JSON.stringify(decodeAll(conversation()))
    for (const secret of [
      CLIENT_FIRST,
      'rOprNGfwEbeRWgbNEkqO',
      'dHzbZapWIk4j',
      'W22ZaJ0SNY7soEsUEjb6gQ',
      '6rriTRBi23',
    ]) {
      expect(text).not.toContain(secret)
    }
    expect(text).not.toContain(String(0x5ec2e7))

    const password: WireMessage[] = []
    const decoder = new WireDecoder((m) => password.push(m))
    decoder.push('frontend', serialize.startup({ user: 'app' }), 0)
    decoder.push('backend', message('R', int32(3)), 1)
    decoder.push('frontend', serialize.password('hunter2-Secret'), 2)
    expect(password.map((m) => m.type)).toEqual([
      'StartupMessage',
      'AuthenticationCleartextPassword',
      'PasswordMessage',
    ])
    expect(password[2]?.fields).toEqual({ password: '[redacted, 15 bytes]' })
    expect(JSON.stringify(password)).not.toContain('hunter2')
  })

  it('decodes the same messages when every chunk is split at any byte offset', () => {
    const whole = summary(decodeAll(conversation()))
    const longest = Math.max(...conversation().map((c) => c.bytes.length))
    for (let at = 1; at < longest; at++)
      expect(summary(decodeAll(splitAt(conversation(), at)))).toEqual(whole)
  })

  it('decodes the same messages when the bytes arrive one at a time', () => {
    const whole = summary(decodeAll(conversation()))
    const single = conversation().flatMap((c) =>
      Array.from(c.bytes, (byte) => ({ direction: c.direction, bytes: Uint8Array.of(byte) })),
    )
    expect(summary(decodeAll(single))).toEqual(whole)
  })

  it('reads the extended protocol the client pipelines: Parse, Bind, Describe, Execute, Sync', () => {
    const frontend = concat(
      serialize.parse({ text: 'select $1::int', types: [23] }),
      serialize.bind({ values: ['42'] }),
      serialize.describe({ type: 'P' }),
      serialize.execute({}),
      serialize.sync(),
    )
    const messages: WireMessage[] = []
    const decoder = new WireDecoder((m) => messages.push(m))
    decoder.push('frontend', serialize.startup({ user: 'app' }), 0)
    decoder.push('frontend', frontend, 1)
    decoder.push(
      'backend',
      concat(message('1'), message('2'), message('n'), message('C', cstring('SELECT 1'))),
      2,
    )
    expect(messages.map((m) => [m.type, m.fields])).toEqual([
      ['StartupMessage', { protocol: '3.0', user: 'app', client_encoding: 'UTF8' }],
      ['Parse', { statement: '(unnamed)', sql: 'select $1::int', paramTypes: '23' }],
      ['Bind', { portal: '(unnamed)', statement: '(unnamed)', params: '1', paramFormats: 'text' }],
      ['Describe', { what: 'portal', name: '(unnamed)' }],
      ['Execute', { portal: '(unnamed)', maxRows: '0' }],
      ['Sync', {}],
      ['ParseComplete', {}],
      ['BindComplete', {}],
      ['NoData', {}],
      ['CommandComplete', { tag: 'SELECT 1' }],
    ])
  })

  it('reads the one-byte answer to an SSLRequest, then the startup packet that follows', () => {
    const messages: WireMessage[] = []
    const decoder = new WireDecoder((m) => messages.push(m))
    decoder.push('frontend', serialize.requestSsl(), 0)
    decoder.push('backend', concat(Uint8Array.of(0x4e), message('R', int32(0))), 1)
    decoder.push('frontend', serialize.startup({ user: 'app' }), 2)
    expect(messages.map((m) => [m.direction, m.type, m.length])).toEqual([
      ['frontend', 'SSLRequest', 8],
      ['backend', 'SSLResponse', 1],
      ['backend', 'AuthenticationOk', 9],
      ['frontend', 'StartupMessage', serialize.startup({ user: 'app' }).length],
    ])
  })

  it('cuts long column values and marks NULL', () => {
    const messages: WireMessage[] = []
    const decoder = new WireDecoder((m) => messages.push(m))
    const long = 'x'.repeat(5000)
    decoder.push(
      'backend',
      message('D', int16(2), int32(long.length), cstring(long).slice(0, -1), int32(-1)),
      0,
    )
    expect(messages[0]?.fields.values).toBe(`"${'x'.repeat(100)}"… (5000 bytes), NULL`)
  })

  it('stops reading a direction after an impossible length instead of guessing', () => {
    const messages: WireMessage[] = []
    const decoder = new WireDecoder((m) => messages.push(m))
    decoder.push('backend', Uint8Array.of(0x5a, 0, 0, 0, 2, 0x49), 0)
    decoder.push('backend', message('Z', [0x49]), 1)
    expect(messages.map((m) => [m.type, m.fields])).toEqual([
      ['Unreadable', { reason: 'impossible length 2' }],
    ])
  })
})
