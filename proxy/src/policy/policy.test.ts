// Attack cases S1, S2 and S3 (shared/attack-cases.md) at the unit level: what the policy admits, the exact IP
// it hands to the dialer, and that it does not even resolve what it denies.
import { describe, expect, it } from 'vitest'
import { createPolicy, type PolicyConfig } from './policy.ts'

const RELAY_PORT = 8080

/** A resolver that answers from a table (or per call), recording every lookup. */
function fakeDns(answer: (host: string, call: number) => string[]) {
  const lookups: string[] = []
  const resolve = async (host: string) => {
    lookups.push(host)
    return answer(host, lookups.length).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))
  }
  return { resolve, lookups }
}

function policyWith(
  config: Partial<PolicyConfig>,
  answer: (host: string, call: number) => string[] = () => [],
) {
  const dns = fakeDns(answer)
  const policy = createPolicy({ allow: [], targets: {}, ...config }, { resolve: dns.resolve })
  return { policy, lookups: dns.lookups }
}

describe('S1: addresses no rule covers', () => {
  const { policy, lookups } = policyWith({
    allow: ['127.0.0.1:5432', 'db.internal:5432', '93.184.216.34:5432'],
  })

  it('admits exactly the listed loopback address, and dials it as given', async () => {
    expect(await policy.admit({ address: '127.0.0.1:5432' })).toEqual({
      ok: true,
      target: '127.0.0.1:5432',
      dial: { host: '127.0.0.1', port: 5432 },
    })
  })

  it.each([
    [`127.0.0.1:${RELAY_PORT}`, 'the relay itself'],
    ['127.0.0.1:22', 'another loopback port'],
    ['127.0.0.2:5432', 'another loopback address'],
    ['[::1]:5432', 'IPv6 loopback'],
    ['10.0.0.1:5432', 'a private address'],
    ['172.16.0.1:5432', 'a private address'],
    ['192.168.1.10:5432', 'a private address'],
    ['93.184.216.34:5433', 'a listed public address on another port'],
    ['93.184.216.35:5432', 'an unlisted public address'],
  ])('denies %s (%s) without resolving anything', async (address) => {
    const admission = await policy.admit({ address })
    expect(admission.ok).toBe(false)
    expect(lookups).toEqual([])
  })

  it('denies an unlisted name without resolving it', async () => {
    expect(await policy.admit({ address: 'example.com:5432' })).toEqual({
      ok: false,
      reason: 'name matches no rule',
    })
    expect(await policy.admit({ address: 'db.internal:5433' })).toEqual({
      ok: false,
      reason: 'name matches no rule',
    })
    expect(lookups).toEqual([])
  })

  it('denies a malformed address, or a request naming both or neither', async () => {
    expect(await policy.admit({ address: '127.0.0.1:99999' })).toEqual({ ok: false, reason: 'invalid port' })
    expect(await policy.admit({ address: 'not-an-address' })).toEqual({
      ok: false,
      reason: 'address has no port',
    })
    expect(await policy.admit({ address: '127.0.0.1:5432', target: 'main' })).toEqual({
      ok: false,
      reason: 'both address and target given',
    })
    expect(await policy.admit({})).toEqual({ ok: false, reason: 'no address or target given' })
  })

  it('gives each denial its own reason for the logs', async () => {
    const reasons = new Set<string>()
    for (const address of ['127.0.0.1:22', '93.184.216.35:5432', 'example.com:5432', 'x:0'])
      reasons.add(((await policy.admit({ address })) as { reason: string }).reason)
    expect(reasons.size).toBe(4)
  })
})

