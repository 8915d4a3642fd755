// Attack case A1 (shared/attack-cases.md) at the unit level. Tokens are built here with node:crypto, an
// oracle independent of the code under test, so a header or payload can say anything.
import { createHmac, generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createTokenVerifier, mintToken, type TokenClaims } from './token.ts'

const SECRET = 'a-test-secret-that-is-long-enough-0123456789'
const NOW = 1_800_000_000
const claims: TokenClaims = { tgt: 'main', iat: NOW, exp: NOW + 300, aud: 'edgepg' }

const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')
const hmac = (input: string, secret: string | Buffer, hash = 'sha256') =>
  createHmac(hash, secret).update(input).digest('base64url')
function sign(header: unknown, payload: unknown, secret: string | Buffer = SECRET, hash = 'sha256') {
  const input = `${b64(header)}.${b64(payload)}`
  return `${input}.${hmac(input, secret, hash)}`
}
const HS256 = { alg: 'HS256', typ: 'JWT' }

const verifier = (options: Partial<Parameters<typeof createTokenVerifier>[0]> = {}) =>
  createTokenVerifier({ secrets: [SECRET], audience: 'edgepg', ...options })

describe('a valid token', () => {
  it('is accepted with its claims', async () => {
    expect(await verifier().verify(sign(HS256, claims), NOW)).toEqual({ ok: true, claims })
  })

  it('minted by mintToken verifies, and matches an independent HMAC', async () => {
    const token = await mintToken(SECRET, claims)
    const [h, p, s] = token.split('.')
    expect(s).toBe(hmac(`${h}.${p}`, SECRET))
    expect(JSON.parse(Buffer.from(h!, 'base64url').toString())).toEqual(HS256)
    expect(await verifier().verify(token, NOW)).toEqual({ ok: true, claims })
  })

  it('is accepted without typ, and with a byte-array secret', async () => {
    const bytes = new TextEncoder().encode(SECRET)
    expect(await verifier({ secrets: [bytes] }).verify(sign({ alg: 'HS256' }, claims), NOW)).toMatchObject({
      ok: true,
    })
  })

  it('verifies under any of the rotated secrets, and not after its secret is dropped', async () => {
    const old = 'the-old-secret-that-is-long-enough-0123456789'
    const token = sign(HS256, claims, old)
    expect(await verifier({ secrets: [SECRET, old] }).verify(token, NOW)).toMatchObject({ ok: true })
    expect(await verifier({ secrets: [SECRET] }).verify(token, NOW)).toEqual({
      ok: false,
      reason: 'bad signature',
    })
  })

  it('is accepted within the clock skew around nbf and exp', async () => {
    const token = sign(HS256, { ...claims, nbf: NOW + 20 })
    expect(await verifier({ replay: 'allow' }).verify(token, NOW)).toMatchObject({ ok: true })
    expect(await verifier({ replay: 'allow' }).verify(token, NOW + 320)).toMatchObject({ ok: true })
  })
})

