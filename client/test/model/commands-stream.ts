/**
 * Model commands that own the wire for a while: portal streams (`queryRaw`), COPY in and out, and `end()`
 * called while one of them is open with a request held behind it.
 */
import fc from 'fast-check'
import {
  check,
  clientClosed,
  expectCode,
  expectedFor,
  expectKind,
  expectTokens,
  inserted,
  type Model,
  PROMPT,
  type Real,
  serverError,
} from './state.ts'
import { clientOf, Step } from './step.ts'
import { describe, expectThat } from './tracker.ts'

export type StreamMode =
  | 'full'
  | 'partial-return'
  | 'break'
  | 'overlapping-next'
  | 'return-pending-next'
  | 'error-midway'

const STREAM_SQL = `select $1::text || ':' || i as v from generate_series(1, $2::int) i`
// Row $3 divides by zero; the rows before it arrive first.
const FAILING_STREAM_SQL =
  `select $1::text || ':' || (case when i = $3::int then (1 / (i - i))::text else i::text end) as v ` +
  `from generate_series(1, $2::int) i`

/** Streams `rows` rows of its own `batchSize` at a time and consumes them the way `mode` says. */
export class StreamCmd extends Step {
  readonly variant: string
  readonly mode: StreamMode
  readonly rows: number
  readonly batchSize: number
  readonly take: number
  constructor(mode: StreamMode, rows: number, batchSize: number, take: number) {
    super()
    this.mode = mode
    this.rows = rows
    this.batchSize = batchSize
    this.take = take
    this.variant = `stream-${mode}`
  }
  // M4 in model-findings.md: after a cancel on this client, return() on a stream can hang.
  override variantIn(m: Readonly<Model>) {
    return m.facts.hadCancel ? 'stream-after-cancel' : this.variant
  }
  protected async exec(m: Model, r: Real) {
    const client = clientOf(r)
    const t = r.token()
    const own = Array.from({ length: this.rows }, (_, i) => `${t}:${i + 1}`)
    const expected = expectedFor(m)
    const failAt = Math.max(1, Math.min(this.take + 1, this.rows))
    const stream =
      this.mode === 'error-midway'
        ? client.queryRaw<{ v: string }>(FAILING_STREAM_SQL, [t, this.rows, failAt], {
            batchSize: this.batchSize,
          })
        : client.queryRaw<{ v: string }>(STREAM_SQL, [t, this.rows], { batchSize: this.batchSize })
    const next = (label: string) => r.tracker.settle(label, stream.next(), PROMPT)
    if (expected !== 'ok') {
      check('stream next()', await next('stream next()'), expected)
      await r.tracker.settle('stream return()', stream.return!(), PROMPT)
      return
    }
    const seen: string[] = []
    switch (this.mode) {
      case 'full': {
        const all = async () => {
          for await (const row of stream) seen.push(row.v)
        }
        await r.tracker.value('stream for-await', all(), PROMPT)
        expectTokens('stream rows', seen, own)
        break
      }
      case 'partial-return':
      case 'break': {
        const take = Math.min(this.take, this.rows)
        if (this.mode === 'break') {
          const some = async () => {
            if (take === 0) return
            for await (const row of stream) {
              seen.push(row.v)
              if (seen.length >= take) break
            }
          }
          await r.tracker.value('stream for-await with break', some(), PROMPT)
          if (take === 0) await r.tracker.value('stream return()', stream.return!(), PROMPT)
        } else {
          for (let i = 0; i < take; i++) {
            const step = await r.tracker.value(`stream next() #${i}`, stream.next(), PROMPT)
            expectThat(!step.done, () => `stream next() #${i}: done before row ${i + 1} of ${this.rows}`)
            seen.push(step.value.v)
          }
          const end = await r.tracker.value('stream return()', stream.return!(), PROMPT)
          expectThat(end.done, () => 'stream return(): expected done')
        }
        expectTokens('stream rows read', seen, own.slice(0, take))
        break
      }
      case 'overlapping-next': {
        // All next() calls at once: each settles, in order, with the row it stands for, then done.
        const calls = Array.from({ length: this.rows + 1 }, (_, i) =>
          r.tracker.value(`overlapping next() #${i}`, stream.next(), PROMPT),
        )
        const steps = await Promise.all(calls)
        expectTokens(
          'overlapping next() results',
          steps.map((s) => (s.done ? 'done' : s.value.v)),
          [...own, 'done'],
        )
        break
      }
      case 'return-pending-next': {
        const pending = r.tracker.settle('next() pending at return()', stream.next(), PROMPT)
        const ending = r.tracker.settle('return() while next() is pending', stream.return!(), PROMPT)
        const [step, end] = await Promise.all([pending, ending])
        expectThat(
          step.ok,
          () => `next() pending at return(): rejected with ${describe(!step.ok && step.error)}`,
        )
        if (!step.value.done)
          expectTokens('next() pending at return()', [step.value.value.v], own.slice(0, 1))
        expectThat(end.ok && end.value.done, () => 'return() while next() is pending: expected done')
        break
      }
      case 'error-midway': {
        let failure: unknown
        const read = async () => {
          try {
            for await (const row of stream) seen.push(row.v)
          } catch (error) {
            failure = error
          }
        }
        await r.tracker.value('failing stream', read(), PROMPT)
        expectThat(
          seen.length < failAt && JSON.stringify(seen) === JSON.stringify(own.slice(0, seen.length)),
          () =>
            `failing stream: rows ${JSON.stringify(seen)} are not a prefix of its own before row ${failAt}`,
        )
        if (this.rows === 0)
          expectThat(failure === undefined, () => 'empty failing stream: no error expected')
        else {
          expectCode('failing stream', failure, '22012')
          serverError(m)
        }
        break
      }
    }
  }
  toString() {
    return `Stream(${this.mode}, ${this.rows} rows, batch ${this.batchSize}, take ${this.take})`
  }
}

