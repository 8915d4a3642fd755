import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { textJsonFast as textJson } from './json.ts'

const utf8 = new TextEncoder()
const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true })

/** What textJson returned before the byte reader: decode the whole text, then JSON.parse (or its error). */
function reference(bytes: Uint8Array): { value: unknown } | { error: string } {
  const text = utf8Decoder.decode(bytes)
  try {
    return { value: JSON.parse(text) }
  } catch {
    return { error: `expected json, found ${JSON.stringify(text.slice(0, 100))}` }
  }
}

/** textJson on `bytes` lying between `before` and `after`, which it must not read. */
function decoded(bytes: Uint8Array, before = '', after = ''): { value: unknown } | { error: string } {
  const head = utf8.encode(before)
  const tail = utf8.encode(after)
  const buffer = new Uint8Array(head.length + bytes.length + tail.length)
  buffer.set(head)
  buffer.set(bytes, head.length)
  buffer.set(tail, head.length + bytes.length)
  try {
    return { value: textJson(buffer, head.length, head.length + bytes.length) }
  } catch (error) {
    return { error: (error as Error).message }
  }
}

/** Bytes that could extend or break a value if the reader went past its end. */
const edge = fc.constantFrom('', '0', '1', 'e', '.', '"', '}', ']', ',', ' ', '\\', 'true', '\u00e9')

/** JSON texts with the spacing jsonb prints, JSON.stringify's, or none. */
const jsonText = fc
  .tuple(fc.jsonValue(), fc.constantFrom(undefined, 0, 1, 2, '\t'))
  .map(([value, indent]) => JSON.stringify(value, null, indent))

/** Bytes replaced or inserted at a random place: quotes, escapes, digits, signs, non-ASCII and invalid UTF-8. */
const damage = fc.constantFrom(
  0x22,
  0x5c,
  0x30,
  0x31,
  0x2d,
  0x2b,
  0x2e,
  0x65,
  0x45,
  0x7b,
  0x7d,
  0x5b,
  0x5d,
  0x2c,
  0x3a,
  0x20,
  0x0a,
  0x00,
  0x1f,
  0x7f,
  0x80,
  0xc3,
  0xe2,
  0xef,
  0xff,
)

describe('json text read from its bytes', () => {
  it('gives what JSON.parse gives for any JSON value, whatever lies around it', () => {
    fc.assert(
      fc.property(jsonText, edge, edge, (text, before, after) => {
        const bytes = utf8.encode(text)
        expect(decoded(bytes, before, after)).toStrictEqual(reference(bytes))
      }),
      { numRuns: 1000 },
    )
  })

  it('gives what JSON.parse gives, value or error, for damaged JSON', () => {
    fc.assert(
      fc.property(jsonText, fc.nat(), damage, fc.boolean(), edge, (text, position, byte, insert, after) => {
        const good = utf8.encode(text)
        const isInsert = insert || good.length === 0
        const at = position % (good.length + (isInsert ? 1 : 0))
        const bytes = new Uint8Array(good.length + (isInsert ? 1 : 0))
        bytes.set(good.subarray(0, at))
        bytes[at] = byte
        bytes.set(good.subarray(isInsert ? at : at + 1), at + 1)
        expect(decoded(bytes, '', after)).toStrictEqual(reference(bytes))
      }),
      { numRuns: 1000 },
    )
  })

  it('gives what JSON.parse gives for arbitrary text and bytes', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 40 }).map((s) => utf8.encode(s)),
          fc
            .string({ unit: fc.constantFrom(...'{}[]":,-+.0123456789eEtrufalsn \\\u00e9'), maxLength: 30 })
            .map((s) => utf8.encode(s)),
          fc.uint8Array({ maxLength: 40 }),
        ),
        edge,
        (bytes, after) => {
          expect(decoded(bytes, '', after)).toStrictEqual(reference(bytes))
        },
      ),
      { numRuns: 1000 },
    )
  })

  it('keeps -0, long integers, exponents and escapes as JSON.parse reads them', () => {
    for (const text of [
      '-0',
      '[-0, 0, -0.0, 0e5]',
      '123456789012345',
      '1234567890123456789012',
      '-9007199254740993',
      '1e400',
      '-1E-400',
      '2.5e+3',
      '"a\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\ud800"',
      '{"é": "ü", "a\\u0000b": 1}',
      '{"a": 1, "a": 2, "b": 3, "a": 4}',
      '{"2": "x", "1": "y", "b": "z"}',
      ' \t\r\n{ "k" : [ 1 , 2 ] } \n',
    ]) {
      const bytes = utf8.encode(text)
      expect(decoded(bytes), text).toStrictEqual(reference(bytes))
    }
    expect(Object.is((decoded(utf8.encode('-0')) as { value: unknown }).value, -0)).toBe(true)
  })

  it('fails where JSON.parse fails, with the error textJson always gave', () => {
    for (const text of [
      '',
      ' ',
      '{"a":}',
      '{"a" 1}',
      '{"a":1,}',
      '{,}',
      '[,1]',
      '[1,]',
      '[1 2]',
      '01',
      '-',
      '1.',
      '.5',
      '+1',
      '1e',
      'tru',
      'True',
      'nul',
      'NaN',
      'Infinity',
      '"a',
      '"a\\"',
      '"\\u12"',
      '"tab\there"',
      '{"a": 1}}',
      '[[1]',
    ]) {
      const bytes = utf8.encode(text)
      expect(decoded(bytes, '', '}'), text).toStrictEqual(reference(bytes))
      expect('error' in decoded(bytes), text).toBe(true)
    }
  })

  it('makes a __proto__ key an own property and leaves the prototype alone', () => {
    const bytes = utf8.encode('{"__proto__": {"polluted": true}, "a": 1}')
    const value = textJson(bytes, 0, bytes.length) as Record<string, unknown>
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype)
    expect(Object.keys(value)).toEqual(['__proto__', 'a'])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('reads values nested deeper than the byte reader goes', () => {
    const text = `${'['.repeat(5000)}1${']'.repeat(5000)}`
    const bytes = utf8.encode(text)
    let value = textJson(bytes, 0, bytes.length)
    for (let depth = 0; depth < 5000; depth++) value = (value as unknown[])[0]
    expect(value).toBe(1)
  })

  it('returns a repeated short string with the same text each time, not a stale one', () => {
    // two strings of the same length and hash bucket must not be mistaken for each other
    const texts = Array.from({ length: 2000 }, (_, i) => `{"k${i % 37}": "v${(i * 7919) % 1000}"}`)
    for (const text of texts) expect(decoded(utf8.encode(text))).toStrictEqual(reference(utf8.encode(text)))
  })
})

