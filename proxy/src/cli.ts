#!/usr/bin/env node
/**
 * `edgepg-relay`: run the relay, or mint a token. Every setting is a flag or an `EDGEPG_*` environment
 * variable (flags win); secrets are best given by environment. A bad setting stops start-up with a message
 * that names it.
 */
import { parseArgs } from 'node:util'
import { ConfigError, type RelayConfig } from './config.ts'
import { type RelaunchProcess, relaunchWithRelayFlags } from './node-flags.ts'
import { mintToken } from './policy/index.ts'
import { startRelay } from './runtime/node.ts'

const NUMBERS = {
  port: 'port',
  'max-connections': 'maxConnections',
  'max-connections-per-ip': 'maxConnectionsPerIp',
  'max-connections-per-token': 'maxConnectionsPerToken',
  'ipv6-prefix-length': 'ipv6PrefixLength',
  'max-payload': 'maxPayload',
  'high-water-mark': 'highWaterMark',
  'pipeline-pacing': 'pipelinePacing',
  'startup-timeout': 'startupTimeout',
  'connect-timeout': 'connectTimeout',
  'idle-timeout': 'idleTimeout',
  'ping-interval': 'pingInterval',
  'max-lifetime': 'maxLifetime',
  'headers-timeout': 'headersTimeout',
  'shutdown-grace': 'shutdownGrace',
  'sql-timeout': 'sqlTimeout',
  'sql-max-request-bytes': 'sqlMaxRequestBytes',
  'sql-max-response-bytes': 'sqlMaxResponseBytes',
  'sql-pool-max-per-key': 'sqlPoolMaxPerKey',
  'sql-pool-max': 'sqlPoolMax',
  'sql-pool-idle-timeout': 'sqlPoolIdleTimeout',
  'sql-pool-acquire-timeout': 'sqlPoolAcquireTimeout',
  'sql-pool-max-waiting': 'sqlPoolMaxWaiting',
} as const satisfies Record<string, keyof RelayConfig>

const HELP = `edgepg-relay: a WebSocket → PostgreSQL relay with an allowlist policy

Usage:
  edgepg-relay [options]                      run the relay
  edgepg-relay token --target NAME [--ttl S]  print a signed token (secret from EDGEPG_TOKEN_SECRETS)

Options (each also an environment variable: --max-payload → EDGEPG_MAX_PAYLOAD; lists are comma-separated):
  --host ADDR                  listen address (127.0.0.1)
  --port N                     listen port (8080)
  --allow RULE                 allowlist rule, repeatable: host:port, [v6]:port, CIDR:port, CIDR:*
  --target NAME=HOST:PORT      a named target for ?target=NAME, repeatable
  --allow-private              do not block private/loopback ranges by range (the allowlist still applies)
  --token-secrets S1,S2        HMAC secrets (≥ 32 chars; first signs, any verifies); prefer the env variable
  --require-token              refuse sessions without a valid token (default when secrets are set)
  --token-audience AUD         expected aud claim
  --origin ORIGIN              allowed Origin, repeatable (exact match)
  --allow-missing-origin MODE  with-token (default) | always | never
  --max-connections N          sessions open at once (10000)
  --max-connections-per-ip N   (100)      --max-connections-per-token N (20)
  --ipv6-prefix-length N       the per-IP limit counts an IPv6 client per /N network, 1 to 128 (64)
  --max-payload BYTES          largest WebSocket message (1048576)
  --high-water-mark BYTES      buffered bytes per direction before pausing the other side (1048576)
  --pipeline-pacing MS         hold a pipeline's stream of short answers this long per frame, 0 = off (1)
  --startup-timeout MS (10000)  --connect-timeout MS (5000)  --idle-timeout MS (300000)
  --ping-interval MS (30000)    --max-lifetime MS (0 = none)  --headers-timeout MS (10000)
  --shutdown-grace MS (10000)   --log-level LEVEL (info)
  --trust-proxy                behind one reverse proxy: client IP = the last X-Forwarded-For entry
  --metrics-token T            serve /metrics only with Authorization: Bearer T; prefer the env variable

HTTP queries (POST /sql, Neon-compatible; pooled connections to PostgreSQL):
  --no-sql                     do not serve /sql (EDGEPG_SQL=false)
  --behind-tls                 a TLS proxy is in front: accept /sql credentials from non-loopback peers
  --sql-timeout MS (15000)     deadline per request; the statement is cancelled on the server
  --sql-max-request-bytes BYTES (1048576)   --sql-max-response-bytes BYTES (10485760)
  --sql-pool-max-per-key N (10)  --sql-pool-max N (100)  --sql-pool-max-waiting N (1000)
  --sql-pool-idle-timeout MS (60000)  --sql-pool-acquire-timeout MS (5000)
  --help
`

