/**
 * Bundle size of what a browser or Worker imports, minified and gzipped (level 9), built in-process with
 * esbuild for the browser with the Worker/browser export conditions. Only what the entry imports is kept
 * (tree shaking), as in a real app bundle.
 */
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
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
  return {
    id: 'bundle',
    title: 'Bundle size, minified + gzip',
    unit: 'KB',
    better: 'lower',
    rows,
    compare: [
      ['edgepg-ws', 'neon'],
      ['edgepg-ws', 'postgres.js'],
    ],
    notes: [
      'esbuild, platform browser, ESM, es2022; `cloudflare:*` and `node:*` left external (postgres.js imports cloudflare:sockets).',
      'KB = 1024 bytes.',
    ],
  }
}
