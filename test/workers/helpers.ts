/** Helpers for the workers project: bundle a Worker the way wrangler does, and run it in real workerd. */
import { once } from 'node:events'
import { createServer, type Server } from 'node:net'
import { build } from 'esbuild'
import { Miniflare, type MiniflareOptions } from 'miniflare'

/** workerd's newest supported date is 2026-08-06; the Workers in this repo use this one. */
export const COMPATIBILITY_DATE = '2026-07-01'

/**
 * Bundles `entry` into one ES module for workerd: the conditions wrangler uses plus `source`, so workspace
 * packages resolve to their TypeScript sources; `cloudflare:*` stays a runtime import.
 */
export async function bundleWorker(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser', 'source'],
    mainFields: ['module', 'main'],
    external: ['cloudflare:*', 'node:*'],
    logLevel: 'silent',
  })
  return result.outputFiles[0]!.text
}

/** Starts `script` in workerd; pass `port: 0` to also listen on a real loopback port. */
export async function startWorker(
  script: string,
  options: { bindings?: Record<string, string>; port?: number; hyperdrives?: Record<string, string> } = {},
): Promise<{ mf: Miniflare; url: URL }> {
  const config: MiniflareOptions = {
    modules: true,
    script,
    compatibilityDate: COMPATIBILITY_DATE,
    cf: false,
    bindings: options.bindings ?? {},
    host: '127.0.0.1',
    ...(options.hyperdrives === undefined ? {} : { hyperdrives: options.hyperdrives }),
    ...(options.port === undefined ? {} : { port: options.port }),
  }
  const mf = new Miniflare(config)
  const url = await mf.ready
  return { mf, url }
}

/** A TCP server that only counts connections: proof of whether the relay dialed it. */
export interface Trap {
  server: Server
  port: number
  connections: number
}

export async function trap(): Promise<Trap> {
  const t: Trap = { server: createServer(), port: 0, connections: 0 }
  t.server.on('connection', (socket) => {
    t.connections++
    socket.destroy()
  })
  t.server.listen(0, '127.0.0.1')
  await once(t.server, 'listening')
  t.port = (t.server.address() as { port: number }).port
  return t
}
