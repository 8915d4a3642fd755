import fc from 'fast-check'
import { serialize } from 'pg-protocol'
import { describe, expect, it } from 'vitest'
import {
  commandComplete,
  concat,
  cstring,
  dataRow,
  int32,
  message,
  parseComplete,
  readyForQuery,
  rowDescription,
} from '../../test/pg-bytes.ts'
import { arrowLabel, type Flight, SequenceModel } from './sequence-model.ts'
import { type Direction, WireDecoder, type WireMessage } from './wire.ts'

// Fixtures are real bytes: frontend from pg-protocol's serializer, backend from the test-only builder, read
// by the inspector's WireDecoder, so the model sees exactly what the page gives it.

/** One chunk of one direction, written or received at `at` ms. */
interface Chunk {
  direction: Direction
  at: number
  bytes: Uint8Array
}

const client = (at: number, ...parts: Uint8Array[]): Chunk => ({
  direction: 'frontend',
  at,
  bytes: concat(...parts),
})
const server = (at: number, ...parts: Uint8Array[]): Chunk => ({
  direction: 'backend',
  at,
  bytes: concat(...parts),
})

function decode(chunks: Chunk[]): WireMessage[] {
  const messages: WireMessage[] = []
  const decoder = new WireDecoder((m) => messages.push(m))
  for (const chunk of chunks) decoder.push(chunk.direction, chunk.bytes, chunk.at)
  return messages
}

function model(messages: WireMessage[], options = {}): SequenceModel {
  const sequence = new SequenceModel(options)
  for (const m of messages) sequence.add(m)
  return sequence
}

/** Each flight as `> Type, Type × N` (client) or `< …` (server). */
const outline = (flights: readonly Flight[]) =>
  flights.map((f) => `${f.direction === 'frontend' ? '>' : '<'} ${f.arrows.map(arrowLabel).join(', ')}`)

const enc = (text: string) => new TextEncoder().encode(text)
const idle = () => readyForQuery('I')
const notification = (pid: number, channel: string, payload: string) =>
  message('A', int32(pid), cstring(channel), cstring(payload))

/** A SCRAM login as the server and the client send it, then idle. */
function scramLogin(): Chunk[] {
  return [
    client(0, serialize.startup({ user: 'app', database: 'shop' })),
    server(2.1, message('R', int32(10), cstring('SCRAM-SHA-256'), [0])),
    client(2.4, serialize.sendSASLInitialResponseMessage('SCRAM-SHA-256', 'n,,n=,r=abc')),
    server(4.0, message('R', int32(11), enc('r=abcdef,s=c2FsdA==,i=4096'))),
    client(9.5, serialize.sendSCRAMClientFinalMessage('c=biws,r=abcdef,p=cHJvb2Y=')),
    server(
      11.2,
      message('R', int32(12), enc('v=c2lnbmF0dXJl')),
      message('R', int32(0)),
      message('S', cstring('server_version'), cstring('18.4')),
      message('S', cstring('TimeZone'), cstring('UTC')),
      message('S', cstring('DateStyle'), cstring('ISO, MDY')),
      message('K', int32(4242), int32(7)),
    ),
    server(11.4, idle()),
  ]
}

/** Parse/Bind/Describe/Execute for `select $1::int`, with or without its own Sync. */
function extendedQuery(value: string, withSync: boolean): Uint8Array {
  return concat(
    serialize.parse({ text: 'select $1::int as n', types: [23] }),
    serialize.bind({ values: [value] }),
    serialize.describe({ type: 'P' }),
    serialize.execute({}),
    ...(withSync ? [serialize.sync()] : []),
  )
}

/** A login without a password (trust), ending at -1 ms: the fixtures after it start at 0. */
const trustLogin = (): Chunk[] => [
  client(-3, serialize.startup({ user: 'app' })),
  server(-1, message('R', int32(0)), message('K', int32(1), int32(2)), idle()),
]

const extendedResponse = (value: string) =>
  concat(parseComplete(), message('2'), rowDescription(['n']), dataRow([value]), commandComplete('SELECT 1'))

