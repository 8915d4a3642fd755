import { describe, expect, it } from 'vitest'
import { createAllowlistPolicy } from './allowlist.ts'

const policy = createAllowlistPolicy({
  allow: ['db.example.com:5432', '203.0.113.7:5432', '[2001:db8::7]:6432'],
  targets: { main: { host: 'main.db.example.com', port: 5432 } },
})

describe('createAllowlistPolicy', () => {
  it('admits a listed host:port in any spelling of the same host, and dials it as canonicalized', async () => {
    expect(await policy.admit({ address: 'DB.Example.com.:5432' })).toEqual({
      ok: true,
      target: 'db.example.com:5432',
      dial: { host: 'db.example.com', port: 5432 },
    })
    expect(await policy.admit({ address: '3405803783:5432' })).toEqual({
      ok: true,
      target: '203.0.113.7:5432',
      dial: { host: '203.0.113.7', port: 5432 },
    })
    expect(await policy.admit({ address: '[2001:0db8:0::7]:6432' })).toMatchObject({ ok: true })
  })

  it('refuses a listed host on another port, an unlisted host, and a malformed address', async () => {
    for (const address of ['db.example.com:5433', 'other.example.com:5432', 'db.example.com', '[::1]:5432']) {
      expect({ address, ok: (await policy.admit({ address })).ok }).toEqual({ address, ok: false })
    }
  })

  it('admits a named target, and only the one a token names', async () => {
    expect(await policy.admit({ target: 'main' })).toEqual({
      ok: true,
      target: 'main',
      dial: { host: 'main.db.example.com', port: 5432 },
    })
    expect(await policy.admit({ target: 'main', tokenTarget: 'other' })).toEqual({
      ok: false,
      reason: 'token is for another target',
    })
    expect(await policy.admit({ address: 'db.example.com:5432', tokenTarget: '203.0.113.7:5432' })).toEqual({
      ok: false,
      reason: 'token is for another target',
    })
    expect((await policy.admit({ target: 'nope' })).ok).toBe(false)
  })

  it('refuses network rules at configuration, because names cannot be checked against them', () => {
    expect(() => createAllowlistPolicy({ allow: ['10.0.0.0/8:5432'], targets: {} })).toThrow(
      'allow rule "10.0.0.0/8:5432" is a network',
    )
    expect(() => createAllowlistPolicy({ allow: ['metadata.google.internal:80'], targets: {} })).toThrow(
      'cloud metadata host',
    )
  })
})
