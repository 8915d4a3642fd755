/**
 * `npm run fuzz [-- --inputs N --seed S --only I]`: feeds seeded random inputs to the backend parser (arbitrary
 * bytes, and mutations of a valid stream holding every message type, cut into random chunks) and to every
 * text and binary type decoder (arbitrary bytes, and mutations of valid values of every type). The only
 * errors allowed are PgErrors of kind `protocol` or `encode`; each input must finish within a time bound and
 * the heap must stay bounded. Input `i` is made from (seed, i) alone, so `--only i` replays it.
 * Prints inputs, time, peak heap and each failure (target, input index, bytes); exits 1 on any failure.
 */
import { parseArgs } from 'node:util'
import { isPgError } from '../client/src/errors.ts'
import { everyMessage } from '../client/src/protocol/all-messages.fixture.ts'
import type { BackendMessage } from '../client/src/protocol/messages.ts'
import { BackendParser } from '../client/src/protocol/parser.ts'
import { RowDecoder } from '../client/src/result.ts'
import { arrayElementOid, Oid } from '../client/src/types/oids.generated.ts'
import { createTypeRegistry } from '../client/src/types/registry.ts'

const { values: args } = parseArgs({
  options: {
    inputs: { type: 'string', default: '1000000' },
    seed: { type: 'string', default: '20261201' },
    only: { type: 'string' },
    'max-ms': { type: 'string', default: '1000' },
    'max-heap-mb': { type: 'string', default: '1024' },
  },
})
const INPUTS = Number(args.inputs)
const SEED = Number(args.seed) >>> 0
const MAX_MS = Number(args['max-ms'])
const MAX_HEAP = Number(args['max-heap-mb']) * 1024 * 1024

/** mulberry32: small, fast, good enough to pick mutations. */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
type Random = ReturnType<typeof rng>
const int = (r: Random, n: number) => Math.floor(r() * n)
const pick = <T>(r: Random, items: readonly T[]): T => items[int(r, items.length)]!

// ---- seeds ------------------------------------------------------------------------------------------------

const utf8 = new TextEncoder()
const validStream = Uint8Array.from(everyMessage.flatMap(([bytes]) => bytes))
const messages = everyMessage.map(([bytes]) => Uint8Array.from(bytes))

/** Valid text values of every kind the decoders read (as PostgreSQL prints them), and near misses. */
const textSeeds = [
  't',
  'f',
  '0',
  '-1',
  '32767',
  '-2147483648',
  '4294967295',
  '-9223372036854775808',
  '9223372036854775807',
  '1.5',
  '-0',
  'NaN',
  'Infinity',
  '-Infinity',
  '900.7199254740993',
  '1e+308',
  '5e-324',
  '1.17549435e-38',
  '12345678901234567890.000000000123456789',
  '2024-02-29',
  '0044-03-15 BC',
  'infinity',
  '-infinity',
  '2024-02-29 13:04:05.123456',
  '2024-02-29 13:04:05.123456+05:30',
  '1900-01-01 00:00:00-03:06:28',
  '0044-03-15 12:00:00+00 BC',
  '294276-12-31 23:59:59.999999',
  '275760-09-13 05:30:00+05:30',
  '1 year 2 mons -3 days +04:05:06.789',
  '-00:00:01',
  '00:00:00',
  '@ 1 year 2 mons 3 days 4 hours 5 mins 6.789 secs ago',
  '@ 0',
  '+1-2 -3 +4:05:06.789',
  '-1-2',
  '-3 4:05:06',
  '0',
  'P1Y2M-3DT4H5M6.789S',
  'PT-0.5S',
  'PT0S',
  '2562047788:00:54.775807',
  '{}',
  '{1,2,NULL,3}',
  '{{1,2},{3,4}}',
  '[0:1]={7,8}',
  '{"a b","","NULL",NULL,"\\\\","\\""}',
  '{(0,0),(1,1);(2,2),(3,3)}',
  '{"2024-02-29 13:04:05+00",infinity}',
  '{{{{{{1}}}}}}',
  '{"{\\"a\\":1}",null}',
  '\\x',
  '\\x00ff10',
  'a\\\\b\\001',
  '{"a":[1,2,{"b":null}]}',
  '"s"',
  'null',
  '[1e400]',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  '\\303',
  '',
  'héllo 😀',
  '\uFEFFbom',
  '(1.5,2)',
].map((s) => utf8.encode(s))

