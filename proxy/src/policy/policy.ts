/**
 * The target policy (Node): which address a session may reach. The request names a configured target or an
 * address; an IP literal is judged as is (no resolver call); a name is resolved once and pinned
 * ({@link resolvePinned}). An address must be covered by an allowlist rule, and must not lie in a blocked
 * range unless a rule opens that range specifically. A name listed in an exact rule (or a named target) is
 * covered, but the addresses it resolves to are still judged: listing a name never opens a private range.
 */
import { blockedRange, matchesRule, opensRange } from './ip.ts'
import { type AddressVerdict, type Resolver, resolvePinned, systemResolver } from './resolve.ts'
import {
  type AllowRule,
  formatAddress,
  type HostPort,
  isIpLiteral,
  type NamedTarget,
  parseAddress,
  parseAllowRule,
  parseNamedTarget,
} from './target.ts'

/** The policy's configuration; {@link createPolicy} validates it and throws on a bad rule or target. */
export interface PolicyConfig {
  /** Allowlist rules (see {@link parseAllowRule}). */
  allow: string[]
  /** Named targets for `?target=NAME`; each is also allowed as if by an exact rule. */
  targets: Record<string, { host: string; port: number }>
  /** Do not block private networks and loopback by range (the allowlist still applies). Default false. */
  allowPrivate?: boolean
}

/** The policy's decision: the exact IP and port to dial, or a reason that is for logs only. */
export type Admission =
  | { ok: true; target: string; dial: { host: string; port: number } }
  | { ok: false; reason: string }

/** Decides which address a session may reach. */
export interface Policy {
  /**
   * Admits a request naming an `address` (`host:port`) or a configured `target`, never both. When a verified
   * token named a target (`tokenTarget`), the request must name exactly that one.
   */
  admit(request: {
    address?: string | undefined
    target?: string | undefined
    tokenTarget?: string | undefined
  }): Promise<Admission>
}

/**
 * Builds the policy. `deps.resolve` replaces the system resolver (tests inject fakes).
 *
 * @example
 * ```ts
 * const policy = createPolicy({ allow: ['db.internal:5432', '10.0.0.0/8:5432'], targets: {} })
 * const admission = await policy.admit({ address: 'db.internal:5432' })
 * if (admission.ok) net.connect(admission.dial) // an IP, resolved once
 * ```
 */
export function createPolicy(config: PolicyConfig, deps: { resolve?: Resolver } = {}): Policy {
  const resolve = deps.resolve ?? systemResolver
  const allowPrivate = config.allowPrivate ?? false
  const targets = new Map<string, NamedTarget>()
  for (const [name, target] of Object.entries(config.targets))
    targets.set(name, parseNamedTarget(name, target))
  const rules: AllowRule[] = [
    ...config.allow.map(parseAllowRule),
    ...[...targets.values()].map(({ host, port }): AllowRule => ({ kind: 'exact', host, port })),
  ]

  /** Judges one IP for `port`; `isListed` when the name it came from is listed for that port. */
  const judge = (ip: string, port: number, isListed: boolean): AddressVerdict => {
    const matching = rules.filter((rule) => matchesRule(ip, port, rule))
    const range = blockedRange(ip, { allowPrivate })
    if (range && !matching.some((rule) => opensRange(rule, range))) {
      return { verdict: 'blocked', reason: `${ip} (${range.why})` }
    }
    if (!isListed && matching.length === 0) return { verdict: 'unlisted', reason: `${ip} (no rule)` }
    return { verdict: 'allowed' }
  }

  const isNameListed = ({ host, port }: HostPort) =>
    rules.some((rule) => rule.kind === 'exact' && rule.host === host && rule.port === port)
  const mayCoverByNetwork = (port: number) =>
    rules.some((rule) => rule.kind === 'cidr' && (rule.port === '*' || rule.port === port))

  const choose = (request: Parameters<Policy['admit']>[0]): { label: string; wanted: HostPort } | string => {
    const { address, target, tokenTarget } = request
    if (address !== undefined && target !== undefined) return 'both address and target given'
    if (target !== undefined) {
      const named = targets.get(target)
      if (!named) return 'unknown target name'
      if (tokenTarget !== undefined && tokenTarget !== target) return 'token is for another target'
      return { label: target, wanted: { host: named.host, port: named.port } }
    }
    if (address === undefined) return 'no address or target given'
    const parsed = parseAddress(address)
    if (!parsed.ok) return parsed.reason
    const label = formatAddress(parsed.value)
    if (tokenTarget !== undefined) {
      const fromToken = parseAddress(tokenTarget)
      if (!fromToken.ok || formatAddress(fromToken.value) !== label) return 'token is for another target'
    }
    return { label, wanted: parsed.value }
  }

  return {
    async admit(request) {
      const chosen = choose(request)
      if (typeof chosen === 'string') return { ok: false, reason: chosen }
      const { label, wanted } = chosen
      if (isIpLiteral(wanted.host)) {
        const judged = judge(wanted.host, wanted.port, false)
        if (judged.verdict !== 'allowed') return { ok: false, reason: `address ${judged.reason}` }
        return { ok: true, target: label, dial: wanted }
      }
      const isListed = isNameListed(wanted)
      // A name no rule lists can only be allowed by what it resolves to: do not even resolve it otherwise.
      if (!isListed && !mayCoverByNetwork(wanted.port)) return { ok: false, reason: 'name matches no rule' }
      const pinned = await resolvePinned(wanted.host, resolve, (ip) => judge(ip, wanted.port, isListed))
      if (!pinned.ok) return { ok: false, reason: pinned.reason }
      return { ok: true, target: label, dial: { host: pinned.address, port: wanted.port } }
    },
  }
}