describe('SequenceModel on captured conversations', () => {
  it('reads a SCRAM login as three round trips: startup, client-first, client-final', () => {
    const sequence = model(decode(scramLogin()))
    expect(outline(sequence.flights)).toEqual([
      '> StartupMessage',
      '< AuthenticationSASL',
      '> SASLInitialResponse',
      '< AuthenticationSASLContinue',
      '> SASLResponse',
      '< AuthenticationSASLFinal, AuthenticationOk, ParameterStatus × 3, BackendKeyData, ReadyForQuery',
    ])
    expect(sequence.roundTrips).toBe(3)
    expect(sequence.flights.map((f) => f.roundTrip)).toEqual([undefined, 1, undefined, 2, undefined, 3])
    expect(sequence.flights[5]?.latency).toBeCloseTo(11.2 - 9.5)
    expect(sequence.messages).toBe(12)
  })

  it('reads a simple query and its response as one round trip of two flights', () => {
    const sequence = model(
      decode([
        ...scramLogin(),
        client(20, serialize.query('select 1 as n')),
        server(21.5, rowDescription(['n']), dataRow(['1']), commandComplete('SELECT 1'), idle()),
      ]),
    )
    expect(outline(sequence.flights.slice(-2))).toEqual([
      '> Query',
      '< RowDescription, DataRow, CommandComplete, ReadyForQuery',
    ])
    expect(sequence.flights.at(-2)).toMatchObject({ queries: 1, count: 1 })
    expect(sequence.flights.at(-1)).toMatchObject({ roundTrip: 4, latency: 1.5, dataRows: 1 })
    expect(sequence.flights.at(-2)?.arrows[0]?.detail).toBe('select 1 as n')
    expect(sequence.roundTrips).toBe(4)
  })

  it('shows three extended queries pipelined in one client flight, answered in one round trip', () => {
    const sequence = model(
      decode([
        ...scramLogin(),
        client(
          30,
          extendedQuery('1', false),
          extendedQuery('2', false),
          extendedQuery('3', false),
          serialize.sync(),
        ),
        server(31, extendedResponse('1'), extendedResponse('2'), extendedResponse('3'), idle()),
      ]),
    )
    const [request, response] = sequence.flights.slice(-2)
    expect(request?.direction).toBe('frontend')
    expect(request?.queries).toBe(3)
    expect(request?.count).toBe(13)
    expect(outline([request!])).toEqual([
      '> Parse, Bind, Describe, Execute, Parse, Bind, Describe, Execute, Parse, Bind, Describe, Execute, Sync',
    ])
    expect(response).toMatchObject({ direction: 'backend', roundTrip: 4, dataRows: 3, count: 16 })
    expect(sequence.roundTrips).toBe(4)
  })

  it('keeps a pool-style pipeline (each query with its own Sync, written within a millisecond) in one flight', () => {
    const sequence = model(
      decode([
        ...scramLogin(),
        client(40, extendedQuery('1', true)),
        client(40.3, extendedQuery('2', true)),
        client(40.6, extendedQuery('3', true)),
        server(42, extendedResponse('1'), idle()),
        server(45, extendedResponse('2'), idle()),
        server(45.2, extendedResponse('3'), idle()),
      ]),
    )
    const flights = sequence.flights.slice(6)
    expect(flights.map((f) => [f.direction, f.count, f.queries])).toEqual([
      ['frontend', 15, 3],
      ['backend', 6, 0],
      ['backend', 12, 0],
    ])
    // The server answered in two bursts (3 ms apart): still one round trip.
    expect(sequence.roundTrips).toBe(4)
    expect(flights.map((f) => f.roundTrip)).toEqual([undefined, 4, undefined])
  })

  it('collapses a 10,000-row result arriving in many chunks into one arrow DataRow × 10000', () => {
    const rows = Array.from({ length: 10_000 }, (_, i) => dataRow([String(i)]))
    const chunks: Chunk[] = [
      ...scramLogin(),
      client(50, serialize.query('select g from generate_series(1, 10000) g')),
    ]
    chunks.push(server(51, rowDescription(['g']), ...rows.slice(0, 1000)))
    // Chunks 5 ms apart: more than a burst, but the server is in the middle of its response.
    for (let i = 1; i < 10; i++) chunks.push(server(51 + 5 * i, ...rows.slice(1000 * i, 1000 * (i + 1))))
    chunks.push(server(97, commandComplete('SELECT 10000'), idle()))
    const sequence = model(decode(chunks))
    expect(outline(sequence.flights.slice(-2))).toEqual([
      '> Query',
      '< RowDescription, DataRow × 10000, CommandComplete, ReadyForQuery',
    ])
    expect(sequence.flights.at(-1)).toMatchObject({ dataRows: 10_000, count: 10_003, at: 51, lastAt: 97 })
    expect(sequence.roundTrips).toBe(4)
  })

  it('shows a notification arriving between two queries as a server flight that answers nothing', () => {
    const sequence = model(
      decode([
        ...scramLogin(),
        client(60, serialize.query('listen jobs')),
        server(61, commandComplete('LISTEN'), idle()),
        server(500, notification(777, 'jobs', 'job 1 done')),
        server(900, notification(777, 'jobs', 'job 2 done')),
        client(1000, serialize.query('select 1')),
        server(1001, rowDescription(['?column?']), dataRow(['1']), commandComplete('SELECT 1'), idle()),
      ]),
    )
    expect(outline(sequence.flights.slice(6))).toEqual([
      '> Query',
      '< CommandComplete, ReadyForQuery',
      '< NotificationResponse',
      '< NotificationResponse',
      '> Query',
      '< RowDescription, DataRow, CommandComplete, ReadyForQuery',
    ])
    expect(sequence.flights.slice(6).map((f) => f.roundTrip)).toEqual([
      undefined,
      4,
      undefined,
      undefined,
      undefined,
      5,
    ])
    expect(sequence.flights[8]?.arrows[0]?.detail).toBe('jobs')
    expect(sequence.roundTrips).toBe(5)
  })

  it('does not count a notification that comes before the answer as the answer', () => {
    const sequence = model(
      decode([
        ...trustLogin(),
        client(0, serialize.query('select pg_sleep(1)')),
        server(10, notification(1, 'jobs', 'early')),
        server(1000, rowDescription(['pg_sleep']), dataRow(['']), commandComplete('SELECT 1'), idle()),
      ]),
    )
    expect(outline(sequence.flights.slice(2))).toEqual([
      '> Query',
      '< NotificationResponse',
      '< RowDescription, DataRow, CommandComplete, ReadyForQuery',
    ])
    expect(sequence.flights.map((f) => f.roundTrip)).toEqual([undefined, 1, undefined, undefined, 2])
    expect(sequence.flights[4]?.latency).toBe(1000)
  })

  it('keeps an ErrorResponse or a NoticeResponse and the rest of the answer after it in one flight across chunks', () => {
    const error = message('E', [0x53, ...cstring('ERROR')], [0x4d, ...cstring('syntax error')], [0])
    const notice = message('N', [0x53, ...cstring('NOTICE')], [0x4d, ...cstring('working')], [0])
    const sequence = model(
      decode([
        ...trustLogin(),
        client(0, serialize.query('do $$ begin raise notice $q$working$q$; end $$; selec 2')),
        server(10, notice),
        server(15, commandComplete('DO'), error),
        server(20, idle()),
      ]),
    )
    expect(outline(sequence.flights.slice(2))).toEqual([
      '> Query',
      '< NoticeResponse, CommandComplete, ErrorResponse, ReadyForQuery',
    ])
  })

  it('marks an ErrorResponse arrow as bad', () => {
    const sequence = model(
      decode([
        ...trustLogin(),
        client(0, serialize.query('selec 1')),
        server(1, message('E', [0x53, ...cstring('ERROR')], [0x4d, ...cstring('syntax error')], [0]), idle()),
      ]),
    )
    expect(sequence.flights[3]?.arrows.map((a) => [a.type, a.isBad, a.detail])).toEqual([
      ['ErrorResponse', true, 'syntax error'],
      ['ReadyForQuery', false, 'I (idle)'],
    ])
  })
})

