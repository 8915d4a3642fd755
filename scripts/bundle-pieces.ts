/**
 * What each piece of a client bundle costs (`npm run size -- --analyze`, the bench's bundle notes): the pieces
 * by source path, the attribution of a minified bundle's bytes to them through its source map, and a table.
 */
import { gzipSync } from 'node:zlib'

/**
 * The pieces of the client a bundle is made of, each by parts of its files' source paths (`'client/src/pool'`
 * is every pool file). A file no piece names is a piece of its own, so nothing is hidden. The flows name the
 * methods that bring them into the WebSocket entry.
 */
export const PIECES: ReadonlyArray<{ name: string; paths: readonly string[] }> = [
  {
    name: 'types: text decoders',
    paths: [
      'types/text.ts',
      'types/text-registry.ts',
      'types/bytes.ts',
      'types/interval-text.ts',
      'types/array.ts',
      'types/datetime.ts',
      'types/interval.ts',
      'types/oids.generated.ts',
      'types/json.ts',
    ],
  },
  {
    name: 'types: binary decoders (the registry holds them)',
    paths: ['types/binary.ts', 'types/numeric.ts'],
  },
  {
    name: 'types: registry, session settings, parameter encoding',
    paths: ['types/registry.ts', 'types/session-settings.ts', 'types/encode.ts', 'types/index.ts'],
  },
  {
    name: 'protocol: parser, decoders, UTF-8',
    paths: [
      'protocol/parser.ts',
      'protocol/decode',
      'protocol/read.ts',
      'protocol/tags.ts',
      'protocol/index.ts',
      'utf8.ts',
    ],
  },
  { name: 'protocol: writer', paths: ['protocol/writer.ts'] },
  {
    name: 'auth: SCRAM, SASLprep, channel binding',
    paths: ['auth/scram.ts', 'auth/saslprep.ts', 'auth/channel-binding.ts'],
  },
  { name: 'auth: md5', paths: ['auth/md5.ts'] },
  { name: 'auth: require_auth', paths: ['auth/require-auth.ts', 'auth/index.ts'] },
  { name: 'config: URL, key=value, object, session settings', paths: ['client/src/config.ts'] },
  { name: 'connect()', paths: ['client/src/connect.ts'] },
  { name: 'startup and authentication flow', paths: ['client/src/startup.ts'] },
  { name: 'TLS negotiation (TLS-capable transports only)', paths: ['client/src/tls.ts'] },
  {
    name: 'core: read loop, send path, request queue, wire lease',
    paths: [
      'client/src/core.ts',
      'client/src/send.ts',
      'client/src/request.ts',
      'client/src/outbox.ts',
      'client/src/wire-lease.ts',
    ],
  },
  {
    name: 'query flow: query, plan, result, checks',
    paths: [
      'client/src/query.ts',
      'client/src/plan.ts',
      'client/src/result.ts',
      'client/src/query-checks.ts',
      'client/src/copy-guard.ts',
    ],
  },
  { name: 'statement cache', paths: ['client/src/statement-cache.ts'] },
  {
    name: 'Client, Connection, errors, cancel',
    paths: [
      'client/src/client.ts',
      'client/src/connection.ts',
      'client/src/errors.ts',
      'client/src/cancel.ts',
    ],
  },
  { name: 'flow: COPY (client.copyIn/copyOut, tx.copyIn/copyOut)', paths: ['client/src/copy.ts'] },
  { name: 'flow: transaction (client.transaction/begin)', paths: ['client/src/transaction.ts'] },
  { name: 'flow: streaming (client.queryRaw)', paths: ['client/src/portal-stream.ts'] },
  { name: 'flow: prepare, Statement (client.prepare)', paths: ['client/src/prepare.ts'] },
  { name: 'flow: simple query (client.simpleQuery/batchExecute)', paths: ['client/src/simple-query.ts'] },
  { name: 'flow: batch (client.batch)', paths: ['client/src/batch.ts'] },
  {
    name: 'notifications, notices, listeners (core.side, connection.notifications)',
    paths: ['client/src/notifications.ts'],
  },
  { name: 'pool', paths: ['client/src/pool'] },
  { name: 'sqlstate names', paths: ['client/src/sqlstate.generated.ts'] },
  {
    name: 'transport: WebSocket (+ relay contract)',
    paths: ['transport/websocket.ts', 'transport/transport.ts', 'shared/'],
  },
  {
    name: 'transport: node:net, cloudflare:sockets',
    paths: ['transport/node-net.ts', 'transport/cloudflare.ts'],
  },
  { name: 'HTTP client', paths: ['client/src/http/'] },
]

