/**
 * libpq's own pipeline mode as a bench row: `pgbench -M prepared` running a script of `\startpipeline`, N
 * `select :n::int` and `\endpipeline`, on one connection. pgbench comes from Debian's `postgresql-client`; when
 * it is missing the bench installs it with apt-get as root, or says what to run and leaves the row empty.
 */
import { execFile } from 'node:child_process'
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { Endpoint } from './drivers.ts'

const run = promisify(execFile)

/** Where pgbench is, or why it is not there (the row's note). */
export type PgbenchFound = { path: string } | { missing: string }

const CANDIDATES = [
  '/usr/bin/pgbench',
  '/usr/lib/postgresql/18/bin/pgbench',
  '/usr/lib/postgresql/15/bin/pgbench',
]

/** Finds pgbench; installs `postgresql-client` with apt-get when it is missing and this runs as root. */
export async function findPgbench(log: (line: string) => void): Promise<PgbenchFound> {
  const found = await firstExisting(CANDIDATES)
  if (found) return { path: found }
  if (process.getuid?.() !== 0) {
    return { missing: 'pgbench not found: run `sudo apt-get install -y postgresql-client` for the libpq row' }
  }
  log('libpq row: pgbench is missing, installing postgresql-client with apt-get')
  try {
    await run('apt-get', ['install', '-y', '--no-install-recommends', 'postgresql-client'], {
      timeout: 300_000,
    })
  } catch (error) {
    return { missing: `pgbench not found and apt-get install postgresql-client failed: ${firstLine(error)}` }
  }
  const installed = await firstExisting(CANDIDATES)
  return installed ? { path: installed } : { missing: 'postgresql-client installed but no pgbench found' }
}

/**
 * Runs `transactions` pipelines of `perPipeline` prepared `select $1::int` on one connection and returns
 * queries per second (pgbench's tps without the initial connection time × `perPipeline`).
 */
export async function pgbenchPipeline(
  pgbench: string,
  e: Endpoint,
  options: { transactions: number; perPipeline: number },
): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'edgepg-pgbench-'))
  const script = join(dir, 'pipeline.sql')
  const lines = ['\\set n random(1, 1000000)', '\\startpipeline']
  for (let i = 0; i < options.perPipeline; i++) lines.push('select :n::int;')
  lines.push('\\endpipeline')
  await writeFile(script, `${lines.join('\n')}\n`)
  const output = run(
    pgbench,
    [
      '--no-vacuum',
      '--protocol=prepared',
      '--client=1',
      '--jobs=1',
      `--transactions=${options.transactions}`,
      `--file=${script}`,
      `--host=${e.tcp.host}`,
      `--port=${e.tcp.port}`,
      `--username=${e.user}`,
      e.database,
    ],
    { env: { ...process.env, PGPASSWORD: e.password, PGSSLMODE: 'disable' }, timeout: 120_000 },
  )
  const { stdout } = await output.finally(() => rm(dir, { recursive: true, force: true }))
  const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(stdout)?.[1]
  const processed = /number of transactions actually processed: (\d+)/.exec(stdout)?.[1]
  if (tps === undefined || Number(processed) !== options.transactions) {
    throw new Error(`pgbench gave no tps for ${options.transactions} transactions: ${stdout.slice(-300)}`)
  }
  return Number(tps) * options.perPipeline
}

async function firstExisting(paths: string[]): Promise<string | undefined> {
  for (const path of paths) {
    if (
      await access(path).then(
        () => true,
        () => false,
      )
    )
      return path
  }
  return undefined
}

const firstLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0]