describe('SequenceModel bounds', () => {
  const at = (direction: Direction, type: string, time: number): WireMessage => ({
    direction,
    type,
    length: 5,
    fields: {},
    at: time,
  })

  it('keeps the last maxFlights flights, counts the dropped ones and numbers flights since the clear', () => {
    const sequence = new SequenceModel({ maxFlights: 4 })
    for (let i = 0; i < 10; i++) sequence.add(at(i % 2 === 0 ? 'frontend' : 'backend', 'Sync', i * 10))
    expect(sequence.flights).toHaveLength(4)
    expect(sequence.dropped).toBe(6)
    expect(sequence.flights.map((f) => f.number)).toEqual([7, 8, 9, 10])
    expect(sequence.roundTrips).toBe(5)
    sequence.clear()
    expect([sequence.flights.length, sequence.dropped, sequence.messages, sequence.roundTrips]).toEqual([
      0, 0, 0, 0,
    ])
    sequence.add(at('frontend', 'Query', 0))
    expect(sequence.flights[0]?.number).toBe(1)
  })

  it('keeps maxArrows arrows of a flight and counts the messages after them', () => {
    const sequence = new SequenceModel({ maxArrows: 3 })
    for (const type of ['Parse', 'Bind', 'Execute', 'Parse', 'Bind', 'Execute', 'Execute', 'Sync'])
      sequence.add(at('frontend', type, 0))
    const [flight] = sequence.flights
    expect(flight?.arrows.map(arrowLabel)).toEqual(['Parse', 'Bind', 'Execute'])
    expect(flight).toMatchObject({ count: 8, omitted: 5, queries: 3 })
  })

  it('refuses options that cannot bound anything, saying what it found', () => {
    expect(() => new SequenceModel({ maxFlights: 0 })).toThrow(
      'maxFlights must be a positive number, found 0',
    )
    expect(() => new SequenceModel({ burstMs: Number.NaN })).toThrow(
      'burstMs must be a non-negative number, found NaN',
    )
  })
})

