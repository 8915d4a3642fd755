/**
 * Target addresses and allowlist rules (runtime-neutral). Every host is canonicalized the way a resolver would
 * read it: WHATWG URL host parsing implements inet_aton's forms, so `2852039166`, `0xA9FEA9FE`,
 * `0251.0376.0251.0376`, `127.1` and `0` all become dotted quads, and IPv6 becomes its compressed form. No
 * spelling of an address can then slip past a rule or a range written for another.
 */

/** A canonical host and a port. */
export interface HostPort {
  /** A dotted-quad IPv4, an IPv6 literal without brackets, or a lower-case name without a trailing dot. */
  host: string
  port: number
}

/** An allowlist rule for one host (name or IP) on one port: `db.internal:5432`, `[::1]:5432`. */
export interface ExactRule {
  kind: 'exact'
  host: string
  port: number
}

/** An allowlist rule for a network on one port or on every port: `10.0.0.0/8:5432`, `127.0.0.1/32:*`. */
export interface CidrRule {
  kind: 'cidr'
  /** Canonical network address (host bits zero). */
  network: string
  prefix: number
  family: 4 | 6
  port: number | '*'
}

/** One parsed allowlist rule. Named targets (`?target=NAME`) are {@link NamedTarget}s, not rules. */
export type AllowRule = ExactRule | CidrRule

/** A configured target that clients name with `?target=NAME`. */
export interface NamedTarget {
  name: string
  host: string
  port: number
}

/** The result of parsing untrusted input: a value, or a reason for the logs. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string }

/** Longest host accepted (a DNS name has at most 253 characters). */
const MAX_HOST = 255
/** `[` + host + `]:` + five digits. */
const MAX_ADDRESS = MAX_HOST + 8
/** Characters a host or address may contain: no `%` escapes, no userinfo, path, space or non-ASCII. */
const ADDRESS_CHARS = /^[A-Za-z0-9._:[\]-]+$/
const LABEL = /^[a-z0-9_-]{1,63}$/
const DOTTED_QUAD = /^\d{1,3}(\.\d{1,3}){3}$/

/** Names of cloud metadata services: refused whatever the rules say. */
const METADATA_NAMES = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'metadata.azure.internal',
  'instance-data',
  'instance-data.ec2.internal',
])

/** True for a canonical IPv4 or IPv6 literal, as {@link parseAddress} produces them. */
export function isIpLiteral(host: string): boolean {
  return host.includes(':') || DOTTED_QUAD.test(host)
}

/** True for a canonical name that reaches a cloud metadata service (`metadata.google.internal`). */
export function isMetadataName(host: string): boolean {
  return METADATA_NAMES.has(host)
}

/**
 * Parses an untrusted `host:port` or `[v6]:port` (the `address` query value) into a canonical host and port.
 * The port is a decimal integer from 1 to 65535 without leading zeros.
 */
export function parseAddress(text: string): Parsed<HostPort> {
  if (text.length === 0) return { ok: false, reason: 'address is empty' }
  if (text.length > MAX_ADDRESS) return { ok: false, reason: 'address is too long' }
  if (!ADDRESS_CHARS.test(text)) return { ok: false, reason: 'address has forbidden characters' }
  let hostPart: string
  let portPart: string
  if (text.startsWith('[')) {
    const close = text.indexOf(']')
    if (close < 0 || text[close + 1] !== ':') return { ok: false, reason: 'malformed bracketed address' }
    hostPart = text.slice(0, close + 1)
    portPart = text.slice(close + 2)
  } else {
    const colon = text.lastIndexOf(':')
    if (colon < 0) return { ok: false, reason: 'address has no port' }
    hostPart = text.slice(0, colon)
    portPart = text.slice(colon + 1)
    if (hostPart.includes(':')) return { ok: false, reason: 'ipv6 address without brackets' }
  }
  if (hostPart === '') return { ok: false, reason: 'address has an empty host' }
  const port = parsePort(portPart)
  if (port === undefined) return { ok: false, reason: 'invalid port' }
  const host = canonicalHost(hostPart)
  if (host === undefined) return { ok: false, reason: 'invalid host' }
  return { ok: true, value: { host, port } }
}

/**
 * Canonicalizes one host, bracketed (`[::1]`) or not: IPv4 in any inet_aton form becomes a dotted quad, IPv6
 * loses its brackets and is compressed, a name is lower-cased and loses one trailing dot. Undefined when the
 * text is not a valid host.
 */
