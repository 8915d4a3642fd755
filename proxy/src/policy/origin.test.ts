// Attack cases C1–C3 (shared/attack-cases.md) at the unit level.
import { describe, expect, it } from 'vitest'
import { createOriginCheck } from './origin.ts'

const origins = (allowMissingOrigin: 'with-token' | 'always' | 'never' = 'with-token') =>
  createOriginCheck({
    allowedOrigins: ['https://app.example.com', 'http://localhost:5173'],
    allowMissingOrigin,
  })

describe('C1: the Origin must match exactly', () => {
  it('admits an allowed origin, with or without a token', () => {
    expect(origins().check('https://app.example.com', false)).toEqual({ ok: true })
    expect(origins().check('http://localhost:5173', true)).toEqual({ ok: true })
  })

  it('compares case-insensitively', () => {
    expect(origins().check('HTTPS://APP.Example.com', false)).toEqual({ ok: true })
  })

  it.each([
    ['https://evil.example', 'origin not allowed'],
    ['https://app.example.com.evil.tld', 'origin not allowed'],
    ['https://evil-app.example.com', 'origin not allowed'],
    ['https://sub.app.example.com', 'origin not allowed'],
    ['http://app.example.com', 'origin not allowed'],
    ['https://app.example.com:8443', 'origin not allowed'],
    ['http://localhost:5174', 'origin not allowed'],
    ['http://localhost', 'origin not allowed'],
    ['https://app.example.com:443', 'malformed origin'],
    ['https://app.example.com/', 'malformed origin'],
    ['https://app.example.com/path', 'malformed origin'],
    ['https://user@app.example.com', 'malformed origin'],
    [' https://app.example.com', 'malformed origin'],
    ['https://app.example.com.', 'origin not allowed'],
    ['app.example.com', 'malformed origin'],
    ['', 'malformed origin'],
    ['null', 'null origin'],
  ])('refuses %j with 403 (%s), even with a valid token', (origin, reason) => {
    expect(origins().check(origin, true)).toEqual({ ok: false, status: 403, reason })
  })

  it('normalizes the configured origins, and throws for one that is not an origin', () => {
    const check = createOriginCheck({
      allowedOrigins: ['HTTPS://App.Example.com:443'],
      allowMissingOrigin: 'never',
    })
    expect(check.check('https://app.example.com', false)).toEqual({ ok: true })
    for (const bad of ['null', 'https://app.example.com/path', 'ftp://x.example', 'app.example.com'])
      expect(() => createOriginCheck({ allowedOrigins: [bad], allowMissingOrigin: 'never' })).toThrow(bad)
  })

  it('refuses every origin when none is configured', () => {
    const check = createOriginCheck({ allowedOrigins: [], allowMissingOrigin: 'always' })
    expect(check.check('https://app.example.com', true)).toMatchObject({ ok: false, status: 403 })
  })
})

describe('C2/C3: no Origin', () => {
  it('with-token: admits no Origin with a valid token, and answers 401 without one', () => {
    expect(origins('with-token').check(undefined, true)).toEqual({ ok: true })
    expect(origins('with-token').check(undefined, false)).toEqual({
      ok: false,
      status: 401,
      reason: 'no origin and no valid token',
    })
  })

  it('always: admits no Origin without a token', () => {
    expect(origins('always').check(undefined, false)).toEqual({ ok: true })
  })

  it('never: refuses no Origin even with a token', () => {
    expect(origins('never').check(undefined, true)).toEqual({ ok: false, status: 403, reason: 'no origin' })
  })

  it('C3: has no cookie input, so a cookie can never stand in for a token', () => {
    // The signature is the guarantee: two parameters, neither of them a cookie.
    expect(origins().check.length).toBe(2)
    expect(origins().check(undefined, false)).toMatchObject({ ok: false, status: 401 })
  })
})
