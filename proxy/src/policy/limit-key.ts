/**
 * The key a client's connections are counted under for the per-IP limit. Runtime-neutral (the Node and Worker
 * entries both count through the gate).
 */
import { canonicalHost, ipv6Words } from './target.ts'

/**
 * The per-IP limit bucket of a client `ip`: one bucket per client, however its address is spelled.
 * - IPv4 (and an IPv4-mapped IPv6 address, `::ffff:a.b.c.d`): the dotted quad, one bucket per address.
 * - IPv6: the network of its first `ipv6PrefixLength` bits in compressed lower-case form (`2001:db8::/64`),
 *   since one client usually holds a whole /64. A zone (`%eth0`) is dropped.
 * - Anything else (`unknown`): the text as it is.
 */
export function connectionLimitKey(ip: string, ipv6PrefixLength: number): string {
  const zoneless = ip.includes(':') ? ip.replace(/%.*$/, '') : ip
  const canonical = canonicalHost(zoneless.includes(':') ? `[${zoneless}]` : zoneless)
  if (canonical === undefined || !isIpText(zoneless, canonical)) return ip
  if (!canonical.includes(':')) return canonical
  const words = ipv6Words(canonical)
  if (words.slice(0, 5).every((word) => word === 0) && words[5] === 0xffff) {
    const [high = 0, low = 0] = words.slice(6)
    return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`
  }
  const network = words.map((word, i) => word & wordMask(ipv6PrefixLength - i * 16))
  return `${canonicalHost(`[${network.map((word) => word.toString(16)).join(':')}]`)}/${ipv6PrefixLength}`
}

/** Only IP literals are bucketed: a name (which canonicalHost also accepts) is no client address. */
function isIpText(text: string, canonical: string): boolean {
  return canonical.includes(':') || /^\d{1,3}(\.\d{1,3}){3}$/.test(text)
}

/** The mask of one 16-bit word that keeps its first `bits` bits (all for ≥ 16, none for ≤ 0). */
function wordMask(bits: number): number {
  if (bits >= 16) return 0xffff
  if (bits <= 0) return 0
  return (0xffff << (16 - bits)) & 0xffff
}
