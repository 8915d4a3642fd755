import { describe, expect, it } from 'vitest'
import {
  bindComplete,
  commandComplete,
  concat,
  cstring,
  dataRow,
  handshake,
  int32,
  message,
  parseComplete,
  readyForQuery,
  rowDescription,
} from '../../test/pg-bytes.ts'
import { connect } from './connect.ts'
import { DatabaseError, isPgError } from './errors.ts'
import { type MemoryPeer, memoryTransport } from './transport/memory.ts'

/** A fake server on the in-memory transport: answers the startup with trust, then hands over. */
async function fake(onQuery: (peer: MemoryPeer, bytes: Uint8Array) => void, options = {}) {
  let peer!: MemoryPeer
  const transport = memoryTransport((p) => {
    peer = p
    let isStarted = false
    p.onWrite = (bytes) => {
      if (!isStarted) {
        isStarted = true
        p.send(handshake())
      } else onQuery(p, bytes)
    }
  })
  const [client, connection] = await connect('postgres://u@h/db', { transport, ...options })
  return { client, connection, peer }
}

const selectReply = (value: string) =>
  concat(
    parseComplete(),
    bindComplete(),
    rowDescription(['n']),
    dataRow([value]),
    commandComplete('SELECT 1'),
    readyForQuery(),
  )

const errorResponse = (severity: string, code: string, text: string) =>
  message(
    'E',
    cstring(`S${severity}`),
    cstring(`V${severity}`),
    cstring(`C${code}`),
    cstring(`M${text}`),
    [0],
  )

describe('ConnectionCore', () => {
  it('matches pipelined responses to requests in order, even when they arrive one byte at a time', async () => {
    const { client, connection } = await fake((peer) => {
      const reply = concat(selectReply('1'), selectReply('2'), selectReply('3'))
      for (const byte of reply) peer.send(Uint8Array.of(byte))
    })
    void connection.run()
    const first = client.query('select 1')
    const rest = [client.query('select 2'), client.query('select 3')]
    const rows = await Promise.all([first, ...rest])
    expect(rows.map((r) => r.rows[0])).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }])
  })

  it('writes nothing before run() and rejects with not-driven after the timeout', async () => {
    let writes = 0
    const { client } = await fake(() => writes++, { notDrivenTimeout: 30 })
    const error = await client.query('select 1').catch((e) => e)
    expect(isPgError(error, 'not-driven')).toBe(true)
    expect(writes).toBe(0)
  })

  it('routes a notification that arrives mid-response to the side channel, not to the query', async () => {
    const notification = message('A', int32(99), cstring('chan'), cstring('payload'))
    const { client, connection } = await fake((peer) =>
      peer.send(
        concat(
          parseComplete(),
          bindComplete(),
          rowDescription(['n']),
          notification,
          dataRow(['7']),
          commandComplete('SELECT 1'),
          readyForQuery(),
        ),
      ),
    )
    void connection.run()
    const seen: string[] = []
    connection.on('notification', (n) => seen.push(`${n.processId}:${n.channel}:${n.payload}`))
    expect((await client.query('select 7')).rows).toEqual([{ n: 7 }])
    expect(seen).toEqual(['99:chan:payload'])
  })

  it('closes with the cause when the server sends FATAL while idle', async () => {
    const { client, connection, peer } = await fake(() => {})
    const done = connection.run()
    peer.send(errorResponse('FATAL', '57P01', 'terminating connection due to administrator command'))
    peer.end()
    const error = await done.catch((e) => e)
    expect(isPgError(error, 'closed')).toBe(true)
    expect(error.cause).toBeInstanceOf(DatabaseError)
    expect(error.cause.code).toBe('57P01')
    const later = await client.query('select 1').catch((e) => e)
    expect(later.cause).toBe(error)
  })

  it('rejects every pending request when the transport fails', async () => {
    const { client, connection, peer } = await fake(() => {})
    const done = connection.run().catch((e) => e)
    const pending = [client.query('select 1').catch((e) => e), client.query('select 2').catch((e) => e)]
    await new Promise((r) => setTimeout(r, 5))
    peer.fail(new Error('wire cut'))
    const errors = await Promise.all(pending)
    for (const error of errors) expect(isPgError(error)).toBe(true)
    expect(isPgError(await done)).toBe(true)
  })

  it('rejects a server error on one pipelined query without affecting the next', async () => {
    const { client, connection } = await fake((peer) =>
      peer.send(
        concat(
          parseComplete(),
          errorResponse('ERROR', '22012', 'division by zero'),
          readyForQuery(),
          selectReply('5'),
        ),
      ),
    )
    void connection.run()
    const [a, b] = await Promise.all([client.query('select 1/0').catch((e) => e), client.query('select 5')])
    expect(a).toBeInstanceOf(DatabaseError)
    expect(a.code).toBe('22012')
    expect(b.rows).toEqual([{ n: 5 }])
  })
})