describe('S1: network rules', () => {
  it('admits a private network a rule names, on its port only', async () => {
    const { policy } = policyWith({ allow: ['10.0.0.0/8:5432'] })
    expect(await policy.admit({ address: '10.1.2.3:5432' })).toMatchObject({ ok: true })
    expect(await policy.admit({ address: '10.1.2.3:22' })).toMatchObject({ ok: false })
    expect(await policy.admit({ address: '192.168.0.1:5432' })).toMatchObject({ ok: false })
  })

  it('does not open loopback, private or metadata ranges for a catch-all rule', async () => {
    const { policy, lookups } = policyWith({ allow: ['0.0.0.0/0:*', '::/0:*'] })
    for (const address of ['127.0.0.1:5432', '10.0.0.1:5432', '169.254.169.254:80', '[::1]:5432', '0:5432'])
      expect(await policy.admit({ address })).toMatchObject({ ok: false })
    expect(await policy.admit({ address: '93.184.216.34:5432' })).toMatchObject({ ok: true })
    expect(lookups).toEqual([])
  })

  it('with allowPrivate, admits a private address a rule covers but still requires a rule', async () => {
    const { policy } = policyWith({ allow: ['0.0.0.0/0:5432'], allowPrivate: true })
    expect(await policy.admit({ address: '10.0.0.1:5432' })).toMatchObject({ ok: true })
    expect(await policy.admit({ address: '127.0.0.1:5432' })).toMatchObject({ ok: true })
    expect(await policy.admit({ address: '127.0.0.1:22' })).toMatchObject({ ok: false })
    expect(await policy.admit({ address: '169.254.169.254:5432' })).toMatchObject({ ok: false })
  })
})

describe('S2: named targets and tokens', () => {
  const { policy } = policyWith({
    allow: ['93.184.216.34:5432'],
    targets: { main: { host: '127.0.0.1', port: 5432 } },
  })

  it('admits a configured target by name and dials its address', async () => {
    expect(await policy.admit({ target: 'main' })).toEqual({
      ok: true,
      target: 'main',
      dial: { host: '127.0.0.1', port: 5432 },
    })
  })

  it('denies an unknown target name, including names of Object.prototype members', async () => {
    for (const target of ['nope', '__proto__', 'constructor', 'toString', ''])
      expect(await policy.admit({ target })).toEqual({ ok: false, reason: 'unknown target name' })
  })

  it('denies a token for an unknown target, or for another target than the request names', async () => {
    expect(await policy.admit({ target: 'nope', tokenTarget: 'nope' })).toEqual({
      ok: false,
      reason: 'unknown target name',
    })
    expect(await policy.admit({ target: 'main', tokenTarget: 'nope' })).toEqual({
      ok: false,
      reason: 'token is for another target',
    })
    expect(await policy.admit({ address: '93.184.216.34:5432', tokenTarget: 'main' })).toEqual({
      ok: false,
      reason: 'token is for another target',
    })
    expect(await policy.admit({ address: '127.0.0.1:5432', tokenTarget: 'main' })).toMatchObject({
      ok: false,
    })
  })

  it('admits an address equal to the token target in any spelling', async () => {
    expect(
      await policy.admit({ address: '93.184.216.34:5432', tokenTarget: '93.184.216.34:5432' }),
    ).toMatchObject({ ok: true, target: '93.184.216.34:5432' })
    expect(
      await policy.admit({ address: '1572395042:5432', tokenTarget: '93.184.216.34:5432' }),
    ).toMatchObject({
      ok: true,
      dial: { host: '93.184.216.34', port: 5432 },
    })
    expect(await policy.admit({ target: 'main', tokenTarget: 'main' })).toMatchObject({ ok: true })
  })

  it('throws at creation for a bad rule or target', () => {
    expect(() => createPolicy({ allow: ['10.0.0.0/8'], targets: {} })).toThrow(/allow rule "10.0.0.0\/8"/)
    expect(() => createPolicy({ allow: [], targets: { x: { host: 'db', port: 0 } } })).toThrow(/target "x"/)
  })
})

