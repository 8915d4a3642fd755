import { describe, expect, it } from 'vitest'
import { keptNumber, MAX_KEPT_NUMBERS, parseKeepingNumbers, TooManyKeptNumbersError } from './json-numbers.ts'

describe('parseKeepingNumbers', () => {
  it('keeps the digits of numbers Number would change, anywhere, and writes them back unchanged', () => {
    const text =
      '{"a":[9007199254740993,1.0,-0,1e2,0.10,12345678901234567890.50],"b":{"c":1.50},"d":3,"e":"1.0"}'
    const value = parseKeepingNumbers(text) as { a: unknown[]; d: number; e: string }
    expect(JSON.stringify(value)).toBe(text)
    expect(keptNumber(value.a[0])).toBe('9007199254740993')
    expect(value.d).toBe(3)
    expect(value.e).toBe('1.0')
  })

  it('leaves numbers inside strings alone, escaped quotes and backslashes included', () => {
    const text = '["say \\"1.0\\" and \\\\", "9007199254740993", 1.0]'
    expect(JSON.stringify(parseKeepingNumbers(text))).toBe(
      '["say \\"1.0\\" and \\\\","9007199254740993",1.0]',
    )
  })

  it('parses as JSON.parse when no number would change, and fails as it does', () => {
    expect(parseKeepingNumbers('[1,2,-3,0.5,"x"]')).toEqual([1, 2, -3, 0.5, 'x'])
    expect(() => parseKeepingNumbers('[1.0,')).toThrow(SyntaxError)
    expect(() => parseKeepingNumbers('{"a":1')).toThrow(SyntaxError)
  })

  it('does not mistake a string of the client for a kept number, nor let __proto__ become a prototype', () => {
    const value = parseKeepingNumbers('{"s":"\\u0000abc:1.0","__proto__":1.0,"n":1.0}') as Record<
      string,
      unknown
    >
    expect(value.s).toBe('\u0000abc:1.0')
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype)
    expect(Object.hasOwn(value, '__proto__')).toBe(true)
    expect(JSON.stringify(value)).toBe('{"s":"\\u0000abc:1.0","__proto__":1.0,"n":1.0}')
  })

  it('handles any depth JSON.parse does (the walk does not recurse)', () => {
    let node = parseKeepingNumbers(`${'['.repeat(5000)}1.0${']'.repeat(5000)}`) as unknown[]
    for (let depth = 1; depth < 5000; depth++) node = node[0] as unknown[]
    expect(keptNumber(node[0])).toBe('1.0')
  })

  it('keeps at most MAX_KEPT_NUMBERS numbers, and says so past it', () => {
    const list = (n: number) => `[${Array(n).fill('1.0').join(',')}]`
    expect((parseKeepingNumbers(list(MAX_KEPT_NUMBERS)) as unknown[]).length).toBe(MAX_KEPT_NUMBERS)
    expect(() => parseKeepingNumbers(list(MAX_KEPT_NUMBERS + 1))).toThrow(TooManyKeptNumbersError)
    // Plain numbers cost nothing extra and have no such bound.
    expect((parseKeepingNumbers(`[${Array(100_000).fill('7').join(',')}]`) as unknown[]).length).toBe(100_000)
  })
})
