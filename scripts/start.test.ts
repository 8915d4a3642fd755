/**
 * `npm start` as a child process (the real script, a real PostgreSQL, a real relay on a free port), on a
 * temporary data folder (`EDGEPG_DATA_DIR`): the database is kept across restarts, `--fresh` empties it, a
 * second start on the same folder is refused, and beyond loopback the page gets no password and the relay
 * refuses clients that bring neither an Origin nor a token; the token it prints (and scripts/relay-token.ts
 * mints) lets one in, and its printed example line runs as written.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { networkInterfaces, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { connect } from '@edgepg/client'
import { webSocket } from '@edgepg/client/websocket'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'

const script = fileURLToPath(new URL('./start.ts', import.meta.url))
const repo = fileURLToPath(new URL('..', import.meta.url))
const run$ = promisify(execFile)
const STARTED = 'Press Ctrl-C to stop.'

interface Started {
  child: ChildProcess
  output: { stdout: string; stderr: string }
  pageUrl: string
  databaseUrl: string
  exited: Promise<number | null>
}

/** Every child started, killed with its process group (PostgreSQL included) if a test left it running. */
const children = new Set<ChildProcess>()
afterAll(() => {
  for (const child of children) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {}
    }
  }
})

function run(dataDir: string, options: { host?: string; args?: string[]; port?: string } = {}) {
  const child = spawn(process.execPath, ['--conditions=source', script, ...(options.args ?? [])], {
    env: {
      ...process.env,
      DATABASE_URL: '',
      EDGEPG_DATA_DIR: dataDir,
      EDGEPG_PORT: options.port ?? '0',
      EDGEPG_HOST: options.host ?? '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, as in a terminal: Ctrl-C signals the whole group, PostgreSQL included.
    detached: true,
  })
  children.add(child)
  const output = { stdout: '', stderr: '' }
  child.stdout?.on('data', (chunk: Buffer) => {
    output.stdout += chunk.toString()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    output.stderr += chunk.toString()
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, output, exited }
}

/** Starts `npm start` and waits for its banner (killing it if it never comes). */
async function start(dataDir: string, options: { host?: string; args?: string[] } = {}): Promise<Started> {
  const { child, output, exited } = run(dataDir, options)
  const deadline = Date.now() + 90_000
  while (!output.stdout.includes(STARTED)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGKILL')
      throw new Error(`npm start did not start (exit ${child.exitCode}): ${output.stderr || output.stdout}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const pageUrl = /playground: +(\S+)\//.exec(output.stdout)?.[1]
  const databaseUrl = /DATABASE_URL=(\S+)/.exec(output.stdout)?.[1]
  if (!pageUrl || !databaseUrl) throw new Error(`no URLs in the banner: ${output.stdout}`)
  return { child, output, pageUrl, databaseUrl, exited }
}

/** Signals the script (`group`: its whole process group, as Ctrl-C in a terminal does) and waits for its exit. */
async function stop(
  started: Started,
  signal: NodeJS.Signals = 'SIGINT',
  { group = false } = {},
): Promise<number | null> {
  const pid = started.child.pid
  if (pid === undefined || started.child.exitCode !== null) return started.child.exitCode
  process.kill(group ? -pid : pid, signal)
  // Never left running: the whole group goes if it has not stopped by then.
  const timer = setTimeout(() => process.kill(-pid, 'SIGKILL'), 30_000)
  try {
    return await started.exited
  } finally {
    clearTimeout(timer)
  }
}

async function sql(databaseUrl: string, text: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    return (await client.query(text)).rows
  } finally {
    await client.end()
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  )
}

/** A temporary data folder the `postgres` user can traverse (the tests may run as root). */
async function dataFolder(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'edgepg-start-'))
  await chmod(root, 0o755)
  return root
}

/** Status of a WebSocket upgrade to the relay, for `ws` with the given Origin (none: no header at all). */
async function upgradeStatus(relayUrl: string, origin: string | undefined): Promise<number> {
  return await new Promise((resolve, reject) => {
    const socket = new WebSocket(relayUrl, origin === undefined ? {} : { origin })
    socket.on('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0)
      socket.terminate()
    })
    socket.on('upgrade', (response) => {
      resolve(response.statusCode ?? 0)
      socket.terminate()
    })
    socket.on('error', (error) => reject(error))
  })
}

/** An address of this machine that is not loopback, or `0.0.0.0` (every interface) when it has none. */
function beyondLoopbackHost(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family === 'IPv4' && !address.internal) return address.address
    }
  }
  return '0.0.0.0'
}

describe('npm start on loopback', () => {
  let root: string
  beforeAll(async () => {
    root = await dataFolder()
  })
  afterAll(async () => {
    await rm(root, { recursive: true, force: true })
  })

  it('keeps the database across a Ctrl-C and a restart, refuses a second start, and --fresh starts empty', async () => {
    const dataDir = join(root, 'pg')
    const first = await start(dataDir)
    await sql(first.databaseUrl, `create table kept (n int); insert into kept values (42)`)
    // On loopback the page is filled in, password included (only this machine reaches it).
    const config = (await (await fetch(`${first.pageUrl}/playground/config.json`)).json()) as Record<
      string,
      unknown
    >
    expect(config.password).toBe(decodeURIComponent(new URL(first.databaseUrl).password))
    expect((await stat(join(dataDir, 'secrets.json'))).mode & 0o777).toBe(0o600)

    const second = run(dataDir)
    expect(await second.exited).toBe(1)
    expect(second.output.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^npm start is already running \(pid \d+\) on .*: stop it first/),
    ])
    expect(second.output.stdout).toBe('')
    // Another data folder, the same port: refused before PostgreSQL starts, in one line.
    const port = new URL(first.pageUrl).port
    const samePort = run(join(root, 'other'), { port })
    expect(await samePort.exited).toBe(1)
    expect(samePort.output.stderr.trim().split('\n')).toEqual([
      `npm start: port ${port} on 127.0.0.1 is in use (another npm start?): stop it or set EDGEPG_PORT`,
    ])
    expect(await exists(join(root, 'other', 'pgdata'))).toBe(false)

    expect(await stop(first, 'SIGINT', { group: true })).toBe(0)
    // A clean shutdown: the postmaster removed its pid file, so the next start needs no crash recovery.
    expect(await exists(join(dataDir, 'pgdata', 'postmaster.pid'))).toBe(false)
    expect(await exists(join(dataDir, 'start.pid'))).toBe(false)

    const again = await start(dataDir)
    expect(again.databaseUrl).toBe(first.databaseUrl)
    expect(await sql(again.databaseUrl, 'select n from kept')).toEqual([{ n: 42 }])
    expect(await stop(again, 'SIGTERM')).toBe(0)
    expect(await exists(join(dataDir, 'pgdata', 'postmaster.pid'))).toBe(false)

    const fresh = await start(dataDir, { args: ['--fresh'] })
    try {
      expect(fresh.databaseUrl).not.toBe(first.databaseUrl)
      expect(await sql(fresh.databaseUrl, `select to_regclass('kept') as kept`)).toEqual([{ kept: null }])
    } finally {
      expect(await stop(fresh)).toBe(0)
    }
  }, 240_000)

  it('says so in one line when its PostgreSQL cannot start (one left running by a killed npm start)', async () => {
    const dataDir = join(root, 'orphaned')
    const first = await start(dataDir)
    // Only the Node process dies: its postmaster keeps running on the folder.
    first.child.kill('SIGKILL')
    await first.exited
    const postmaster = Number(
      (await readFile(join(dataDir, 'pgdata', 'postmaster.pid'), 'utf8')).split('\n')[0],
    )
    try {
      const second = run(dataDir)
      expect(await second.exited).toBe(1)
      expect(second.output.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(
          /^npm start: PostgreSQL exited while starting \(another postgres on .*pgdata\?/,
        ),
      ])
      expect(await exists(join(dataDir, 'start.pid'))).toBe(false)
    } finally {
      process.kill(postmaster, 'SIGINT')
    }
  }, 120_000)
})

describe('npm start beyond loopback', () => {
  let root: string
  let started: Started
  const host = beyondLoopbackHost()
  beforeAll(async () => {
    root = await dataFolder()
    started = await start(join(root, 'pg'), { host })
  }, 120_000)
  afterAll(async () => {
    if (started) await stop(started)
    await rm(root, { recursive: true, force: true })
  }, 60_000)

  // 0.0.0.0 listens everywhere: reach it through loopback.
  const reachable = (url: string) => url.replace('//0.0.0.0:', '//127.0.0.1:')

  it('serves the page its defaults without the password', async () => {
    const response = await fetch(`${reachable(started.pageUrl)}/playground/config.json`)
    const config = (await response.json()) as Record<string, unknown>
    expect(config.user).toBe('edgepg_scram')
    expect(config).not.toHaveProperty('password')
    expect(config.passwordHint).toBe('the password in DATABASE_URL (see the terminal)')
    expect(JSON.stringify(config)).not.toContain(new URL(started.databaseUrl).password)
  })

  it("refuses a relay client with no Origin and no token, admits the page's Origin", async () => {
    const target = new URL(started.databaseUrl)
    const relayUrl = `${reachable(started.pageUrl).replace(/^http/, 'ws')}/v1?address=${target.host}`
    expect(await upgradeStatus(relayUrl, undefined)).toBe(401)
    expect(await upgradeStatus(relayUrl, 'http://evil.example')).toBe(403)
    expect(await upgradeStatus(relayUrl, started.pageUrl)).toBe(101)
  })

  it('prints passwords only inside DATABASE_URL, and no other secret at all', async () => {
    const password = decodeURIComponent(new URL(started.databaseUrl).password)
    const secrets = JSON.parse(await readFile(join(root, 'pg', 'secrets.json'), 'utf8')) as {
      superuser: { password: string }
      roles: Record<string, { password: string }>
    }
    const others = [
      secrets.superuser.password,
      ...Object.values(secrets.roles).map((r) => r.password),
    ].filter((secret) => secret !== '' && secret !== password)
    expect(others.length).toBeGreaterThan(0)
    const { stdout, stderr } = started.output
    expect(stdout).toContain(`DATABASE_URL=${started.databaseUrl}`)
    for (const line of stdout.split('\n')) {
      if (line.includes(password)) expect(line).toContain(started.databaseUrl)
    }
    expect(stderr).not.toContain(password)
    for (const secret of others) expect(stdout + stderr).not.toContain(secret)
    expect(stdout).toContain('beyond loopback: the page does not get the password')
  })

  it('prints a relay token that admits a client with no Origin, and its example line runs as written', async () => {
    const token = /RELAY_TOKEN='([^']+)'/.exec(started.output.stdout)?.[1]
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/)
    const key = join(root, 'pg', 'relay-token-key.json')
    expect((await stat(key)).mode & 0o777).toBe(0o600)
    expect(started.output.stdout).not.toContain(JSON.parse(await readFile(key, 'utf8')).secret)
    const example = started.output.stdout.split('\n').find((line) => line.includes('examples/relay.ts'))
    expect(example).toMatch(/^ {2}RELAY_TOKEN='[^']+' RELAY_URL='/)
    const { stdout } = await run$('bash', ['-c', example!.trim()], { cwd: repo, timeout: 60_000 })
    expect(stdout).toContain("via: 'relay'")

    const relayUrl = /relay: +(\S+)/.exec(started.output.stdout)?.[1]
    const query = async (relayToken: string | undefined) => {
      const [client, connection] = await connect(started.databaseUrl, {
        transport: webSocket({ url: relayUrl!, token: relayToken }),
      })
      const done = connection.run()
      try {
        return (await client.query('select 7 as n')).rows
      } finally {
        await client.end()
        await done
      }
    }
    await expect(query(undefined)).rejects.toThrow(/relay refused the WebSocket upgrade/)
    await expect(query(`${token!.slice(0, -2)}xx`)).rejects.toThrow(/relay refused the WebSocket upgrade/)
    const { stdout: fresh } = await run$(
      process.execPath,
      ['--conditions=source', join(repo, 'scripts/relay-token.ts')],
      { env: { ...process.env, EDGEPG_DATA_DIR: join(root, 'pg') } },
    )
    expect(fresh.trim()).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/)
    expect(await query(fresh.trim())).toEqual([{ n: 7 }])
  }, 90_000)

  it('removes its relay-token key when it stops', async () => {
    expect(await exists(join(root, 'pg', 'relay-token-key.json'))).toBe(true)
    expect(await stop(started)).toBe(0)
    expect(await exists(join(root, 'pg', 'relay-token-key.json'))).toBe(false)
  }, 60_000)
})

describe('scripts/relay-token.ts', () => {
  it('says in one line that there is no key when npm start is not running beyond loopback', async () => {
    const root = await dataFolder()
    const failed = await run$(
      process.execPath,
      ['--conditions=source', join(repo, 'scripts/relay-token.ts')],
      {
        env: { ...process.env, EDGEPG_DATA_DIR: root },
      },
    ).catch((error: { code: number; stderr: string }) => error)
    await rm(root, { recursive: true, force: true })
    expect(failed).toMatchObject({ code: 1 })
    expect((failed as { stderr: string }).stderr.trim()).toBe(
      `relay-token: no relay-token key at ${join(root, 'relay-token-key.json')}: tokens exist only while npm start runs beyond loopback (EDGEPG_HOST)`,
    )
  })
})