describe('textJsonFast, after the adversarial review', () => {
  /** Runs `body` with JSON.parse counting the texts it is given. */
  function parsedDuring(body: () => void): string[] {
    const parsed: string[] = []
    const original = JSON.parse
    JSON.parse = ((text: string, reviver?: Parameters<typeof JSON.parse>[1]) => {
      parsed.push(text)
      return original(text, reviver)
    }) as typeof JSON.parse
    try {
      body()
    } finally {
      JSON.parse = original
    }
    return parsed
  }

  it('reads a top-level number or word that ends the row or precedes a NULL without parsing the bytes after it', () => {
    const values: unknown[] = []
    const parsed = parsedDuring(() => {
      values.push(textJson(new Uint8Array([0x31, 0x44, 0, 0, 0, 20]), 0, 1))
      values.push(textJson(new Uint8Array([0x74, 0x72, 0x75, 0x65, 0xff, 0xff, 0xff, 0xff]), 0, 4))
      values.push(textJson(new Uint8Array([0x2d, 0x32, 0x2e, 0x35, 0x65, 0x33, 0x43]), 0, 6))
    })
    expect(values).toEqual([1, true, -2500])
    expect(parsed).toEqual([])
  })

  it('reads negatives, floats, exponents, true, false and null without JSON.parse', () => {
    const text = '[-1, 0.5, -0, 1e3, 2E-2, 1.25e+2, true, false, null, 123456789012345678]'
    const bytes = new TextEncoder().encode(text)
    let value: unknown
    const parsed = parsedDuring(() => {
      value = textJson(bytes, 0, bytes.length)
    })
    expect(parsed).toEqual([])
    expect(value).toStrictEqual(JSON.parse(text))
    expect(Object.is((value as number[])[2], -0)).toBe(true)
  })

  it('makes every key an own property even where Object.prototype has a setter of that name, as JSON.parse does', () => {
    const calls: unknown[] = []
    Object.defineProperty(Object.prototype, 'watched', {
      set(v) {
        calls.push(v)
      },
      get() {
        return 'from the prototype'
      },
      configurable: true,
    })
    let own: boolean
    try {
      const bytes = new TextEncoder().encode('{"watched": 1}')
      own = Object.hasOwn(textJson(bytes, 0, bytes.length) as object, 'watched')
    } finally {
      delete (Object.prototype as Record<string, unknown>).watched
    }
    expect({ own, calls }).toEqual({ own: true, calls: [] })
  })

  it('fails on trailing garbage even when JSON.parse re-enters the reader', () => {
    const original = JSON.parse
    let reentered = false
    const other = new TextEncoder().encode('12345')
    JSON.parse = ((text: string, reviver?: Parameters<typeof JSON.parse>[1]) => {
      if (!reentered) {
        reentered = true
        textJson(other, 0, other.length)
      }
      return original(text, reviver)
    }) as typeof JSON.parse
    let outcome: unknown
    try {
      const bytes = new TextEncoder().encode('1.5 x')
      outcome = textJson(bytes, 0, bytes.length)
    } catch (error) {
      outcome = (error as Error).message
    } finally {
      JSON.parse = original
    }
    expect(outcome).toBe('expected json, found "1.5 x"')
  })
})