const be = (n: number, bytes: number) => {
  const out = new Uint8Array(bytes)
  let v = BigInt.asUintN(bytes * 8, BigInt(n))
  for (let i = bytes - 1; i >= 0; i--, v >>= 8n) out[i] = Number(v & 0xffn)
  return out
}
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}
const f64 = (x: number) => new Uint8Array(new Float64Array([x]).buffer).reverse()
const f32 = (x: number) => new Uint8Array(new Float32Array([x]).buffer).reverse()

/** A valid binary value of `oid` (for the types edgepg decodes in binary), else some bytes. */
function binarySeed(r: Random, oid: number): Uint8Array {
  const element = arrayElementOid[oid]
  if (element !== undefined) {
    // array_send: ndim, has-nulls, element oid, (length, lower bound) per dimension, then elements
    const count = int(r, 4)
    const items = Array.from({ length: count }, () =>
      r() < 0.2 ? be(-1, 4) : ((v) => concat(be(v.length, 4), v))(binarySeed(r, element)),
    )
    return concat(be(1, 4), be(0, 4), be(element, 4), be(count, 4), be(1, 4), ...items)
  }
  switch (oid) {
    case Oid.bool:
    case Oid.char:
      return Uint8Array.of(int(r, 256))
    case Oid.int2:
      return be(int(r, 65536), 2)
    case Oid.int4:
    case Oid.oid:
    case Oid.date:
      return be(pick(r, [0, 8777, -1, 0x7fffffff, -0x80000000, -2451545, 2145031948]), 4)
    case Oid.int8:
    case Oid.timestamp:
    case Oid.timestamptz:
      return pick(r, [
        be(0, 8),
        be(-1, 8),
        f64(r() * 1e18),
        Uint8Array.of(0x7f, 0xff, 0xff, 0x5b, 0xb3, 0xa3, 0x5d, 0xc0),
      ])
    case Oid.float4:
      return f32(pick(r, [1.1, Number.NaN, -0, 3.4e38, 1e-45]))
    case Oid.float8:
      return f64(pick(r, [0.1, Number.NaN, -0, Number.POSITIVE_INFINITY, 5e-324]))
    case Oid.interval:
      return concat(f64(r() * 1e15), be(int(r, 100) - 50, 4), be(int(r, 100) - 50, 4))
    case Oid.uuid:
      return Uint8Array.from({ length: 16 }, () => int(r, 256))
    case Oid.numeric: {
      const digits = Array.from({ length: int(r, 4) }, () => be(int(r, 10000), 2))
      return concat(
        be(digits.length, 2),
        be(int(r, 5) - 2, 2),
        be(pick(r, [0, 0x4000, 0xc000, 0xd000, 0xf000]), 2),
        be(int(r, 8), 2),
        ...digits,
      )
    }
    case Oid.jsonb:
      return concat(Uint8Array.of(1), pick(r, textSeeds))
    default:
      return pick(r, textSeeds)
  }
}

// ---- mutations --------------------------------------------------------------------------------------------

const INTERESTING_BYTES = [
  0, 1, 0x7f, 0x80, 0xff, 0x20, 0x22, 0x2b, 0x2c, 0x2d, 0x2e, 0x3a, 0x40, 0x50, 0x54, 0x5c, 0x7b, 0x7d, 0x65,
  0x69,
]
const INTERESTING_INT32 = [
  0, 1, -1, 2, 4, 6, 7, 0x7fff, 0xffff, 30000, 30001, 0x7fffffff, -0x80000000, 0x10000000,
]