export type CopyInSource = 'strings' | 'async' | 'bytes' | 'failing'

/** COPY FROM STDIN of `count` rows of this sequence; a failing source sends CopyFail and copies nothing. */
export class CopyInCmd extends Step {
  readonly variant: string
  readonly source: CopyInSource
  readonly count: number
  constructor(source: CopyInSource, count: number) {
    super()
    this.source = source
    this.count = count
    this.variant = `copy-in-${source}`
  }
  protected async exec(m: Model, r: Real) {
    const tokens = Array.from({ length: this.count }, () => r.token())
    const lines = tokens.map((t) => `${r.seq}\t${t}\n`)
    const expected = expectedFor(m)
    const sql = `copy ${r.lane.table} (seq, token) from stdin`
    const outcome = await r.tracker.settle('copyIn', clientOf(r).copyIn(sql, this.#source(lines)), PROMPT)
    if (expected !== 'ok') {
      check('copyIn', outcome, expected)
      return
    }
    if (this.source === 'failing') {
      expectThat(!outcome.ok, () => 'copyIn with a failing source: expected a rejection, it resolved')
      serverError(m)
      return
    }
    expectThat(outcome.ok, () => `copyIn: rejected with ${describe(!outcome.ok && outcome.error)}`)
    expectThat(outcome.value === this.count, () => `copyIn: ${outcome.value} rows, expected ${this.count}`)
    inserted(m, tokens)
  }
  #source(lines: string[]) {
    const encoder = new TextEncoder()
    switch (this.source) {
      case 'strings':
        return lines
      case 'async':
        return (async function* () {
          for (const line of lines) yield line
        })()
      case 'bytes': {
        // Every line split in two chunks: rows cross CopyData boundaries.
        const bytes = encoder.encode(lines.join(''))
        const cut = Math.floor(bytes.length / 2)
        return [bytes.subarray(0, cut), bytes.subarray(cut)]
      }
      case 'failing':
        return (async function* () {
          yield* lines.slice(0, 1)
          throw new Error('model copy source failed on purpose')
        })()
    }
  }
  toString() {
    return `CopyIn(${this.source}, ${this.count})`
  }
}

export type CopyOutMode = 'full' | 'cancel' | 'table' | 'failing'

/** COPY TO STDOUT: its own lines, cancelled after the first chunk, this sequence's visible rows, or 22012. */
export class CopyOutCmd extends Step {
  readonly variant: string
  readonly mode: CopyOutMode
  readonly rows: number
  constructor(mode: CopyOutMode, rows: number) {
    super()
    this.mode = mode
    this.rows = rows
    this.variant = `copy-out-${mode}`
  }
  protected async exec(m: Model, r: Real) {
    const t = r.token()
    const lane = r.lane
    const sql = {
      full: `copy (select '${t}:' || i from generate_series(1, ${this.rows}) i) to stdout`,
      cancel: `copy (select '${t}:' || i from generate_series(1, ${this.rows}) i) to stdout`,
      table: `copy (select token from ${lane.table} where seq = ${r.seq} order by token) to stdout`,
      failing: `copy (select 1 / (i - i) from generate_series(1, 2) i) to stdout`,
    }[this.mode]
    const expected = expectedFor(m)
    const started = await r.tracker.settle('copyOut', clientOf(r).copyOut(sql), PROMPT)
    if (expected !== 'ok') {
      check('copyOut', started, expected)
      return
    }
    if (this.mode === 'failing') {
      const read = started.ok
        ? await r.tracker.settle('failing copyOut read', readText(started.value), PROMPT)
        : started
      const failure = read.ok ? undefined : read.error
      expectCode('failing copyOut', failure, '22012')
      serverError(m)
      return
    }
    expectThat(started.ok, () => `copyOut: rejected with ${describe(!started.ok && started.error)}`)
    if (this.mode === 'cancel') {
      const reader = started.value.getReader()
      await r.tracker.settle('copyOut first read', reader.read(), PROMPT)
      await r.tracker.value('copyOut cancel()', reader.cancel(), PROMPT)
      return
    }
    const text = await readAll(r, started.value)
    const lines = text === '' ? [] : text.slice(0, -1).split('\n')
    const own =
      this.mode === 'table'
        ? [...m.committed, ...(m.status === 'transaction' ? m.pending : [])].sort()
        : Array.from({ length: this.rows }, (_, i) => `${t}:${i + 1}`)
    expectTokens(`copyOut (${this.mode})`, lines, own)
  }
  toString() {
    return `CopyOut(${this.mode}, ${this.rows})`
  }
}

async function readText(stream: ReadableStream<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder()
  let text = ''
  for await (const chunk of stream) text += decoder.decode(chunk, { stream: true })
  return text + decoder.decode()
}

function readAll(r: Real, stream: ReadableStream<Uint8Array>): Promise<string> {
  return r.tracker.value('copyOut read to the end', readText(stream), PROMPT)
}

export type Owner = 'stream' | 'copy'

/**
 * `end()` while a suspended portal or a COPY owns the wire, with a query held behind it (issue item 11):
 * the owner finishes, the held query gets its own answer, then Terminate; `end()` resolves.
 */
export class EndBehindCmd extends Step {
  readonly variant: string
  readonly owner: Owner
  constructor(owner: Owner) {
    super()
    this.owner = owner
    this.variant = `end-behind-${owner}`
  }
  override variantIn(m: Readonly<Model>) {
    return m.facts.hadCancel && this.owner === 'stream' ? 'stream-after-cancel' : this.variant
  }
  override allowed(m: Readonly<Model>) {
    return !m.closed && m.status !== 'failed'
  }
  protected async exec(m: Model, r: Real) {
    const client = clientOf(r)
    const t = r.token()
    const own = [1, 2, 3].map((i) => `${t}:${i}`)
    const held = r.token()
    if (this.owner === 'stream') {
      const stream = client.queryRaw<{ v: string }>(STREAM_SQL, [t, 3], { batchSize: 1 })
      const first = await r.tracker.value('stream next() before end()', stream.next(), PROMPT)
      const query = r.tracker.track(
        'held query',
        client.query<{ token: string }>('select $1::text as token', [held]),
      )
      const ending = r.tracker.settle('end() behind the stream', client.end(), PROMPT)
      const rest: string[] = [first.done ? 'done' : first.value.v]
      // The stream may finish, or stop with kind closed (end() closes the portal): never a row not its own.
      for (;;) {
        const step = await r.tracker.settle('stream next() after end()', stream.next(), PROMPT)
        if (!step.ok) {
          expectKind('stream next() after end()', step.error, ['closed'])
          break
        }
        const { done, value } = step.value
        if (done) {
          expectTokens('stream rows around end()', rest, own)
          break
        }
        rest.push(value.v)
      }
      expectTokens('stream rows around end()', rest, own.slice(0, rest.length))
      const result = await r.tracker.value('query held behind the stream', query, PROMPT)
      expectTokens('query held behind the stream', result.rows, [{ token: held }] as never)
      expectThat((await ending).ok, () => 'end() behind the stream: expected to resolve')
    } else {
      const copy = await r.tracker.value(
        'copyOut before end()',
        client.copyOut(`copy (select '${t}:' || i from generate_series(1, 3) i) to stdout`),
        PROMPT,
      )
      const query = r.tracker.track(
        'held query',
        client.query<{ token: string }>('select $1::text as token', [held]),
      )
      const ending = r.tracker.settle('end() behind the copy', client.end(), PROMPT)
      const text = await readAll(r, copy)
      expectTokens('copy rows around end()', text.slice(0, -1).split('\n'), own)
      const result = await r.tracker.value('query held behind the copy', query, PROMPT)
      expectTokens('query held behind the copy', result.rows, [{ token: held }] as never)
      expectThat((await ending).ok, () => 'end() behind the copy: expected to resolve')
    }
    clientClosed(m, r)
  }
  toString() {
    return `EndBehind(${this.owner})`
  }
}

export const streamCommands = [
  fc
    .tuple(
      fc.constantFrom<StreamMode>(
        'full',
        'partial-return',
        'break',
        'overlapping-next',
        'return-pending-next',
        'error-midway',
      ),
      fc.integer({ min: 0, max: 5 }),
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 0, max: 4 }),
    )
    .map(([mode, rows, batch, take]) => new StreamCmd(mode, rows, batch, take)),
  fc
    .tuple(
      fc.constantFrom<CopyInSource>('strings', 'async', 'bytes', 'failing'),
      fc.integer({ min: 0, max: 3 }),
    )
    .map(([source, n]) => new CopyInCmd(source, n)),
  fc
    .tuple(fc.constantFrom<CopyOutMode>('full', 'cancel', 'table', 'failing'), fc.integer({ min: 0, max: 4 }))
    .map(([mode, n]) => new CopyOutCmd(mode, n)),
]

export const endBehindCommands = [fc.constantFrom<Owner>('stream', 'copy').map((o) => new EndBehindCmd(o))]
