/**
 * The relay's security policy. Runtime-neutral: `target.ts` (addresses and rules), `token.ts` (HMAC tokens),
 * `origin.ts` (the Origin check), `limit-key.ts` (per-IP limit buckets). Node only: `ip.ts` (blocked ranges,
 * `net.BlockList`), `resolve.ts` (resolve once and pin) and `policy.ts` (which composes them). A Worker entry
 * imports the neutral files directly.
 */
export {
  type BlockedRange,
  blockedRange,
  canonicalIp,
  embeddedIPv4,
  isBlockedAddress,
  matchesRule,
  opensRange,
} from './ip.ts'
export { connectionLimitKey } from './limit-key.ts'
export { createOriginCheck, type OriginCheck, type OriginCheckOptions, type OriginVerdict } from './origin.ts'
export { type Admission, createPolicy, type Policy, type PolicyConfig } from './policy.ts'
export {
  type AddressVerdict,
  type Pinned,
  publicOnly,
  type Resolver,
  resolvePinned,
  systemResolver,
} from './resolve.ts'
export {
  type AllowRule,
  type CidrRule,
  canonicalHost,
  type ExactRule,
  formatAddress,
  type HostPort,
  isIpLiteral,
  isMetadataName,
  type NamedTarget,
  type Parsed,
  parseAddress,
  parseAllowRule,
  parseNamedTarget,
} from './target.ts'
export {
  createTokenVerifier,
  mintToken,
  type TokenClaims,
  type TokenVerdict,
  type TokenVerifier,
  type TokenVerifierOptions,
} from './token.ts'