function randomBytes(r: Random, length: number): Uint8Array {
  return Uint8Array.from({ length }, () => (r() < 0.3 ? pick(r, INTERESTING_BYTES) : int(r, 256)))
}

function mutate(r: Random, input: Uint8Array, other: () => Uint8Array): Uint8Array {
  let bytes = Uint8Array.from(input)
  const rounds = 1 + int(r, 4)
  for (let n = 0; n < rounds; n++) {
    const at = int(r, bytes.length + 1)
    switch (int(r, 8)) {
      case 0: // flip a bit
        if (bytes.length > 0) bytes[at % bytes.length]! ^= 1 << int(r, 8)
        break
      case 1: // set an interesting byte
        if (bytes.length > 0) bytes[at % bytes.length] = pick(r, INTERESTING_BYTES)
        break
      case 2: // overwrite an int32 (a length, a count, a dimension)
        if (bytes.length >= 4) bytes.set(be(pick(r, INTERESTING_INT32), 4), int(r, bytes.length - 3))
        break
      case 3: // insert random bytes
        bytes = concat(bytes.subarray(0, at), randomBytes(r, 1 + int(r, 8)), bytes.subarray(at))
        break
      case 4: // delete a range
        bytes = concat(bytes.subarray(0, at), bytes.subarray(at + 1 + int(r, 8)))
        break
      case 5: // duplicate a range
        bytes = concat(bytes.subarray(0, at), bytes.subarray(at, at + int(r, 16)), bytes.subarray(at))
        break
      case 6: // truncate
        bytes = bytes.subarray(0, at)
        break
      default: // splice with another input
        bytes = concat(bytes.subarray(0, at), other().subarray(int(r, 8)))
    }
  }
  return bytes
}

// ---- targets ----------------------------------------------------------------------------------------------

const registries = [createTypeRegistry(), createTypeRegistry({ dates: 'string' })]
const oids = [...new Set([...Object.values(Oid), 0, 99999])]
const decodedOids = oids.filter((oid) => registries[0]!.binary(oid) !== undefined)

/** An allowed failure: a PgError of kind protocol or encode. Anything else is a finding. */
function isAllowed(error: unknown): boolean {
  return isPgError(error, 'protocol') || isPgError(error, 'encode')
}

interface Input {
  target: string
  bytes: Uint8Array
  run(): void
}

function parserInput(r: Random): Input {
  const bytes =
    r() < 0.25
      ? randomBytes(r, int(r, 64) + (r() < 0.5 ? 0 : int(r, 512)))
      : mutate(
          r,
          r() < 0.5 ? validStream : concat(...Array.from({ length: 1 + int(r, 6) }, () => pick(r, messages))),
          () => pick(r, messages),
        )
  const cuts = [
    0,
    ...Array.from({ length: int(r, 5) }, () => int(r, bytes.length + 1)).sort((a, b) => a - b),
    bytes.length,
  ]
  const fields = Array.from({ length: int(r, 4) }, (_, i) => ({
    name: `c${i}`,
    tableOid: 0,
    columnId: 0,
    typeOid: pick(r, oids),
    typeSize: -1,
    typeModifier: -1,
    format: int(r, 2),
  }))
  return {
    target: 'backend parser',
    bytes,
    run() {
      const parser = new BackendParser()
      const rows = new RowDecoder(fields, registries[0]!)
      const emit = (message: BackendMessage) => {
        if (message.type !== 'DataRow') return
        try {
          rows.decode(message)
        } catch (error) {
          if (!isAllowed(error)) throw error
        }
      }
      for (let i = 1; i < cuts.length; i++) parser.parse(bytes.subarray(cuts[i - 1], cuts[i]), emit)
      parser.end()
    },
  }
}