/** What one piece costs in a bundle. */
export interface PieceCost {
  name: string
  /** Its bytes in the minified output. */
  minified: number
  /**
   * gzip(bundle) − gzip(bundle without its bytes): what leaving it out would save, everything else staying.
   * Text shared with other pieces is compressed once, so these do not add up to the total.
   */
  leaveOut: number
  /** Its bytes gzipped alone: an upper bound of its cost. */
  alone: number
}

/** A bundle's gzipped size and what each piece of it costs, largest first. */
export interface PieceCosts {
  gzipped: number
  pieces: PieceCost[]
}

/**
 * What each {@link PIECES} piece of a minified bundle costs, given its text and its source map: every byte is
 * given to the source of the nearest mapping at or before it (the per-file counts equal esbuild's
 * `bytesInOutput`), and each piece's bytes are cut out and the rest gzipped. Largest first.
 */
export function costOfPieces(text: string, map: string): PieceCosts {
  const { sources, mappings } = JSON.parse(map) as { sources: string[]; mappings: string }
  const owner = ownerOfEachByte(text, mappings)
  const pieceOf = sources.map((source) => {
    const path = source.replace(/^(\.\.\/)+/, '')
    return PIECES.find((piece) => piece.paths.some((part) => path.includes(part)))?.name ?? path
  })
  const bytesOf = new Map<string, number[]>()
  for (let i = 0; i < text.length; i++) {
    const name = owner[i]! < 0 ? '(esbuild runtime)' : pieceOf[owner[i]!]!
    const list = bytesOf.get(name)
    if (list) list.push(i)
    else bytesOf.set(name, [i])
  }
  const gzip = (s: string) => gzipSync(s, { level: 9 }).length
  const total = gzip(text)
  const costs: PieceCost[] = []
  for (const [name, indexes] of bytesOf) {
    const isIn = new Uint8Array(text.length)
    for (const i of indexes) isIn[i] = 1
    let without = ''
    let only = ''
    for (let i = 0; i < text.length; i++) {
      if (isIn[i]) only += text[i]
      else without += text[i]
    }
    costs.push({ name, minified: indexes.length, leaveOut: total - gzip(without), alone: gzip(only) })
  }
  return { gzipped: total, pieces: costs.sort((a, b) => b.leaveOut - a.leaveOut) }
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

/** For each character of `text`, the index of the source its nearest mapping at or before it names (-1: none). */
function ownerOfEachByte(text: string, mappings: string): Int32Array {
  const owner = new Int32Array(text.length).fill(-1)
  const lines = text.split('\n')
  const mapped = mappings.split(';')
  let source = 0
  let start = 0
  let current = -1
  for (let line = 0; line < lines.length; line++) {
    const segments: [column: number, source: number][] = []
    let column = 0
    for (const segment of mapped[line] ? mapped[line]!.split(',') : []) {
      const values: number[] = []
      let value = 0
      let shift = 0
      for (const char of segment) {
        const digit = BASE64.indexOf(char)
        value += (digit & 31) << shift
        if (digit & 32) shift += 5
        else {
          values.push(value & 1 ? -(value >>> 1) : value >>> 1)
          value = 0
          shift = 0
        }
      }
      column += values[0]!
      if (values.length > 1) {
        source += values[1]!
        segments.push([column, source])
      }
    }
    let next = 0
    for (let c = 0; c <= lines[line]!.length; c++) {
      while (next < segments.length && segments[next]![0] <= c) current = segments[next++]![1]
      owner[start + c] = current
    }
    start += lines[line]!.length + 1
  }
  return owner
}

/**
 * The pieces as a Markdown table, with the bundle's total; with `listAbsent`, then the {@link PIECES} it does
 * not contain.
 */
export function piecesTable({ gzipped, pieces: costs }: PieceCosts, listAbsent = false): string {
  const n = (value: number) => value.toLocaleString('en-US')
  const absent = PIECES.filter((piece) => !costs.some((c) => c.name === piece.name)).map((p) => p.name)
  return [
    `| piece (of ${n(gzipped)} B min+gzip) | minified B | gzip B saved if left out | gzip B alone |`,
    '|---|--:|--:|--:|',
    ...costs.map((c) => `| ${c.name} | ${n(c.minified)} | ${n(c.leaveOut)} | ${n(c.alone)} |`),
    ...(listAbsent && absent.length > 0 ? ['', `Not in this bundle (0 B): ${absent.join('; ')}.`] : []),
  ].join('\n')
}