describe('S3: hidden blocked addresses', () => {
  const spellings = [
    '2852039166',
    '0xA9FEA9FE',
    '0251.0376.0251.0376',
    '127.1',
    '0',
    '[::ffff:169.254.169.254]',
    '[::ffff:127.0.0.1]',
    'metadata.google.internal',
    'metadata',
    'localhost.',
    '[::1]',
    '[fe80::1]',
    '[64:ff9b::a9fe:a9fe]',
    '[2002:a9fe:a9fe::]',
  ]

  it.each(spellings)('denies %s under catch-all rules, resolving only real names', async (host) => {
    const { policy, lookups } = policyWith({ allow: ['0.0.0.0/0:*', '::/0:*'] }, (name) =>
      name === 'localhost' ? ['127.0.0.1', '::1'] : ['169.254.169.254'],
    )
    expect(await policy.admit({ address: `${host}:5432` })).toMatchObject({ ok: false })
    expect(lookups).toEqual(host === 'localhost.' ? ['localhost'] : [])
  })

  it('denies a name listed by an exact rule when it resolves to a private address', async () => {
    const { policy, lookups } = policyWith({ allow: ['db.example:5432'] }, () => ['10.0.0.5'])
    expect(await policy.admit({ address: 'db.example:5432' })).toEqual({
      ok: false,
      reason: 'name resolves to 10.0.0.5 (private)',
    })
    expect(lookups).toEqual(['db.example'])
  })

  it('denies a listed name when any of its addresses is blocked', async () => {
    const { policy } = policyWith({ allow: ['db.example:5432'] }, () => ['93.184.216.34', '169.254.169.254'])
    expect(await policy.admit({ address: 'db.example:5432' })).toMatchObject({ ok: false })
  })

  it('denies metadata names even when a rule lists them as a target host', () => {
    expect(() =>
      createPolicy({ allow: [], targets: { meta: { host: 'metadata.google.internal', port: 80 } } }),
    ).toThrow(/metadata/)
  })

  it('resolves once and dials the validated IP when a second lookup would rebind to a private one', async () => {
    const { policy, lookups } = policyWith({ allow: ['db.example:5432'] }, (_, call) =>
      call === 1 ? ['93.184.216.34'] : ['10.0.0.1'],
    )
    expect(await policy.admit({ address: 'db.example:5432' })).toEqual({
      ok: true,
      target: 'db.example:5432',
      dial: { host: '93.184.216.34', port: 5432 },
    })
    expect(lookups).toEqual(['db.example'])
  })

  it('admits a listed name resolving to loopback only when a rule opens loopback', async () => {
    const closed = policyWith({ allow: ['db.example:5432'] }, () => ['127.0.0.1'])
    expect(await closed.policy.admit({ address: 'db.example:5432' })).toMatchObject({ ok: false })
    const open = policyWith({ allow: ['db.example:5432', '127.0.0.1/32:5432'] }, () => ['127.0.0.1'])
    expect(await open.policy.admit({ address: 'db.example:5432' })).toMatchObject({
      ok: true,
      dial: { host: '127.0.0.1', port: 5432 },
    })
  })

  it('admits an unlisted name only through a network rule covering what it resolves to', async () => {
    const { policy } = policyWith({ allow: ['93.184.216.0/24:5432'] }, (name) =>
      name === 'in.example' ? ['93.184.216.34'] : ['8.8.8.8'],
    )
    expect(await policy.admit({ address: 'in.example:5432' })).toMatchObject({
      ok: true,
      dial: { host: '93.184.216.34' },
    })
    expect(await policy.admit({ address: 'out.example:5432' })).toEqual({
      ok: false,
      reason: 'name resolves to 8.8.8.8 (no rule)',
    })
  })

  it('denies a name whose resolver fails', async () => {
    const policy = createPolicy(
      { allow: ['db.example:5432'], targets: {} },
      {
        resolve: async () => {
          throw new Error('ENOTFOUND')
        },
      },
    )
    expect(await policy.admit({ address: 'db.example:5432' })).toEqual({
      ok: false,
      reason: 'name does not resolve',
    })
  })
})
