import { describe, expect, it } from 'vitest'
import { isPgError } from '../errors.ts'
import { checkAuthMethod, parseRequireAuth } from './require-auth.ts'

describe('require_auth', () => {
  it('parses a list of methods, as a string or an array', () => {
    expect([...parseRequireAuth('scram-sha-256, md5').allowed]).toEqual(['scram-sha-256', 'md5'])
    expect([...parseRequireAuth(['none']).allowed]).toEqual(['none'])
  })

  it('reads !method as "any method but these"', () => {
    const { allowed } = parseRequireAuth('!password,!md5')
    expect(allowed.has('scram-sha-256')).toBe(true)
    expect(allowed.has('none')).toBe(true)
    expect(allowed.has('password')).toBe(false)
    expect(allowed.has('md5')).toBe(false)
  })

  it('refuses unknown, repeated, empty and mixed entries with kind config', () => {
    const invalid =
      /is invalid: expected a comma-separated list of distinct methods from password, md5, scram-sha-256, none, gss, sspi, all plain or all prefixed with !/
    const cases: [unknown, RegExp][] = [
      ['scram', /require_auth "scram" is invalid/],
      ['md5,md5', invalid],
      ['md5,', invalid],
      ['', invalid],
      ['!md5,password', invalid],
      ['md5,!password', invalid],
      [42, /require_auth "42" is invalid/],
    ]
    for (const [value, message] of cases) {
      let caught: unknown
      try {
        parseRequireAuth(value)
      } catch (error) {
        caught = error
      }
      expect(isPgError(caught, 'config')).toBe(true)
      expect((caught as Error).message).toMatch(message)
    }
  })

  it('checkAuthMethod throws kind auth naming the requirement and what the server asked', () => {
    const requirement = parseRequireAuth('scram-sha-256')
    expect(() => checkAuthMethod(requirement, 'scram-sha-256', 'asked for SASL')).not.toThrow()
    expect(() => checkAuthMethod(undefined, 'password', 'asked for a cleartext password')).not.toThrow()
    expect(() => checkAuthMethod(requirement, 'password', 'asked for a cleartext password')).toThrow(
      'authentication method requirement "scram-sha-256" failed: the server asked for a cleartext password; nothing secret was sent',
    )
  })
})
