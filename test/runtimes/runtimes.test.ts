// Runtime reach: the smoke (connect, query, error, end) on Deno and on Bun, through the relay and over TCP.
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))
const server = inject('pg')
const role = server.roles.scram
const url = `postgres://${role.user}:${encodeURIComponent(role.password)}@${server.host}:${server.port}/${server.database}`

let dir: string
let script: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edgepg-runtimes-'))
  script = join(dir, 'smoke.mjs')
  // One plain ESM file: both runtimes run it without resolving workspace packages or TypeScript sources.
  await build({
    entryPoints: [join(root, 'test/runtimes/smoke.ts')],
    outfile: script,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'es2022',
    conditions: ['source'],
    logLevel: 'silent',
  })
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const runtimes = {
  deno: {
    command: join(root, 'node_modules/.bin/deno'),
    // --no-config/--no-lock/--no-remote/--no-npm: nothing is looked up or downloaded; loopback only.
    args: (file: string) => [
      'run',
      '--quiet',
      '--no-prompt',
      '--no-config',
      '--no-lock',
      '--no-remote',
      '--no-npm',
      '--allow-net=127.0.0.1',
      '--allow-env',
      '--allow-read',
      file,
    ],
    transports: ['websocket', 'node-net', 'deno-tcp'],
  },
  bun: {
    command: join(root, 'node_modules/.bin/bun'),
    args: (file: string) => ['--no-install', 'run', file],
    transports: ['websocket', 'node-net'],
  },
} as const

interface SmokeResult {
  ok: boolean
  runtime: string
  transport: string
  row: { n: number; t: string; user: string }
  error: { code: string; message: string }
  after: number
  state: string
}

async function runSmoke(
  name: keyof typeof runtimes,
  transport: string,
): Promise<{ result: SmokeResult; stdout: string; stderr: string }> {
  const { command, args } = runtimes[name]
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    DENO_DIR: join(dir, 'deno'),
    DENO_NO_UPDATE_CHECK: '1',
    BUN_INSTALL_CACHE_DIR: join(dir, 'bun'),
    NO_COLOR: '1',
    SMOKE_URL: url,
    SMOKE_RELAY: inject('relayUrl'),
    SMOKE_TRANSPORT: transport,
  }
  const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
    execFile(command, args(script), { cwd: dir, env, timeout: 20_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${name} ${transport} failed (${error.message}):\n${stdout}\n${stderr}`))
      else resolve({ stdout, stderr })
    })
  })
  const line = stdout.trim().split('\n').at(-1) ?? ''
  return { result: JSON.parse(line) as SmokeResult, stdout, stderr }
}

for (const name of ['deno', 'bun'] as const) {
  describe(`on ${name}`, () => {
    for (const transport of runtimes[name].transports) {
      it(`connects with SCRAM over ${transport}, queries, reports 22012 and ends by itself`, async () => {
        const { result, stdout, stderr } = await runSmoke(name, transport)
        expect(result).toMatchObject({
          ok: true,
          runtime: name,
          transport,
          row: { n: 42, t: 'héllo 👋', user: role.user },
          error: { code: '22012' },
          after: 2,
          state: 'closed',
        })
        expect(result.error.message).toMatch(/division by zero/)
        expect(stdout + stderr).not.toContain(role.password)
      })
    }
  })
}
