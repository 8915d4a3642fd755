/**
 * Row decoding. First the decoders alone: the backend bytes of one 100,000-row result of mixed types are
 * recorded once from a real PostgreSQL (the chunks as the socket delivered them), then fed to edgepg's
 * parser + row decoder (the path `client.query` takes) and to pg-protocol's Parser + pg's own Result with
 * pg-types (the path `pg` takes). Then end to end: each driver selects the same rows.
 */
import { connect as netConnect } from 'node:net'
import PgResult from 'pg/lib/result.js'
import { Parser } from 'pg-protocol/dist/parser.js'
import { type BackendMessage, BackendParser, FrontendWriter } from '../../client/src/protocol/index.ts'
import { ResultCollector, type Row } from '../../client/src/result.ts'
import { createTypeRegistry } from '../../client/src/types/index.ts'
import type { Context } from '../context.ts'
import { type DriverId, drivers } from '../drivers.ts'
import { interleave } from '../interleave.ts'
import { type Measure, row } from '../report.ts'
import { endpoint } from '../setup.ts'

export const rowsSql = (count: number) => `
select i::int4 as int4,
  i::int8 * 1000003 as int8,
  'row ' || i || ' of the result' as text,
  (i / 7.0)::numeric(14, 4) as numeric,
  timestamptz '2024-01-01 00:00:00+00' + i * interval '1 second' as timestamptz,
  jsonb_build_object('id', i, 'tag', 'tag-' || (i % 10), 'ok', i % 2 = 0) as jsonb,
  decode(lpad(to_hex(i), 8, '0') || 'cafebabe', 'hex') as bytea
from generate_series(1, ${count}) as i`