export function parseCli(argv: string[], env: Record<string, string | undefined>): Partial<RelayConfig> {
  const options = {
    help: { type: 'boolean' },
    host: { type: 'string' },
    allow: { type: 'string', multiple: true },
    target: { type: 'string', multiple: true },
    'allow-private': { type: 'boolean' },
    'token-secrets': { type: 'string' },
    'require-token': { type: 'boolean' },
    'token-audience': { type: 'string' },
    origin: { type: 'string', multiple: true },
    'allow-missing-origin': { type: 'string' },
    'trust-proxy': { type: 'boolean' },
    'log-level': { type: 'string' },
    'metrics-token': { type: 'string' },
    'no-sql': { type: 'boolean' },
    'behind-tls': { type: 'boolean' },
    ...Object.fromEntries(Object.keys(NUMBERS).map((k) => [k, { type: 'string' }])),
  } as const
  let values: Record<string, string | string[] | boolean | undefined>
  try {
    values = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as typeof values
  } catch (error) {
    throw new ConfigError('arguments', (error as Error).message)
  }
  const get = (flag: string): string | string[] | boolean | undefined => {
    if (values[flag] !== undefined) return values[flag]
    const fromEnv = env[`EDGEPG_${flag.toUpperCase().replaceAll('-', '_')}`]
    if (fromEnv === undefined) return undefined
    return options[flag as keyof typeof options]?.type === 'boolean'
      ? fromEnv === 'true' || fromEnv === '1'
      : fromEnv
  }
  const list = (flag: string) => {
    const value = get(flag)
    if (value === undefined) return undefined
    const items = Array.isArray(value) ? value : String(value).split(',')
    return items.map((s) => s.trim()).filter(Boolean)
  }
  const config: Partial<RelayConfig> = {
    host: get('host') as string | undefined,
    allow: list('allow'),
    allowPrivate: get('allow-private') as boolean | undefined,
    tokenSecrets: list('token-secrets'),
    requireToken: get('require-token') as boolean | undefined,
    tokenAudience: get('token-audience') as string | undefined,
    allowedOrigins: list('origin'),
    allowMissingOrigin: get('allow-missing-origin') as RelayConfig['allowMissingOrigin'] | undefined,
    trustProxy: get('trust-proxy') as boolean | undefined,
    logLevel: get('log-level') as RelayConfig['logLevel'] | undefined,
    metricsToken: get('metrics-token') as string | undefined,
    behindTls: get('behind-tls') as boolean | undefined,
    sql: values['no-sql'] === true ? false : booleanEnv(env, 'EDGEPG_SQL'),
  }
  const targets = list('target')
  if (targets) {
    config.targets = {}
    for (const entry of targets) {
      const match = /^([\w.-]+)=(.+):(\d+)$/.exec(entry)
      if (!match) throw new ConfigError('target', `"${entry}" is not NAME=HOST:PORT`)
      config.targets[match[1]!] = { host: match[2]!.replace(/^\[(.*)\]$/, '$1'), port: Number(match[3]) }
    }
  }
  for (const [flag, key] of Object.entries(NUMBERS)) {
    const value = get(flag)
    if (value === undefined) continue
    const n = Number(value)
    if (!Number.isFinite(n) || String(value).trim() === '')
      throw new ConfigError(key, `"${value}" is not a number`)
    ;(config as Record<string, unknown>)[key] = n
  }
  return config
}

/** A boolean environment variable: true/1, false/0, or unset; anything else stops start-up. */
function booleanEnv(env: Record<string, string | undefined>, name: string): boolean | undefined {
  const value = env[name]?.trim().toLowerCase()
  if (value === undefined || value === '') return undefined
  if (value === 'true' || value === '1') return true
  if (value === 'false' || value === '0') return false
  throw new ConfigError(name, `expected true or false, found "${env[name]}"`)
}

async function main(argv: string[]) {
  if (argv[0] === 'token') return printToken(argv.slice(1))
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(HELP)
    return
  }
  // Once, before anything is allocated: the relay's V8 flags (./node-flags.ts), then this same command again.
  relaunchWithRelayFlags(process as unknown as RelaunchProcess)
  const relay = await startRelay(parseCli(argv, process.env))
  process.stdout.write(`edgepg relay listening on ${relay.wsUrl}\n`)
  if (relay.config.sql) process.stdout.write(`HTTP queries (POST) on ${relay.url}/sql\n`)
  const stop = async (signal: string) => {
    process.stdout.write(`${signal}: draining sessions\n`)
    await relay.shutdown()
    process.exit(0)
  }
  process.once('SIGTERM', () => void stop('SIGTERM'))
  process.once('SIGINT', () => void stop('SIGINT'))
}

async function printToken(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: { target: { type: 'string' }, ttl: { type: 'string' }, audience: { type: 'string' } },
    strict: true,
  })
  const secret = process.env.EDGEPG_TOKEN_SECRETS?.split(',')[0]?.trim()
  if (!secret) throw new ConfigError('EDGEPG_TOKEN_SECRETS', 'set it to mint a token')
  if (!values.target)
    throw new ConfigError('target', 'name the target the token allows (--target NAME or host:port)')
  const ttl = Number(values.ttl ?? 300)
  if (!Number.isInteger(ttl) || ttl <= 0)
    throw new ConfigError('ttl', `expected seconds > 0, found ${values.ttl}`)
  const now = Math.floor(Date.now() / 1000)
  const token = await mintToken(secret, {
    tgt: values.target,
    iat: now,
    exp: now + ttl,
    jti: crypto.randomUUID(),
    ...(values.audience ? { aud: values.audience } : {}),
  })
  process.stdout.write(`${token}\n`)
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/edgepg-relay')) {
  main(process.argv.slice(2)).catch((error) => {
    process.stderr.write(`edgepg-relay: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(2)
  })
}
