/**
 * Whole answers compared byte for byte, for the relay's read-path tests: a reader that splits a backend stream
 * into messages and digests an answer, the same answer straight from PostgreSQL as the reference, a result
 * whose rows cross the pooled-read threshold, and a seeded random for replayable schedules.
 */
import { createHash } from 'node:crypto'
import { connect, type Socket } from 'node:net'
import { pg, trustStartup } from './helpers.ts'

/** Rows from a few bytes to ~22 KB: reads on both sides of the pooled threshold (16 KB). */
export const rowsSql = (seed: number, rows: number) =>
  `select i, repeat(md5((i + ${seed})::text), ((i * 7919 + ${seed}) % 700)) from generate_series(1, ${rows}) i`

/**
 * Splits a backend stream into messages; after the login's ReadyForQuery, every message goes into the
 * digest until `answers` more ReadyForQuery have come. Anything but an answer's message types is a
 * relayed byte out of place, and fails at once.
 */
export class AnswerReader {
  #tail: Buffer = Buffer.alloc(0)
  #isLoggedIn = false
  #left: number
  readonly digest = createHash('sha256')
  bytes = 0
  errors: string[] = []
  readonly onLogin: () => void
  readonly onDone: () => void
  constructor(answers: number, onLogin: () => void, onDone: () => void) {
    this.#left = answers
    this.onLogin = onLogin
    this.onDone = onDone
  }

  push(data: Buffer) {
    this.#tail = this.#tail.length ? Buffer.concat([this.#tail, data]) : data
    let offset = 0
    while (this.#tail.length - offset >= 5) {
      const length = this.#tail.readInt32BE(offset + 1)
      if (this.#tail.length - offset < length + 1) break
      const message = this.#tail.subarray(offset, offset + length + 1)
      offset += length + 1
      const type = String.fromCharCode(message[0]!)
      if (!this.#isLoggedIn) {
        if (type === 'Z') {
          this.#isLoggedIn = true
          this.onLogin()
        }
        continue
      }
      if (!'TDCZHdcE'.includes(type) || length < 4) {
        throw new Error(`expected an answer's message (T D C Z H d c E), found 0x${message[0]!.toString(16)}`)
      }
      if (type === 'E') this.errors.push(sqlState(message))
      this.digest.update(message)
      this.bytes += message.length
      if (type === 'Z' && --this.#left === 0) this.onDone()
    }
    this.#tail = this.#tail.subarray(offset)
  }
}

function sqlState(message: Buffer): string {
  return message
    .subarray(5)
    .toString()
    .split('\0')
    .find((field) => field.startsWith('C'))!
    .slice(1)
}

export interface Answer {
  digest: string
  bytes: number
}

/** The answer to `request` (answered by `answers` ReadyForQuery) straight from PostgreSQL: the reference. */
export function directAnswer(request: Buffer, answers = 1): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ host: pg.host, port: pg.port })
    const reader = new AnswerReader(
      answers,
      () => socket.write(request),
      () => {
        socket.destroy()
        resolve({ digest: reader.digest.digest('hex'), bytes: reader.bytes })
      },
    )
    socket.on('connect', () => socket.write(trustStartup('edgepg-answer-reference')))
    socket.on('data', (data) => reader.push(data))
    socket.on('error', reject)
  })
}

/** mulberry32: a seeded schedule, so that a failing one can be replayed. */
export function random(seed: number) {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
