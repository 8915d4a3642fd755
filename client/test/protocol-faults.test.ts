// Attack cases D2a, D2b, D2c: a peer that breaks the protocol destroys the connection with a protocol error,
// rejects everything pending, and never allocates by an announced length. The fake servers are real TCP
// servers on loopback.
import { createServer, type Server, type Socket } from 'node:net'
import { connect, isPgError } from '@edgepg/client'
import { afterEach, describe, expect, it } from 'vitest'
import {
  bindComplete,
  commandComplete,
  concat,
  dataRow,
  handshake,
  int16,
  int32,
  message,
  noData,
  parseComplete,
  readyForQuery,
  rowDescription,
} from '../../test/pg-bytes.ts'
import { transport } from './helpers.ts'

let fake: Server | undefined
afterEach(() => {
  fake?.close()
  fake = undefined
})

/** A fake server: `greet` runs on connect, `answer` on the first query bytes after the handshake. */
async function fakeServer(script: {
  greet?: (s: Socket) => void
  answer?: (s: Socket) => void
}): Promise<number> {
  fake = createServer((socket) => {
    socket.on('error', () => {})
    if (script.greet) return script.greet(socket)
    let isStarted = false
    socket.on('data', () => {
      if (!isStarted) {
        isStarted = true
        socket.write(handshake())
      } else script.answer?.(socket)
    })
  })
  await new Promise<void>((resolve) => fake!.listen(0, '127.0.0.1', resolve))
  return (fake.address() as { port: number }).port
}

async function connectTo(port: number) {
  const [client, connection] = await connect(`postgres://u@127.0.0.1:${port}/db`, {
    transport: transport(),
    connectTimeout: 3000,
  })
  const done = connection.run()
  done.catch(() => {})
  return { client, connection, done }
}

/** Sends `bytes` in answer to the first query and checks the connection is destroyed with a protocol error. */
async function expectProtocolError(bytes: Uint8Array, pattern: RegExp) {
  const port = await fakeServer({ answer: (s) => s.write(bytes) })
  const { client, connection, done } = await connectTo(port)
  const first = client.query('select 1').catch((e) => e)
  const second = client.query('select 2').catch((e) => e)
  const error = await first
  expect(isPgError(error, 'protocol')).toBe(true)
  expect(error.message).toMatch(pattern)
  expect(isPgError(await second, 'protocol')).toBe(true)
  await expect(done).rejects.toBe(error)
  expect(connection.state).toBe('closed')
}

describe('D2a: impossible framing', () => {
  it('rejects a length below 4', () => expectProtocolError(Uint8Array.from([0x5a, 0, 0, 0, 3]), /length/))
  it('rejects a length of 0x7fffffff without allocating it', async () => {
    const before = process.memoryUsage().arrayBuffers
    await expectProtocolError(Uint8Array.from([0x44, 0x7f, 0xff, 0xff, 0xff, 0, 1]), /length/)
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024)
  })
  it('rejects a non-long message type over the libpq limit', () =>
    expectProtocolError(concat(Uint8Array.from([0x5a, ...int32(40_000)]), new Uint8Array(100)), /length/))
  it('rejects an unknown message type', () =>
    expectProtocolError(message('!', [1, 2, 3]), /unknown|tag|type/i))
  it('rejects a message truncated by the end of the stream', async () => {
    const port = await fakeServer({ answer: (s) => s.end(Uint8Array.from([0x44, 0, 0, 0, 100, 0, 1])) })
    const { client, done } = await connectTo(port)
    const error = await client.query('select 1').catch((e) => e)
    expect(isPgError(error)).toBe(true)
    expect(['protocol', 'closed']).toContain(error.kind)
    await expect(done).rejects.toBeTruthy()
  })
  it('rejects a message larger than maxMessageSize', async () => {
    const port = await fakeServer({
      answer: (s) => s.write(message('D', int16(1), int32(2000), new Uint8Array(2000))),
    })
    const [client, connection] = await connect(`postgres://u@127.0.0.1:${port}/db`, {
      transport: transport(),
      maxMessageSize: 1024,
    })
    connection.run().catch(() => {})
    const error = await client.query('select 1').catch((e) => e)
    expect(isPgError(error, 'protocol')).toBe(true)
    expect(error.message).toMatch(/1024/)
  })
})

describe('D2b: messages out of place', () => {
  it('rejects a DataRow before RowDescription', () =>
    expectProtocolError(
      concat(parseComplete(), bindComplete(), dataRow(['1'])),
      /DataRow before RowDescription/,
    ))
  it('rejects a DataRow whose field count differs from the RowDescription', () =>
    expectProtocolError(
      concat(parseComplete(), bindComplete(), rowDescription(['a', 'b']), dataRow(['1'])),
      /1 columns, expected 2/,
    ))
  it('rejects a field length below -1', () =>
    expectProtocolError(
      concat(parseComplete(), bindComplete(), rowDescription(['a']), message('D', int16(1), int32(-2))),
      /length/,
    ))
  it('rejects an extra ReadyForQuery after the query it belongs to has completed', async () => {
    const reply = concat(
      parseComplete(),
      bindComplete(),
      noData(),
      commandComplete('SELECT 0'),
      readyForQuery(),
    )
    const port = await fakeServer({ answer: (s) => s.write(concat(reply, readyForQuery())) })
    const { client, connection, done } = await connectTo(port)
    const first = await client.query('select')
    expect(first.command).toBe('SELECT')
    const error = await done.catch((e) => e)
    expect(isPgError(error, 'protocol')).toBe(true)
    expect(error.message).toMatch(/ReadyForQuery with no request pending/)
    expect(connection.state).toBe('closed')
    await expect(client.query('select 1')).rejects.toSatisfy((e) => isPgError(e, 'closed'))
  })
  it('rejects a CommandComplete with no query pending', async () => {
    const port = await fakeServer({
      greet: (s) => s.once('data', () => s.write(concat(handshake(), commandComplete('SELECT 1')))),
    })
    const { client, done } = await connectTo(port).catch((e) => ({
      client: undefined,
      done: Promise.reject(e),
    }))
    const error = client ? await client.query('select 1').catch((e) => e) : await done.catch((e) => e)
    expect(isPgError(error, 'protocol')).toBe(true)
    expect(error.message).toMatch(/CommandComplete with no request pending/)
  })
})

describe('D2c: the peer is not PostgreSQL', () => {
  it('fails fast with a protocol error when the peer speaks HTTP', async () => {
    const port = await fakeServer({
      greet: (s) => s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n')),
    })
    const started = performance.now()
    const error = await connectTo(port).catch((e) => e)
    expect(isPgError(error, 'protocol')).toBe(true)
    expect(performance.now() - started).toBeLessThan(1000)
  })

  it('fails fast with a protocol error when the peer greets like MySQL', async () => {
    const greeting = concat(
      Uint8Array.from([0x4a, 0, 0, 0, 10]),
      new TextEncoder().encode('8.0.36\0'),
      new Uint8Array(60),
    )
    const port = await fakeServer({ greet: (s) => s.write(greeting) })
    const started = performance.now()
    const error = await connectTo(port).catch((e) => e)
    expect(isPgError(error, 'protocol')).toBe(true)
    expect(performance.now() - started).toBeLessThan(1000)
  })
})
