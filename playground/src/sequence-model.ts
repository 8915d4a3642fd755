/**
 * The sequence diagram's reading of the message stream (no DOM): consecutive messages one side sent in one
 * burst form a *flight*, so a round trip is one client flight and the server flight that answers it, and
 * pipelining is several queries in one client flight. Within a flight a run of messages of one type (a
 * result's DataRows, the startup's ParameterStatus) is one arrow with a count.
 *
 * Where a flight ends:
 * - the other side speaks (a server message between two client messages, or the reverse);
 * - more than `burstMs` passes between two messages of one side, except while the server is in the middle
 *   of a response (its last message was neither ReadyForQuery nor one that waits for the client): a large
 *   result arriving over many chunks stays one flight;
 * Round trips: a server flight answers the client flight before it when it carries anything but the
 * messages the server sends on its own (NotificationResponse, NoticeResponse, ParameterStatus); the
 * client flights in between count once.
 *
 * Bounded: the last `maxFlights` flights are kept (the rest counted), and at most `maxArrows` arrows per
 * flight (the messages after them counted).
 */
import type { Direction, WireMessage } from './wire.ts'

/** How flights are cut and how much is kept. */
export interface SequenceOptions {
  /** Largest gap, in ms, between two messages of one side that still counts as one burst (default 1). */
  burstMs?: number
  /** Flights kept; older ones are dropped and counted (default 200). */
  maxFlights?: number
  /** Arrows kept per flight; later messages of the flight are counted in `omitted` (default 40). */
  maxArrows?: number
}

/** A run of messages of one type within a flight: one arrow in the diagram. */
export interface Arrow {
  type: string
  /** Messages in the run (1 for most arrows; `DataRow × N`). */
  count: number
  /** Bytes of all the run's messages. */
  bytes: number
  /** Position of the run's first message in the stream since the last clear (0-based). */
  first: number
  /** When the run's first and last messages came (ms since the connection opened). */
  at: number
  lastAt: number
  /** The run's first message, summed up for a tooltip (the SQL of a Query, the tag of a CommandComplete…). */
  detail: string
  /** An ErrorResponse or an unreadable stream. */
  isBad: boolean
}

/** Consecutive messages one side sent in one burst. */
export interface Flight {
  /** 1 for the first flight since the last clear. */
  number: number
  direction: Direction
  /** Position of the flight's first message in the stream (0-based). */
  first: number
  /** Messages in the flight. */
  count: number
  bytes: number
  at: number
  lastAt: number
  arrows: Arrow[]
  /** Messages after the last kept arrow (the flight had more than `maxArrows` runs). */
  omitted: number
  /** Query and Execute messages: the statements a client flight asks for. */
  queries: number
  dataRows: number
  /** For a server flight that answers the client: which round trip it completes (1-based). */
  roundTrip?: number
  /** For such a flight: ms from the start of the client flight it answers to its first answering message. */
  latency?: number
}

/** Messages the server sends on its own, answering nothing. */
const UNSOLICITED = new Set(['NotificationResponse', 'NoticeResponse', 'ParameterStatus'])

/** Server messages after which the server waits for the client (a later server message is a new burst). */
const WAITS_FOR_CLIENT = new Set([
  'ReadyForQuery',
  'SSLResponse',
  'AuthenticationCleartextPassword',
  'AuthenticationMD5Password',
  'AuthenticationGSS',
  'AuthenticationGSSContinue',
  'AuthenticationSSPI',
  'AuthenticationSASL',
  'AuthenticationSASLContinue',
  'CopyInResponse',
  'CopyBothResponse',
  'PortalSuspended',
  // Delivered only between transactions: a later one is another burst. (A notice or an error can come in
  // the middle of an answer, with the rest of it after.)
  'NotificationResponse',
  'Unreadable',
])

/** Which field of a message says most about it, for an arrow's tooltip. */
const DETAIL_FIELD: Record<string, string> = {
  Query: 'sql',
  Parse: 'sql',
  CommandComplete: 'tag',
  ErrorResponse: 'message',
  NoticeResponse: 'message',
  NotificationResponse: 'channel',
  ReadyForQuery: 'status',
  Unreadable: 'reason',
}

const DETAIL_CHARS = 120

/** Groups a connection's messages into flights and counts its round trips. Feed it every message, in order. */
export class SequenceModel {
  readonly #burstMs: number
  readonly #maxFlights: number
  readonly #maxArrows: number
  #flights: Flight[] = []
  #dropped = 0
  #messages = 0
  #roundTrips = 0
  #lastType = ''
  /** The latest client flight no server flight has answered yet. */
  #awaiting: Flight | undefined
  #version = 0

