/**
 * Bundle size of what a browser or Worker imports, minified and gzipped (level 9), built in-process with
 * esbuild for the browser with the Worker/browser export conditions. Only what the entry imports is kept
 * (tree shaking), as in a real app bundle. The notes end with what each piece of edgepg's WebSocket entry
 * costs (scripts/bundle-size.ts's `pieceCosts`, on this measure's own build of that entry).
 */
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import { pieceCosts, piecesTable } from '../../scripts/bundle-size.ts'
import type { Context } from '../context.ts'
import { type Measure, row } from '../report.ts'

interface Entry {
  id: string
  label: string
  isOurs: boolean
  code: string
  conditions: string[]
}

const ENTRIES: Entry[] = [
  {
    id: 'edgepg-ws',
    label: 'edgepg: connect + webSocket',
    isOurs: true,
    code: `export { connect } from '@edgepg/client'\nexport { webSocket } from '@edgepg/client/websocket'`,
    conditions: ['source', 'worker', 'browser'],
  },
  {
    id: 'edgepg-all',
    label: "edgepg: everything in '.' + webSocket",
    isOurs: true,
    code: `export * from '@edgepg/client'\nexport { webSocket } from '@edgepg/client/websocket'`,
    conditions: ['source', 'worker', 'browser'],
  },
  {
    id: 'codec',
    label: 'edgepg protocol codec + SCRAM alone',
    isOurs: false,
    code: `export { BackendParser, FrontendWriter } from './client/src/protocol/index.ts'\nexport { startScram } from './client/src/auth/index.ts'`,
    conditions: ['source', 'worker', 'browser'],
  },
  {
    id: 'neon',
    label: "Neon: Client from '@neondatabase/serverless'",
    isOurs: false,
    code: `export { Client } from '@neondatabase/serverless'`,
    conditions: ['source', 'worker', 'browser'],
  },
  {
    id: 'postgres.js',
    label: 'postgres.js, workerd build',
    isOurs: false,
    code: `export { default } from 'postgres'`,
    conditions: ['workerd', 'worker', 'browser'],
  },
]

export async function bundleSize(ctx: Context): Promise<Measure> {
  ctx.log('bundle sizes: esbuild, minify, gzip -9')
  const rows = []
  for (const entry of ENTRIES) {
    const result = await build({
      stdin: { contents: entry.code, resolveDir: process.cwd(), loader: 'ts' },
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      conditions: entry.conditions,
      external: ['cloudflare:*', 'node:*'],
      write: false,
      logLevel: 'silent',
    })
    const code = result.outputFiles[0]!.contents
    const gzip = gzipSync(code, { level: 9 }).length
    rows.push(
      row(
        entry.id,
        entry.label,
        entry.isOurs,
        [gzip / 1024],
        `${(code.length / 1024).toFixed(1)} KB minified`,
      ),
    )
  }
  const ws = ENTRIES.find((entry) => entry.id === 'edgepg-ws')!
  const pieces = await pieceCosts(
    { name: ws.id, source: ws.code },
    { platform: 'browser', external: ['cloudflare:*', 'node:*'] },
  )
  return {
    id: 'bundle',
    title: 'Bundle size, minified + gzip',
    unit: 'KB',
    better: 'lower',
    rows,
    limits: [
      {
        label: 'the protocol codec and SCRAM alone',
        of: { row: 'codec' },
        rows: ['edgepg-ws', 'edgepg-all'],
        why: "edgepg's own BackendParser, FrontendWriter and SCRAM, bundled the same way: what any client must carry to speak PostgreSQL's protocol and log in; a client entry adds its connection, query flow and type decoders.",
      },
    ],
    compare: [
      ['edgepg-ws', 'neon'],
      ['edgepg-ws', 'postgres.js'],
    ],
    notes: [
      'esbuild, platform browser, ESM, es2022; `cloudflare:*` and `node:*` left external (postgres.js imports cloudflare:sockets).',
      'KB = 1024 bytes.',
      "edgepg's entries here are `connect` and `webSocket` only; `npm run size` (scripts/bundle-size.ts) also " +
        'exports `isPgError` and `isDatabaseError` and builds for platform neutral, so its figure differs by a few bytes.',
      `What each piece of ${ws.label} costs: the gzipped bytes the bundle would lose without it ` +
        '(shared text is compressed once, so the column does not add up to the total). Flows a `Client` or ' +
        '`Connection` method reaches stay in, since a class keeps every method:\n\n' +
        piecesTable(pieces, true),
    ],
  }
}
