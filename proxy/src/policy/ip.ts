/**
 * IP ranges the relay never dials unless a rule opens them (Node: `net.BlockList`), and the allowlist
 * matcher. An IPv4 address carried inside IPv6 (`::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) is
 * judged as the IPv4 address it carries.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net'
import { type AllowRule, canonicalHost, ipv6Words } from './target.ts'

/** A blocked range that an address falls in. */
export interface BlockedRange {
  network: string
  prefix: number
  family: 4 | 6
  /** What the range is, for logs (`loopback`, `metadata`). */
  why: string
  /** Private networks and loopback: `allowPrivate` opens these. */
  isPrivate: boolean
  /** A cloud metadata endpoint: only an exact rule for that IP opens it. */
  isMetadata: boolean
}

type Range = [network: string, prefix: number, why: string]

/** Checked in order: the first match names the range. */
const V4: Range[] = [
  ['169.254.169.254', 32, 'metadata'],
  ['169.254.170.2', 32, 'metadata'],
  ['100.100.100.200', 32, 'metadata'],
  ['255.255.255.255', 32, 'broadcast'],
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'carrier-grade nat'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'protocol assignments'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, '6to4 relay anycast'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
]
const V6: Range[] = [
  ['fd00:ec2::254', 128, 'metadata'],
  ['fd20:ce::254', 128, 'metadata'],
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['::', 96, 'ipv4-compatible'],
  ['64:ff9b:1::', 48, 'local-use nat64'],
  ['100::', 64, 'discard-only'],
  ['2001::', 23, 'protocol assignments'],
  ['2001:db8::', 32, 'documentation'],
  ['3fff::', 20, 'documentation'],
  ['5f00::', 16, 'segment routing'],
  ['fc00::', 7, 'unique local'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local'],
  ['ff00::', 8, 'multicast'],
]
const PRIVATE = new Set(['private', 'loopback', 'unique local', 'carrier-grade nat'])

const RANGES = [...V4.map((range) => compile(range, 4)), ...V6.map((range) => compile(range, 6))]

/** Prefixes that carry an IPv4 address in their last 32 bits. */
const MAPPED = subnet('::ffff:0:0', 96, 6)
const NAT64 = subnet('64:ff9b::', 96, 6)
/** 6to4 carries the IPv4 address in bits 16–47. */
const SIX_TO_FOUR = subnet('2002::', 16, 6)

/**
 * Canonicalizes an IP from a resolver or a parsed address (`::FFFF:1.2.3.4` → `::ffff:102:304`); undefined
 * when it is not an IP literal or carries a zone (`fe80::1%eth0`).
 */
export function canonicalIp(ip: string): string | undefined {
  if (isIPv4(ip)) return canonicalHost(ip)
  if (isIPv6(ip) && !ip.includes('%')) return canonicalHost(`[${ip}]`)
  return undefined
}

/** The IPv4 address carried inside an IPv6 one (mapped, NAT64 or 6to4), if any. */
export function embeddedIPv4(ip: string): string | undefined {
  const canonical = canonicalIp(ip)
  if (canonical === undefined || !canonical.includes(':')) return undefined
  const words = ipv6Words(canonical)
  let high: number | undefined
  let low: number | undefined
  if (MAPPED.check(canonical, 'ipv6') || NAT64.check(canonical, 'ipv6')) [high, low] = [words[6], words[7]]
  else if (SIX_TO_FOUR.check(canonical, 'ipv6')) [high, low] = [words[1], words[2]]
  if (high === undefined || low === undefined) return undefined
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`
}

/**
 * The blocked range `ip` falls in, or undefined for a public address. With `allowPrivate`, private networks
 * and loopback are not blocked (link-local, metadata and the rest still are). Anything that is not a valid
 * IP is blocked as `not an ip`.
 */
export function blockedRange(ip: string, options: { allowPrivate?: boolean } = {}): BlockedRange | undefined {
  const canonical = canonicalIp(ip)
  if (canonical === undefined) return invalid
  const address = embeddedIPv4(canonical) ?? canonical
  const family = address.includes(':') ? 'ipv6' : 'ipv4'
  for (const { range, list } of RANGES) {
    if (!list.check(address, family)) continue
    if (options.allowPrivate && range.isPrivate) return undefined
    return range
  }
  return undefined
}

/** True when `ip` falls in a blocked range (see {@link blockedRange}); no rule is consulted. */
export function isBlockedAddress(ip: string, options: { allowPrivate?: boolean } = {}): boolean {
  return blockedRange(ip, options) !== undefined
}

/**
 * True when `rule` covers `ip` on `port`. An exact rule must name the IP (a name in an exact rule never
 * matches an IP here); an IPv4-mapped IPv6 address is the same destination as its IPv4 address.
 */
export function matchesRule(ip: string, port: number, rule: AllowRule): boolean {
  if (rule.port !== '*' && rule.port !== port) return false
  const address = unmapped(ip)
  if (address === undefined) return false
  if (rule.kind === 'exact') return unmapped(rule.host) === address
  const family = address.includes(':') ? 6 : 4
  return family === rule.family && ruleList(rule).check(address, family === 4 ? 'ipv4' : 'ipv6')
}

/**
 * True when `rule` is specific enough to open `range` for an address it matches: an exact rule for the IP
 * opens any range; a network rule opens a range it lies inside (`127.0.0.1/32:*` opens loopback,
 * `0.0.0.0/0:*` opens nothing), but never a metadata endpoint.
 */
export function opensRange(rule: AllowRule, range: BlockedRange): boolean {
  if (rule.kind === 'exact') return true
  if (range.isMetadata || rule.family !== range.family || rule.prefix < range.prefix) return false
  return subnet(range.network, range.prefix, range.family).check(
    rule.network,
    rule.family === 4 ? 'ipv4' : 'ipv6',
  )
}

/** The canonical IP, with an IPv4-mapped IPv6 address turned into its IPv4 address. */
function unmapped(ip: string): string | undefined {
  const canonical = canonicalIp(ip)
  if (canonical === undefined || !MAPPED.check(canonical, 'ipv6')) return canonical
  return embeddedIPv4(canonical)
}

const invalid: BlockedRange = {
  network: '',
  prefix: 0,
  family: 4,
  why: 'not an ip',
  isPrivate: false,
  isMetadata: false,
}

function compile([network, prefix, why]: Range, family: 4 | 6) {
  const range: BlockedRange = {
    network,
    prefix,
    family,
    why,
    isPrivate: PRIVATE.has(why),
    isMetadata: why === 'metadata',
  }
  return { range, list: subnet(network, prefix, family) }
}

function subnet(network: string, prefix: number, family: 4 | 6): BlockList {
  const list = new BlockList()
  list.addSubnet(network, prefix, family === 4 ? 'ipv4' : 'ipv6')
  return list
}

const ruleLists = new WeakMap<AllowRule, BlockList>()

function ruleList(rule: AllowRule & { kind: 'cidr' }): BlockList {
  let list = ruleLists.get(rule)
  if (!list) {
    list = subnet(rule.network, rule.prefix, rule.family)
    ruleLists.set(rule, list)
  }
  return list
}