export async function decode(ctx: Context): Promise<Measure[]> {
  const count = ctx.quick ? 10_000 : 100_000
  const rounds = ctx.quick ? 2 : 5
  // Each sample decodes the result this many times over: a young-generation collection (every ~64 MB of
  // allocation) then falls inside every sample, as it does in a program that keeps decoding, instead of
  // landing in some samples and not others (which moved a one-pass figure by ±20 %).
  const passes = ctx.quick ? 1 : 4
  ctx.log(`decode: recording ${count} rows`)
  const text = await record(ctx, rowsSql(count), 0)
  const binary = await record(ctx, rowsSql(count), 1)
  const bytes = text.reduce((n, c) => n + c.length, 0)
  const copy = (chunks: Buffer[]) => chunks.map((c) => Buffer.from(c))
  checkSame(decodeEdgepg(copy(text)), decodePg(copy(text)), count)
  checkSame(decodeEdgepg(copy(binary)), decodePg(copy(text)), count)

  ctx.log(`decode: ${(bytes / 1e6).toFixed(1)} MB of backend bytes, ${rounds} rounds`)
  // pg-protocol's Parser compacts partial messages into the chunk it was given: every sample gets fresh copies.
  const rate = (chunks: Buffer[], fn: (chunks: Buffer[]) => unknown[]) => async () => {
    const copies = Array.from({ length: passes }, () => chunks.map((c) => Buffer.from(c)))
    let decodedRows = 0
    const start = process.cpuUsage()
    // Each pass's rows stay alive until the next pass starts (a program holds a result while it uses it).
    for (const pass of copies) decodedRows += fn(pass).length
    const used = process.cpuUsage(start)
    const seconds = (used.user + used.system) / 1e6
    if (decodedRows !== count * passes)
      throw new Error(`decoded ${decodedRows} rows, expected ${count * passes}`)
    return decodedRows / seconds
  }
  const decoded = await interleave(
    [
      { id: 'edgepg', run: rate(text, decodeEdgepg) },
      { id: 'pg', run: rate(text, decodePg) },
      { id: 'edgepg-binary', run: rate(binary, decodeEdgepg) },
      { id: 'frame-only', run: rate(text, frameOnly) },
      { id: 'frame-only-binary', run: rate(binary, frameOnly) },
    ],
    rounds,
  )
  const decoders: Measure = {
    id: 'decode',
    title: `Row decoding alone (${count.toLocaleString('en-US')} rows of int4, int8, text, numeric, timestamptz, jsonb, bytea)`,
    unit: 'rows/s',
    better: 'higher',
    rows: [
      row('edgepg', 'edgepg parser + RowDecoder (text results)', true, decoded.get('edgepg')!.samples),
      row('pg', 'pg-protocol Parser + pg Result (pg-types)', false, decoded.get('pg')!.samples),
      row(
        'edgepg-binary',
        'edgepg parser + RowDecoder (binary results, prepared statements)',
        true,
        decoded.get('edgepg-binary')!.samples,
      ),
      row(
        'frame-only',
        'edgepg parser alone, no value decoded (text bytes)',
        false,
        decoded.get('frame-only')!.samples,
      ),
      row(
        'frame-only-binary',
        'edgepg parser alone, no value decoded (binary bytes)',
        false,
        decoded.get('frame-only-binary')!.samples,
      ),
    ],
    limits: [
      {
        label: 'framing alone (text)',
        of: { row: 'frame-only' },
        rows: ['edgepg', 'pg'],
        why: "The same recorded bytes through edgepg's BackendParser, each DataRow kept as a message and no value decoded: what finding the rows costs before any decoder runs (CPU time, as the other rows).",
      },
      {
        label: 'framing alone (binary)',
        of: { row: 'frame-only-binary' },
        rows: ['edgepg-binary'],
        why: 'The same, on the binary-format bytes.',
      },
    ],
    compare: [
      ['edgepg', 'pg'],
      ['edgepg-binary', 'pg'],
    ],
    notes: [
      'Rates use the CPU time of this process (user + system, GC threads included), not wall time, so other load on the machine moves them less.',
      `Each sample decodes the rows ${passes} times over (fresh copies of the bytes each time), so the young-generation collections of what each decoder keeps (Date, bigint, a Uint8Array per bytea, strings, the row objects) fall inside every sample as they do in a program that keeps decoding; one pass timed alone moved by about ±20 % depending on whether a collection landed in it.`,
      `Same recorded bytes for both (${(bytes / 1e6).toFixed(1)} MB in ${text.length} socket chunks); values were checked equal before timing.`,
      "edgepg decodes int8 to bigint; pg returns int8 as a string (pg-types default). Both parse timestamptz to Date; jsonb gives JSON.parse's values (edgepg reads plain ASCII json from the bytes, pg calls JSON.parse).",
    ],
  }

  const e2eCount = ctx.quick ? 10_000 : 100_000
  const e2eRounds = ctx.quick ? 1 : 3
  const ids: DriverId[] = ['edgepg', 'pg', 'postgres.js', 'edgepg-ws', 'neon-ws']
  const e = endpoint(ctx.pg, ctx.pg.roles.scram, { relayPort: ctx.relay.port })
  ctx.log(`decode end to end: ${e2eCount} rows per driver, ${e2eRounds} rounds`)
  const sql = rowsSql(e2eCount)
  const e2e = await interleave(
    ids.map((id) => ({
      id,
      async run() {
        const conn = await drivers[id].connect(e)
        try {
          const start = performance.now()
          const rows = await conn.query(sql)
          const seconds = (performance.now() - start) / 1000
          if (rows.length !== e2eCount) throw new Error(`got ${rows.length} rows`)
          return e2eCount / seconds
        } finally {
          await conn.end()
        }
      },
    })),
    e2eRounds,
  )
  const endToEnd: Measure = {
    id: 'decode-e2e',
    title: `Select ${e2eCount.toLocaleString('en-US')} rows of mixed types, end to end`,
    unit: 'rows/s',
    better: 'higher',
    rows: ids.map((id) => {
      const r = e2e.get(id)!
      return row(id, drivers[id].label, drivers[id].isOurs, r.samples, r.note)
    }),
    compare: [
      ['edgepg', 'pg'],
      ['edgepg', 'postgres.js'],
      ['edgepg-ws', 'neon-ws'],
    ],
    notes: ['Includes PostgreSQL producing the rows (the same work for every driver).'],
  }
  return [decoders, endToEnd]
}