  constructor(options: SequenceOptions = {}) {
    this.#burstMs = positive(options.burstMs ?? 1, 'burstMs', true)
    this.#maxFlights = positive(options.maxFlights ?? 200, 'maxFlights')
    this.#maxArrows = positive(options.maxArrows ?? 40, 'maxArrows')
  }

  /** The kept flights, oldest first. The last one may still grow. */
  get flights(): readonly Flight[] {
    return this.#flights
  }

  /** Flights dropped because more than `maxFlights` came. */
  get dropped(): number {
    return this.#dropped
  }

  /** Messages added since the last clear. */
  get messages(): number {
    return this.#messages
  }

  /** Client flights answered by the server since the last clear. */
  get roundTrips(): number {
    return this.#roundTrips
  }

  /** Changes with every add and clear: a view redraws when it differs from what it drew. */
  get version(): number {
    return this.#version
  }

  add(message: WireMessage): void {
    const index = this.#messages++
    this.#version++
    const flight = this.#continues(message) ? this.#flights.at(-1)! : this.#open(message, index)
    flight.count++
    flight.bytes += message.length
    flight.lastAt = message.at
    if (message.type === 'Query' || message.type === 'Execute') flight.queries++
    if (message.type === 'DataRow') flight.dataRows++
    this.#lastType = message.type
    if (message.direction === 'frontend') this.#awaiting = flight
    else if (this.#awaiting && !UNSOLICITED.has(message.type)) {
      flight.roundTrip ??= ++this.#roundTrips
      flight.latency ??= Math.max(0, message.at - this.#awaiting.at)
      this.#awaiting = undefined
    }
    const last = flight.arrows.at(-1)
    if (last && last.type === message.type && flight.omitted === 0) {
      last.count++
      last.bytes += message.length
      last.lastAt = message.at
    } else if (flight.arrows.length < this.#maxArrows) {
      flight.arrows.push({
        type: message.type,
        count: 1,
        bytes: message.length,
        first: index,
        at: message.at,
        lastAt: message.at,
        detail: detailOf(message),
        isBad: message.type === 'ErrorResponse' || message.type === 'Unreadable',
      })
    } else flight.omitted++
  }

  clear(): void {
    this.#flights = []
    this.#dropped = 0
    this.#messages = 0
    this.#roundTrips = 0
    this.#lastType = ''
    this.#awaiting = undefined
    this.#version++
  }

  /** Whether `message` belongs to the flight that is open now. */
  #continues(message: WireMessage): boolean {
    const current = this.#flights.at(-1)
    if (!current || current.direction !== message.direction) return false
    if (message.at - current.lastAt <= this.#burstMs) return true
    return message.direction === 'backend' && !WAITS_FOR_CLIENT.has(this.#lastType)
  }

  #open(message: WireMessage, index: number): Flight {
    const number = (this.#flights.at(-1)?.number ?? this.#dropped) + 1
    const flight: Flight = {
      number,
      direction: message.direction,
      first: index,
      count: 0,
      bytes: 0,
      at: message.at,
      lastAt: message.at,
      arrows: [],
      omitted: 0,
      queries: 0,
      dataRows: 0,
    }
    this.#flights.push(flight)
    if (this.#flights.length > this.#maxFlights) {
      this.#flights.shift()
      this.#dropped++
    }
    return flight
  }
}

/** Whether the server sends a message of this type on its own, answering no request. */
export function isUnsolicited(type: string): boolean {
  return UNSOLICITED.has(type)
}

/** An arrow's label: its type, and how many when it stands for more than one message. */
export function arrowLabel(arrow: Arrow): string {
  return arrow.count > 1 ? `${arrow.type} × ${arrow.count}` : arrow.type
}

function detailOf(message: WireMessage): string {
  const field = DETAIL_FIELD[message.type]
  const value = field === undefined ? undefined : message.fields[field]
  if (value === undefined) return ''
  return value.length > DETAIL_CHARS ? `${value.slice(0, DETAIL_CHARS)}…` : value
}

function positive(value: number, name: string, isZeroAllowed = false): number {
  const isValid = Number.isFinite(value) && (isZeroAllowed ? value >= 0 : value >= 1)
  if (!isValid) {
    throw new RangeError(
      `${name} must be a ${isZeroAllowed ? 'non-negative' : 'positive'} number, found ${value}`,
    )
  }
  return value
}