export function canonicalHost(text: string): string | undefined {
  if (text.length === 0 || text.length > MAX_HOST || !ADDRESS_CHARS.test(text)) return undefined
  let hostname: string
  try {
    hostname = new URL(`http://${text}/`).hostname
  } catch {
    return undefined
  }
  if (hostname.startsWith('[')) return hostname.slice(1, -1)
  if (DOTTED_QUAD.test(hostname)) return hostname
  // One trailing dot names the same host as none: `localhost.` is `localhost`. Any other empty label is an error.
  const name = hostname.endsWith('.') ? hostname.slice(0, -1) : hostname
  return name.split('.').every((label) => LABEL.test(label)) ? name : undefined
}

/** The eight 16-bit words of a canonical IPv6 literal (as {@link canonicalHost} produces it). */
export function ipv6Words(ip: string): number[] {
  const [head = '', tail] = ip.split('::')
  const left = head ? head.split(':') : []
  const right = tail ? tail.split(':') : []
  const zeros: string[] = tail === undefined ? [] : Array(8 - left.length - right.length).fill('0')
  return [...left, ...zeros, ...right].map((word) => Number.parseInt(word, 16))
}

/**
 * Parses one allowlist rule, for configuration: `host:port`, `[v6]:port`, or a network with a port or `*`:
 * `10.0.0.0/8:5432`, `127.0.0.1/32:*`, `[fd00::/8]:5432` (`fd00::/8:5432` also works). Throws an Error that
 * quotes the rule when it is malformed, when a network has host bits set, or when it names a metadata host.
 */
export function parseAllowRule(text: string): AllowRule {
  const fail = (why: string): never => {
    throw new Error(`allow rule "${text}" is invalid: ${why}`)
  }
  const cidr = /^(\[?)([0-9A-Fa-f:.]+)\/(\d{1,3})(\]?):(\d+|\*)$/.exec(text)
  if (cidr) {
    const [, open, address = '', prefixText = '', close, portText = ''] = cidr
    if (Boolean(open) !== Boolean(close)) fail('unbalanced brackets')
    const family = address.includes(':') ? 6 : 4
    const network = canonicalHost(family === 6 ? `[${address}]` : address)
    if (network === undefined || !isIpLiteral(network) || network.includes(':') !== (family === 6)) {
      return fail(`"${address}" is not an IPv${family} address`)
    }
    if (family === 4 && network !== address) fail(`write the network as ${network}`)
    const prefix = Number(prefixText)
    if (prefix > (family === 4 ? 32 : 128)) fail(`prefix /${prefix} is too long for IPv${family}`)
    if (!isNetworkAddress(network, prefix)) fail(`host bits are set: ${network}/${prefix} is not a network`)
    const port = portText === '*' ? '*' : parsePort(portText)
    if (port === undefined) return fail('invalid port: expected 1 to 65535 or *')
    return { kind: 'cidr', network, prefix, family, port }
  }
  const parsed = parseAddress(text)
  if (!parsed.ok) return fail(`expected host:port, [v6]:port, CIDR:port or CIDR:* (${parsed.reason})`)
  if (isMetadataName(parsed.value.host)) fail('it names a cloud metadata host')
  return { kind: 'exact', ...parsed.value }
}

/** Validates a configured named target; throws an Error naming it when its host or port is invalid. */
export function parseNamedTarget(name: string, target: { host: string; port: number }): NamedTarget {
  if (!/^[\w.-]{1,64}$/.test(name)) throw new Error(`target name "${name}" is invalid`)
  const host = target.host.replace(/^\[(.*)\]$/, '$1')
  const parsed = parseAddress(formatAddress({ host, port: target.port }))
  if (!parsed.ok) throw new Error(`target "${name}" is invalid: ${parsed.reason}`)
  if (isMetadataName(parsed.value.host)) throw new Error(`target "${name}" names a cloud metadata host`)
  return { name, ...parsed.value }
}

/** `host:port`, with IPv6 in brackets: for logs and for comparing with a token's target. */
export function formatAddress({ host, port }: HostPort): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`
}

function parsePort(text: string): number | undefined {
  if (!/^[1-9]\d{0,4}$/.test(text)) return undefined
  const port = Number(text)
  return port <= 65535 ? port : undefined
}

/** True when every bit of `ip` after the first `prefix` bits is zero. */
function isNetworkAddress(ip: string, prefix: number): boolean {
  const isV6 = ip.includes(':')
  const words = isV6 ? ipv6Words(ip) : ip.split('.').map(Number)
  const width = isV6 ? 16 : 8
  return words.every((word, i) => {
    const hostBits = Math.min(width, Math.max(0, (i + 1) * width - prefix))
    return (word & ((1 << hostBits) - 1)) === 0
  })
}