/** The floor of any decoder: the same bytes framed into messages by edgepg's parser, no value decoded. */
function frameOnly(chunks: Buffer[]): unknown[] {
  const parser = new BackendParser()
  const rows: unknown[] = []
  for (const chunk of chunks)
    parser.parse(chunk, (m) => {
      if (m.type === 'DataRow') rows.push(m)
    })
  return rows
}

/** Runs `sql` on a raw trust-role session and returns the response's chunks exactly as the socket gave them. */
async function record(ctx: Context, sql: string, format: 0 | 1): Promise<Buffer[]> {
  const socket = netConnect({ host: ctx.pg.host, port: ctx.pg.port, noDelay: true })
  const parser = new BackendParser()
  const chunks: Buffer[] = []
  let isRecording = false
  let onReady = () => {}
  socket.on('data', (chunk: Buffer) => {
    if (isRecording) chunks.push(chunk)
    parser.parse(chunk, (m: BackendMessage) => {
      if (m.type === 'ErrorResponse') socket.destroy(new Error(m.fields.message))
      if (m.type === 'ReadyForQuery') onReady()
    })
  })
  const ready = () =>
    new Promise<void>((resolve, reject) => {
      onReady = resolve
      socket.once('error', reject)
    })
  try {
    const startup = ready()
    const w = new FrontendWriter()
    w.startup({
      user: ctx.pg.roles.trust.user,
      database: ctx.pg.database,
      client_encoding: 'UTF8',
      DateStyle: 'ISO, MDY',
      IntervalStyle: 'postgres',
    })
    socket.write(w.finish())
    await startup
    isRecording = true
    const done = ready()
    w.parse('', sql, []).bind('', '', [], [format]).describe('P', '').execute('', 0).sync()
    socket.write(w.finish())
    await done
    return chunks
  } finally {
    socket.destroy()
  }
}

const types = createTypeRegistry()

/** edgepg's path: the framer, then the collector `client.query` uses (RowDecoder per DataRow). */
export function decodeEdgepg(chunks: Buffer[]): Row[] {
  const parser = new BackendParser()
  const collector = new ResultCollector(types)
  for (const chunk of chunks) parser.parse(chunk, (m) => void collector.accept(m))
  if (collector.error) throw collector.error
  return collector.rows
}

interface PgMessage {
  name: string
  fields: unknown[]
}

/** pg's path: pg-protocol's Parser, then pg's Result.parseRow (pg-types parsers chosen per column). */
export function decodePg(chunks: Buffer[]): Record<string, unknown>[] {
  const parser = new Parser()
  const result = new PgResult()
  for (const chunk of chunks) {
    parser.parse(chunk, (message) => {
      const m = message as unknown as PgMessage
      if (m.name === 'rowDescription') result.addFields(m.fields)
      else if (m.name === 'dataRow') result.addRow(result.parseRow(m.fields))
    })
  }
  return result.rows
}

/** Both decoders must agree on every column of the first, middle and last rows. */
function checkSame(ours: Row[], theirs: Record<string, unknown>[], count: number) {
  if (ours.length !== count || theirs.length !== count) {
    throw new Error(`row counts differ: edgepg ${ours.length}, pg ${theirs.length}, expected ${count}`)
  }
  for (const i of [0, count >> 1, count - 1]) {
    const a = normalize(ours[i]!)
    const b = normalize(theirs[i]!)
    if (a !== b) throw new Error(`row ${i} differs:\n  edgepg ${a}\n  pg     ${b}`)
  }
}

function normalize(r: Record<string, unknown>): string {
  return JSON.stringify({
    int4: r.int4,
    int8: String(r.int8),
    text: r.text,
    numeric: r.numeric,
    timestamptz: (r.timestamptz as Date).toISOString(),
    jsonb: r.jsonb,
    bytea: Buffer.from(r.bytea as Uint8Array).toString('hex'),
  })
}
