/**
 * Name resolution with pinning (Node). A name is resolved exactly once; every address it returns is judged;
 * the caller dials the one address that passed and never resolves the name again, so a DNS answer that
 * changes between the check and the dial (rebinding) cannot redirect the connection.
 */
import { lookup } from 'node:dns/promises'
import { blockedRange, canonicalIp } from './ip.ts'
import { isMetadataName } from './target.ts'

/** Resolves a name to its addresses (the shape of `dns.promises.lookup(host, { all: true })`). */
export type Resolver = (host: string) => Promise<{ address: string; family: number }[]>

/**
 * How the policy judges one resolved address: `allowed` may be dialed; `blocked` denies the whole name (one
 * blocked answer is enough: the next lookup elsewhere might return it first); `unlisted` is skipped.
 */
export type AddressVerdict =
  | { verdict: 'allowed' }
  | { verdict: 'blocked'; reason: string }
  | { verdict: 'unlisted'; reason: string }

/** The address to dial, or why there is none (for logs only). */
export type Pinned = { ok: true; address: string } | { ok: false; reason: string }

/** The system resolver, in the order it returns addresses. */
export const systemResolver: Resolver = (host) => lookup(host, { all: true, verbatim: true })

/** The default judge: every address that is not in a blocked range is allowed. */
export const publicOnly = (ip: string): AddressVerdict => {
  const range = blockedRange(ip)
  return range ? { verdict: 'blocked', reason: `${ip} is ${range.why}` } : { verdict: 'allowed' }
}

/**
 * Resolves `host` once with `resolver` and returns the first address `judge` allows. Denies a metadata name
 * without resolving it, a name that does not resolve (or takes longer than `timeoutMs`, default 5000), and a
 * name with any blocked or invalid address.
 *
 * @example
 * ```ts
 * const pinned = await resolvePinned('db.example.com')
 * if (pinned.ok) net.connect({ host: pinned.address, port: 5432 }) // the IP, not the name
 * ```
 */
export async function resolvePinned(
  host: string,
  resolver: Resolver = systemResolver,
  judge: (ip: string) => AddressVerdict = publicOnly,
  options: { timeoutMs?: number } = {},
): Promise<Pinned> {
  if (isMetadataName(host)) return { ok: false, reason: 'metadata host name' }
  let answers: { address: string }[]
  try {
    answers = await withTimeout(resolver(host), options.timeoutMs ?? 5000)
  } catch {
    return { ok: false, reason: 'name does not resolve' }
  }
  if (!Array.isArray(answers) || answers.length === 0)
    return { ok: false, reason: 'name resolves to nothing' }
  let pinned: string | undefined
  let unlisted: string | undefined
  for (const answer of answers) {
    const ip = typeof answer?.address === 'string' ? canonicalIp(answer.address) : undefined
    if (ip === undefined) return { ok: false, reason: 'name resolves to something that is not an ip' }
    const judged = judge(ip)
    if (judged.verdict === 'blocked') return { ok: false, reason: `name resolves to ${judged.reason}` }
    if (judged.verdict === 'unlisted') unlisted ??= judged.reason
    else pinned ??= ip
  }
  if (pinned === undefined) return { ok: false, reason: `name resolves to ${unlisted}` }
  return { ok: true, address: pinned }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