describe('SequenceModel on random streams', () => {
  const TYPES: Record<Direction, string[]> = {
    frontend: ['Query', 'Parse', 'Bind', 'Execute', 'Sync'],
    backend: [
      'DataRow',
      'DataRow',
      'RowDescription',
      'CommandComplete',
      'ReadyForQuery',
      'NotificationResponse',
    ],
  }
  const stream = fc
    .array(
      fc.record({
        direction: fc.constantFrom<Direction>('frontend', 'backend'),
        pick: fc.nat(),
        gap: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 4, noNaN: true })),
        length: fc.integer({ min: 5, max: 200 }),
      }),
      { maxLength: 300 },
    )
    .map((items) => {
      let time = 0
      return items.map(({ direction, pick, gap, length }): WireMessage => {
        time += gap
        const types = TYPES[direction]
        return { direction, type: types[pick % types.length]!, length, fields: {}, at: time }
      })
    })

  it('puts every message in exactly one flight and one arrow, in order, and DataRow counts add up', () => {
    fc.assert(
      fc.property(stream, (messages) => {
        const sequence = model(messages, { maxFlights: 1000, maxArrows: 1000 })
        const flights = sequence.flights
        expect(sequence.messages).toBe(messages.length)
        expect(flights.reduce((n, f) => n + f.count, 0)).toBe(messages.length)
        let next = 0
        for (const flight of flights) {
          expect(flight.first).toBe(next)
          expect(flight.omitted).toBe(0)
          let inFlight = flight.first
          for (const arrow of flight.arrows) {
            expect(arrow.first).toBe(inFlight)
            for (let i = arrow.first; i < arrow.first + arrow.count; i++) {
              expect(messages[i]?.type).toBe(arrow.type)
              expect(messages[i]?.direction).toBe(flight.direction)
            }
            inFlight += arrow.count
          }
          expect(inFlight).toBe(flight.first + flight.count)
          next += flight.count
        }
        const dataRows = messages.filter((m) => m.type === 'DataRow').length
        const arrows = flights.flatMap((f) => f.arrows)
        expect(arrows.filter((a) => a.type === 'DataRow').reduce((n, a) => n + a.count, 0)).toBe(dataRows)
        expect(flights.reduce((n, f) => n + f.dataRows, 0)).toBe(dataRows)
        // A run of one type within a flight is one arrow.
        for (const f of flights) {
          for (const [i, a] of f.arrows.entries()) if (i > 0) expect(a.type).not.toBe(f.arrows[i - 1]!.type)
        }
        // Two flights of one side in a row are more than a burst apart.
        flights.slice(1).forEach((f, i) => {
          const before = flights[i]!
          if (before.direction === f.direction) expect(f.at - before.lastAt).toBeGreaterThan(1)
        })
        expect(sequence.roundTrips).toBeLessThanOrEqual(
          flights.filter((f) => f.direction === 'frontend').length,
        )
        expect(flights.filter((f) => f.roundTrip !== undefined)).toHaveLength(sequence.roundTrips)
      }),
    )
  })

  it('keeps counting every message and flight when the bounds drop flights and arrows', () => {
    fc.assert(
      fc.property(
        stream,
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 4 }),
        (messages, maxFlights, maxArrows) => {
          const all = model(messages, { maxFlights: 1000, maxArrows: 1000 })
          const bounded = model(messages, { maxFlights, maxArrows })
          expect(bounded.flights.length).toBe(Math.min(all.flights.length, maxFlights))
          expect(bounded.dropped + bounded.flights.length).toBe(all.flights.length)
          expect(bounded.roundTrips).toBe(all.roundTrips)
          for (const [i, flight] of bounded.flights.entries()) {
            const same = all.flights[bounded.dropped + i]!
            expect(flight.arrows.length).toBeLessThanOrEqual(maxArrows)
            expect(flight.arrows.reduce((n, a) => n + a.count, 0) + flight.omitted).toBe(flight.count)
            expect([flight.number, flight.first, flight.count, flight.dataRows]).toEqual([
              same.number,
              same.first,
              same.count,
              same.dataRows,
            ])
          }
        },
      ),
    )
  })
})