describe('A1: refused tokens, each with its own reason', () => {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString()

  const cases: [string, () => string | Promise<string>, string][] = [
    ['expired', () => sign(HS256, { ...claims, exp: NOW - 31 }), 'expired'],
    ['not yet valid', () => sign(HS256, { ...claims, nbf: NOW + 31 }), 'not valid yet'],
    ['for another audience', () => sign(HS256, { ...claims, aud: 'other' }), 'wrong audience'],
    ['without an audience', () => sign(HS256, { tgt: 'main', exp: NOW + 60 }), 'wrong audience'],
    ['alg none', () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`, 'algorithm none not accepted'],
    ['alg none with a signature', () => sign({ alg: 'none' }, claims), 'algorithm none not accepted'],
    ['without alg', () => sign({ typ: 'JWT' }, claims), 'algorithm undefined not accepted'],
    ['alg "hs256"', () => sign({ alg: 'hs256' }, claims), 'algorithm hs256 not accepted'],
    ['alg "HS256 " (log-safe)', () => sign({ alg: 'HS256 \n' }, claims), 'algorithm string not accepted'],
    [
      'HS512',
      () => sign({ alg: 'HS512', typ: 'JWT' }, claims, SECRET, 'sha512'),
      'algorithm HS512 not accepted',
    ],
    [
      'RS256 signed by HMAC with the public key as secret (HS/RS confusion)',
      () => sign({ alg: 'RS256', typ: 'JWT' }, claims, publicPem),
      'algorithm RS256 not accepted',
    ],
    ['a typ other than JWT', () => sign({ alg: 'HS256', typ: 'at+jwt' }, claims), 'unexpected typ'],
    ['a crit header', () => sign({ alg: 'HS256', crit: ['exp'] }, claims), 'critical header not understood'],
    [
      'signed with another secret',
      () => sign(HS256, claims, 'another-secret-long-enough-000000000'),
      'bad signature',
    ],
    [
      'with a tampered target (old signature)',
      () => {
        const [h, , s] = sign(HS256, claims).split('.')
        return `${h}.${b64({ ...claims, tgt: 'other' })}.${s}`
      },
      'bad signature',
    ],
    ['with a truncated signature', () => sign(HS256, claims).slice(0, -3), 'bad signature'],
    ['without a target', () => sign(HS256, { ...claims, tgt: '' }), 'no target claim'],
    ['with a non-string target', () => sign(HS256, { ...claims, tgt: 7 }), 'no target claim'],
    ['without an expiry', () => sign(HS256, { tgt: 'main', aud: 'edgepg' }), 'no expiry claim'],
    [
      'with a string expiry',
      () => sign(HS256, { ...claims, exp: `${NOW + 60}` }),
      'time claim is not a number',
    ],
    [
      'with an infinite expiry',
      () => sign(HS256, `{"tgt":"main","exp":1e999}`),
      'time claim is not a number',
    ],
    [
      'with a lifetime over the maximum',
      () => sign(HS256, { ...claims, exp: NOW + 3601 }),
      'lifetime too long',
    ],
    [
      'with no iat and an expiry over the maximum from now',
      () => sign(HS256, { tgt: 'main', aud: 'edgepg', exp: NOW + 3601 }),
      'lifetime too long',
    ],
    ['issued in the future', () => sign(HS256, { ...claims, iat: NOW + 60 }), 'issued in the future'],
    [
      'with an array audience',
      () => sign(HS256, { ...claims, aud: ['edgepg'] }),
      'aud or jti is not a string',
    ],
    ['with an empty jti', () => sign(HS256, { ...claims, jti: '' }), 'jti empty or too long'],
    [
      'with a jti over 128 characters',
      () => sign(HS256, { ...claims, jti: 'j'.repeat(129) }),
      'jti empty or too long',
    ],
    ['oversized', () => sign(HS256, { ...claims, pad: 'x'.repeat(4096) }), 'malformed: too long'],
    ['empty', () => '', 'malformed: empty'],
    ['in two parts', () => 'abc.def', 'malformed: not three parts'],
    ['in four parts', () => `${sign(HS256, claims)}.x`, 'malformed: not three parts'],
    ['not base64url', () => 'a+b.c/d.e=f', 'malformed: bad encoding'],
    ['padded base64', () => sign(HS256, claims).replace(/\.([^.]*)$/, '.$1='), 'malformed: bad encoding'],
    [
      'a payload that is not JSON',
      () => `${b64(HS256)}.${b64('not json')}.${hmac('x', SECRET)}`,
      'malformed: bad encoding',
    ],
    ['a payload that is a JSON array', () => sign(HS256, [claims]), 'malformed: bad encoding'],
    [
      'a non-canonical signature encoding',
      () => {
        const token = sign(HS256, claims)
        // 32 bytes → 43 characters: the last one carries 2 unused bits; setting one must not verify.
        const last = token.at(-1)!
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
        return token.slice(0, -1) + alphabet[alphabet.indexOf(last) + 1]
      },
      'malformed: bad encoding',
    ],
  ]

  it.each(cases)('refuses a token: %s', async (_, make, reason) => {
    expect(await verifier().verify(await make(), NOW)).toEqual({ ok: false, reason })
  })
})

describe('A1: replay', () => {
  it('accepts a token id once until its expiry, then forgets it', async () => {
    const v = verifier()
    const token = sign(HS256, { ...claims, jti: 'once' })
    expect(await v.verify(token, NOW)).toMatchObject({ ok: true })
    expect(await v.verify(token, NOW + 1)).toEqual({ ok: false, reason: 'token id already used' })
    const other = sign(HS256, { ...claims, jti: 'twice' })
    expect(await v.verify(other, NOW + 1)).toMatchObject({ ok: true })
  })

  it('does not burn a token id on a token that failed verification', async () => {
    const v = verifier()
    const bad = sign(HS256, { ...claims, jti: 'id', aud: 'other' })
    expect(await v.verify(bad, NOW)).toEqual({ ok: false, reason: 'wrong audience' })
    expect(await v.verify(sign(HS256, { ...claims, jti: 'id' }), NOW)).toMatchObject({ ok: true })
  })

  it('keeps the cache bounded: refuses new ids while it is full of live ones, evicts expired ones', async () => {
    const v = verifier({ maxReplayEntries: 2 })
    const withId = (jti: string, exp: number) => sign(HS256, { ...claims, jti, exp })
    expect(await v.verify(withId('a', NOW + 10), NOW)).toMatchObject({ ok: true })
    expect(await v.verify(withId('b', NOW + 100), NOW)).toMatchObject({ ok: true })
    expect(await v.verify(withId('c', NOW + 100), NOW)).toEqual({ ok: false, reason: 'replay cache full' })
    // 'a' expired (with skew) at NOW + 40: its slot is reused, and 'b' is still remembered.
    expect(await v.verify(withId('c', NOW + 100), NOW + 41)).toMatchObject({ ok: true })
    expect(await v.verify(withId('b', NOW + 100), NOW + 41)).toEqual({
      ok: false,
      reason: 'token id already used',
    })
  })

  it('accepts a reused token id when replay is allowed, and tokens without an id repeatedly', async () => {
    const token = sign(HS256, { ...claims, jti: 'again' })
    const lenient = verifier({ replay: 'allow' })
    expect(await lenient.verify(token, NOW)).toMatchObject({ ok: true })
    expect(await lenient.verify(token, NOW)).toMatchObject({ ok: true })
    const strict = verifier()
    const plain = sign(HS256, claims)
    expect(await strict.verify(plain, NOW)).toMatchObject({ ok: true })
    expect(await strict.verify(plain, NOW)).toMatchObject({ ok: true })
  })
})

describe('configuration', () => {
  it('honours a shorter maximum lifetime and a wider clock skew', async () => {
    const token = sign(HS256, { ...claims, exp: NOW + 120 })
    expect(await verifier({ maxLifetimeSeconds: 60 }).verify(token, NOW)).toEqual({
      ok: false,
      reason: 'lifetime too long',
    })
    expect(await verifier({ clockSkewSeconds: 300 }).verify(token, NOW + 400)).toMatchObject({ ok: true })
  })

  it('accepts any audience when the verifier has none', async () => {
    const v = createTokenVerifier({ secrets: [SECRET] })
    expect(await v.verify(sign(HS256, { ...claims, aud: 'anything' }), NOW)).toMatchObject({ ok: true })
  })

  it('refuses to build without a secret or with an empty one', () => {
    expect(() => createTokenVerifier({ secrets: [] })).toThrow(/at least one secret/)
    expect(() => createTokenVerifier({ secrets: [''] })).toThrow(/must not be empty/)
  })

  it('refuses to mint a token without a target or an expiry', async () => {
    await expect(mintToken(SECRET, { ...claims, tgt: '' })).rejects.toThrow(/tgt/)
    await expect(mintToken(SECRET, { ...claims, exp: Number.NaN })).rejects.toThrow(/exp/)
  })
})

describe('a token id (jti) checked, then redeemed', () => {
  it('is not spent by check, is spent once by redeem, and a spent id then fails check', async () => {
    const v = verifier()
    const token = sign(HS256, { ...claims, jti: 'checked-first' })
    const first = await v.check(token, NOW)
    expect(first).toMatchObject({ ok: true })
    expect(await v.check(token, NOW)).toMatchObject({ ok: true })
    if (!first.ok) throw new Error('expected the token to pass check')
    expect(v.redeem(first.claims, NOW)).toBeUndefined()
    expect(v.redeem(first.claims, NOW)).toBe('token id already used')
    expect(await v.check(token, NOW)).toEqual({ ok: false, reason: 'token id already used' })
  })
})
