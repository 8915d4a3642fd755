/**
 * The Worker entry's settings from its bindings (runtime-neutral, so Node tests can check them): the
 * `EDGEPG_*` names the CLI reads.
 */
import { ConfigError, type RelayConfig } from '../config.ts'

/** The Worker's bindings: `EDGEPG_*` variables and secrets. */
export type RelayEnv = Record<string, unknown>

const NUMBERS = {
  EDGEPG_MAX_CONNECTIONS: 'maxConnections',
  EDGEPG_MAX_CONNECTIONS_PER_IP: 'maxConnectionsPerIp',
  EDGEPG_MAX_CONNECTIONS_PER_TOKEN: 'maxConnectionsPerToken',
  EDGEPG_IPV6_PREFIX_LENGTH: 'ipv6PrefixLength',
  EDGEPG_MAX_PAYLOAD: 'maxPayload',
  EDGEPG_STARTUP_TIMEOUT: 'startupTimeout',
  EDGEPG_CONNECT_TIMEOUT: 'connectTimeout',
  EDGEPG_IDLE_TIMEOUT: 'idleTimeout',
  EDGEPG_MAX_LIFETIME: 'maxLifetime',
  EDGEPG_SQL_TIMEOUT: 'sqlTimeout',
  EDGEPG_SQL_MAX_REQUEST_BYTES: 'sqlMaxRequestBytes',
  EDGEPG_SQL_MAX_RESPONSE_BYTES: 'sqlMaxResponseBytes',
} as const satisfies Record<string, keyof RelayConfig>

/** The parts of a Hyperdrive binding the relay uses (`env.HYPERDRIVE`). */
export interface HyperdriveLike {
  readonly connectionString: string
  readonly host: string
  readonly port: number
  readonly user: string
  readonly password: string
  readonly database: string
}

/** A Hyperdrive binding and the `host:port` target whose requests it serves. */
export interface HyperdriveRoute {
  /** The target as the allowlist and the connection strings name it, e.g. `db.example.com:5432`. */
  address: string
  binding: HyperdriveLike
}

/**
 * `EDGEPG_HYPERDRIVE = "BINDING=host:port"`: `/sql` requests for that target with the binding's own login go
 * through the Hyperdrive binding of that name. Undefined when unset.
 */
export function hyperdriveFromEnv(env: RelayEnv): HyperdriveRoute | undefined {
  const value = env.EDGEPG_HYPERDRIVE
  if (value === undefined) return undefined
  const match = /^([A-Za-z_][\w]*)=(.+:\d+)$/.exec(String(value).trim())
  if (!match) throw new ConfigError('EDGEPG_HYPERDRIVE', `"${String(value)}" is not BINDING=HOST:PORT`)
  const binding = env[match[1]!] as Partial<HyperdriveLike> | undefined
  if (typeof binding?.connectionString !== 'string' || typeof binding.host !== 'string')
    throw new ConfigError('EDGEPG_HYPERDRIVE', `no Hyperdrive binding named ${match[1]}`)
  return { address: match[2]!, binding: binding as HyperdriveLike }
}

/** Reads the `EDGEPG_*` bindings; {@link resolveConfig} then validates every value. */
export function configFromEnv(env: RelayEnv): Partial<RelayConfig> {
  const text = (name: string) => (env[name] === undefined ? undefined : String(env[name]).trim())
  const list = (name: string) => {
    const value = env[name]
    if (value === undefined) return undefined
    const items = Array.isArray(value) ? value.map(String) : String(value).split(',')
    return items.map((item) => item.trim()).filter(Boolean)
  }
  const flag = (name: string) => {
    const value = text(name)
    return value === undefined ? undefined : value === 'true' || value === '1'
  }
  const config: Partial<RelayConfig> = {
    allow: list('EDGEPG_ALLOW'),
    tokenSecrets: list('EDGEPG_TOKEN_SECRETS'),
    requireToken: flag('EDGEPG_REQUIRE_TOKEN'),
    tokenAudience: text('EDGEPG_TOKEN_AUDIENCE'),
    metricsToken: text('EDGEPG_METRICS_TOKEN'),
    allowedOrigins: list('EDGEPG_ORIGIN'),
    allowMissingOrigin: text('EDGEPG_ALLOW_MISSING_ORIGIN') as RelayConfig['allowMissingOrigin'] | undefined,
    logLevel: text('EDGEPG_LOG_LEVEL') as RelayConfig['logLevel'] | undefined,
    sql: flag('EDGEPG_SQL'),
    behindTls: flag('EDGEPG_BEHIND_TLS'),
  }
  const targets = list('EDGEPG_TARGET')
  if (targets) {
    config.targets = {}
    for (const entry of targets) {
      const match = /^([\w.-]+)=(.+):(\d+)$/.exec(entry)
      if (!match) throw new ConfigError('EDGEPG_TARGET', `"${entry}" is not NAME=HOST:PORT`)
      config.targets[match[1]!] = { host: match[2]!.replace(/^\[(.*)\]$/, '$1'), port: Number(match[3]) }
    }
  }
  for (const [name, key] of Object.entries(NUMBERS)) {
    const value = text(name)
    if (value === undefined) continue
    const n = Number(value)
    if (value === '' || !Number.isFinite(n)) throw new ConfigError(key, `"${value}" is not a number`)
    config[key] = n
  }
  return config
}