function decoderInput(r: Random): Input {
  const registry = pick(r, registries)
  const isBinary = r() < 0.5
  const oid = isBinary ? pick(r, decodedOids) : pick(r, oids)
  const seed = () =>
    isBinary ? binarySeed(r, pick(r, [oid, oid, pick(r, decodedOids)])) : pick(r, textSeeds)
  const bytes = r() < 0.2 ? randomBytes(r, int(r, 48)) : r() < 0.15 ? seed() : mutate(r, seed(), seed)
  const decoder = isBinary ? registry.binaryRange(oid) : registry.textRange(oid)
  // the value in the middle of a larger buffer, as in a DataRow: a decoder must not read past its end
  const before = randomBytes(r, int(r, 4))
  const framed = concat(before, bytes, randomBytes(r, int(r, 4)))
  return {
    target: `${isBinary ? 'binary' : 'text'} decoder for oid ${oid}`,
    bytes,
    run() {
      decoder?.(framed, before.length, before.length + bytes.length)
    },
  }
}

// ---- run --------------------------------------------------------------------------------------------------

interface Failure {
  index: number
  target: string
  bytes: string
  error: string
}

const failures: Failure[] = []
const counts = new Map<string, number>()
let slowest = { ms: 0, index: -1, target: '' }
let peakHeap = 0
const started = performance.now()
const indices = args.only === undefined ? { length: INPUTS } : undefined

function runOne(index: number) {
  const r = rng(SEED ^ Math.imul(index + 1, 0x9e3779b1))
  const input = r() < 0.35 ? parserInput(r) : decoderInput(r)
  const kind = input.target.startsWith('backend') ? 'parser' : input.target.split(' ')[0]!
  counts.set(kind, (counts.get(kind) ?? 0) + 1)
  const t0 = performance.now()
  try {
    input.run()
  } catch (error) {
    if (!isAllowed(error)) {
      failures.push({
        index,
        target: input.target,
        bytes: Buffer.from(input.bytes.subarray(0, 200)).toString('hex'),
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      })
    }
  }
  const ms = performance.now() - t0
  if (ms > slowest.ms) slowest = { ms, index, target: input.target }
  if (ms > MAX_MS)
    failures.push({
      index,
      target: input.target,
      bytes: Buffer.from(input.bytes.subarray(0, 200)).toString('hex'),
      error: `took ${ms.toFixed(0)} ms`,
    })
}

if (indices === undefined) {
  runOne(Number(args.only))
} else {
  for (let i = 0; i < INPUTS; i++) {
    runOne(i)
    if (i % 10000 === 0) {
      peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)
      if (i % 100000 === 0 && i > 0)
        console.log(
          `${i} inputs, ${((performance.now() - started) / 1000).toFixed(1)} s, ${failures.length} failures`,
        )
    }
  }
}
peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)
const seconds = (performance.now() - started) / 1000
const heapMb = peakHeap / 1024 / 1024
if (peakHeap > MAX_HEAP)
  failures.push({ index: -1, target: 'heap', bytes: '', error: `peak heap ${heapMb.toFixed(0)} MiB` })

console.log(
  `seed ${SEED}: ${args.only ?? INPUTS} inputs in ${seconds.toFixed(1)} s (${[...counts].map(([k, n]) => `${k} ${n}`).join(', ')})`,
)
console.log(
  `slowest input: ${slowest.ms.toFixed(1)} ms (#${slowest.index}, ${slowest.target}); peak heap ${heapMb.toFixed(0)} MiB`,
)
console.log(`${failures.length} failures`)
const byKind = new Map<string, Failure[]>()
for (const f of failures) {
  const key = `${f.target.replace(/ \d+$/, '')}: ${f.error.replace(/\d+/g, 'N').slice(0, 80)}`
  byKind.set(key, [...(byKind.get(key) ?? []), f])
}
for (const [key, list] of byKind) {
  const f = list[0]!
  console.log(
    `- ${list.length}× ${key}\n  first: --only ${f.index} (${f.target}) ${f.error}\n  bytes: ${f.bytes}`,
  )
}
process.exitCode = failures.length > 0 ? 1 : 0
