/**
 * The target policy where names cannot be resolved first (runtime-neutral; the Worker relay uses it). A
 * Worker has no DNS API: `cloudflare:sockets` resolves a name itself when it dials, so the relay cannot see,
 * check or pin the address a name leads to. The only safe rule is therefore an exact one: a request is
 * admitted when its `host:port` (canonicalized, so `2130706433:5432` is `127.0.0.1:5432`) is listed, or when
 * it names a configured target. Network rules (`10.0.0.0/8:5432`) are refused at configuration, because they
 * would cover an IP literal but say nothing about where a name goes. Cloudflare's network cannot reach private
 * ranges by itself; whatever is listed is what the operator chose to expose.
 */
import type { Admission, Policy } from './policy.ts'
import { formatAddress, type NamedTarget, parseAddress, parseAllowRule, parseNamedTarget } from './target.ts'

/** Exact `host:port` rules and named targets; see {@link createAllowlistPolicy}. */
export interface AllowlistConfig {
  /** Exact rules: `db.example.com:5432`, `203.0.113.7:5432`, `[2001:db8::7]:5432`. */
  allow: string[]
  /** Named targets for `?target=NAME`; each is also allowed as if by an exact rule. */
  targets: Record<string, { host: string; port: number }>
}

/**
 * Builds the exact-match policy. Throws an Error naming the rule when a rule is malformed, is a network rule
 * or names a cloud metadata host, and when a target is invalid.
 *
 * @example
 * ```ts
 * const policy = createAllowlistPolicy({ allow: ['db.example.com:5432'], targets: {} })
 * const admission = await policy.admit({ address: 'DB.example.com.:5432' }) // ok: db.example.com:5432
 * ```
 */
export function createAllowlistPolicy(config: AllowlistConfig): Policy {
  const targets = new Map<string, NamedTarget>()
  for (const [name, target] of Object.entries(config.targets))
    targets.set(name, parseNamedTarget(name, target))
  const listed = new Set<string>([...targets.values()].map(formatAddress))
  for (const text of config.allow) {
    const rule = parseAllowRule(text)
    if (rule.kind !== 'exact') {
      throw new Error(
        `allow rule "${text}" is a network: without DNS the relay cannot check where a name leads, ` +
          'so only exact host:port rules are accepted here',
      )
    }
    listed.add(formatAddress(rule))
  }

  return {
    async admit({ address, target, tokenTarget }): Promise<Admission> {
      if (address !== undefined && target !== undefined)
        return { ok: false, reason: 'both address and target given' }
      if (target !== undefined) {
        const named = targets.get(target)
        if (!named) return { ok: false, reason: 'unknown target name' }
        if (tokenTarget !== undefined && tokenTarget !== target)
          return { ok: false, reason: 'token is for another target' }
        return { ok: true, target, dial: { host: named.host, port: named.port } }
      }
      if (address === undefined) return { ok: false, reason: 'no address or target given' }
      const parsed = parseAddress(address)
      if (!parsed.ok) return { ok: false, reason: parsed.reason }
      const label = formatAddress(parsed.value)
      if (tokenTarget !== undefined) {
        const fromToken = parseAddress(tokenTarget)
        if (!fromToken.ok || formatAddress(fromToken.value) !== label)
          return { ok: false, reason: 'token is for another target' }
      }
      if (!listed.has(label)) return { ok: false, reason: `address ${label} is not listed` }
      return { ok: true, target: label, dial: parsed.value }
    },
  }
}
