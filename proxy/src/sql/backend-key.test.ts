/**
 * The pool key of a backend: equal for equal login parts in any parameter order, different for any other
 * part, and never holding the password itself.
 */
import { describe, expect, it } from 'vitest'
import { backendKey, newHmacKey } from './backend-key.ts'

describe('backendKey', () => {
  const hmacKey = newHmacKey()
  const parts = { target: 'db:5432', user: 'app', database: 'app', password: 'hunter2' }

  it('is equal for equal parts, whatever the order of the parameters', () => {
    const one = backendKey({ ...parts, parameters: { application_name: 'x', options: '-c a=1' } }, hmacKey)
    const two = backendKey({ ...parts, parameters: { options: '-c a=1', application_name: 'x' } }, hmacKey)
    expect(one).toBe(two)
  })

  it('differs for any other password, parameter, user, database or target', () => {
    const base = backendKey(parts, hmacKey)
    const others = [
      { ...parts, password: 'hunter3' },
      { ...parts, password: undefined },
      { ...parts, password: '' },
      { ...parts, parameters: { application_name: '' } },
      { ...parts, user: 'app2' },
      { ...parts, database: 'app2' },
      { ...parts, target: 'db:5433' },
    ].map((other) => backendKey(other, hmacKey))
    expect(new Set([base, ...others]).size).toBe(others.length + 1)
    expect(backendKey({ ...parts, password: undefined }, hmacKey)).not.toBe(
      backendKey({ ...parts, password: '' }, hmacKey),
    )
  })

  it('never contains the password and depends on the process key', () => {
    const key = backendKey(parts, hmacKey)
    expect(key).not.toContain('hunter2')
    expect(key).toMatch(/"[0-9a-f]{64}"\]$/)
    expect(backendKey(parts, newHmacKey())).not.toBe(key)
  })

  it('refuses parts that are not strings and short keys, without echoing values', () => {
    expect(() => backendKey({ ...parts, user: 5 as unknown as string }, hmacKey)).toThrow(
      'backend key user must be a string, found number',
    )
    expect(() => backendKey({ ...parts, parameters: { x: 1 as unknown as string } }, hmacKey)).toThrow(
      'backend key parameter "x" must be a string, found number',
    )
    expect(() => backendKey(parts, new Uint8Array(8))).toThrow(
      'hmacKey must be at least 32 random bytes (newHmacKey()), found 8 bytes',
    )
  })
})
