/**
 * Conformance smoke for other runtimes (Deno, Bun): connect (SCRAM), a parameterised query, an error with its
 * SQLSTATE that leaves the connection usable, end. Bundled by `runtimes.test.ts` with esbuild into one .mjs and
 * run with `deno run` / `bun`; it prints one JSON line and ends by itself, or prints `{ ok: false, … }` and
 * exits 1.
 *
 * Environment: `SMOKE_URL` (postgres://… of the test server), `SMOKE_TRANSPORT` (`websocket`, `node-net`,
 * `deno-tcp`), `SMOKE_RELAY` (ws://… relay URL, for `websocket`). The URL carries a password: it is never
 * printed, and client errors never contain it.
 */
import { connect, isDatabaseError, isPgError, type Transport } from '@edgepg/client'
import { nodeSocket } from '@edgepg/client/node'
import { webSocket } from '@edgepg/client/websocket'
import { type DenoApi, denoTcp } from './deno-tcp.ts'

interface Runtime {
  name: 'deno' | 'bun' | 'node'
  version: string
  env(name: string): string | undefined
  exit(code: number): never
}

function runtime(): Runtime {
  const deno = Reflect.get(globalThis, 'Deno') as (DenoApi & { exit(code: number): never }) | undefined
  if (deno) {
    return {
      name: 'deno',
      version: deno.version.deno,
      env: (n) => deno.env.get(n),
      exit: (c) => deno.exit(c),
    }
  }
  const bun = Reflect.get(globalThis, 'Bun') as { version: string } | undefined
  return {
    name: bun ? 'bun' : 'node',
    version: bun ? bun.version : process.versions.node,
    env: (n) => process.env[n],
    exit: (c) => process.exit(c),
  }
}

function transport(rt: Runtime, kind: string): Transport {
  if (kind === 'websocket') {
    const url = rt.env('SMOKE_RELAY')
    if (!url) throw new Error('SMOKE_RELAY is not set')
    return webSocket({ url })
  }
  if (kind === 'node-net') return nodeSocket()
  if (kind === 'deno-tcp') {
    const deno = Reflect.get(globalThis, 'Deno') as DenoApi | undefined
    if (!deno) throw new Error('deno-tcp needs Deno')
    return denoTcp(deno)
  }
  throw new Error(`unknown SMOKE_TRANSPORT ${kind}: expected websocket, node-net or deno-tcp`)
}

async function smoke(rt: Runtime) {
  const url = rt.env('SMOKE_URL')
  if (!url) throw new Error('SMOKE_URL is not set')
  const kind = rt.env('SMOKE_TRANSPORT') ?? 'websocket'
  const [client, connection] = await connect(url, { transport: transport(rt, kind), connectTimeout: 10_000 })
  const done = connection.run()
  const row = await client.queryOne<{ n: number; t: string; user: string }>(
    'select $1::int + 1 as n, $2::text as t, current_user as user',
    [41, 'héllo 👋'],
  )
  const error = await client.query('select 1 / $1::int', [0]).catch((e: unknown) => e)
  const after = await client.queryOne<{ n: number }>('select 2 as n')
  await client.end()
  await done
  return {
    ok: true,
    runtime: rt.name,
    version: rt.version,
    transport: kind,
    row,
    error: isDatabaseError(error) ? { code: error.code, message: error.message } : String(error),
    after: after.n,
    state: connection.state,
  }
}

const rt = runtime()
// Nothing may hang: a stuck smoke reports and exits instead of waiting for the test's kill.
const guard = setTimeout(() => {
  console.log(JSON.stringify({ ok: false, runtime: rt.name, error: 'smoke did not finish within 15 s' }))
  rt.exit(1)
}, 15_000)
try {
  console.log(JSON.stringify(await smoke(rt)))
  // No exit(): the process must end by itself, so a timer or socket the client left open shows as a hang.
  clearTimeout(guard)
} catch (error) {
  const kind = isPgError(error) ? error.kind : undefined
  console.log(JSON.stringify({ ok: false, runtime: rt.name, kind, error: String(error) }))
  rt.exit(1)
}
