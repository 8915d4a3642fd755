// Adversarial tests of the json/jsonb byte reader (textJsonFast) against what it replaced: decode the bytes as
// UTF-8 (invalid sequences → U+FFFD, a leading U+FEFF kept) and JSON.parse them, or textJson's error. Values are
// compared by shape, which json.test.ts's toStrictEqual does not check: key order, own-property descriptors,
// prototypes, -0. The value lies inside a larger buffer with random bytes before and after it, which the reader
// must not let into the value.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { binaryJson, binaryJsonb } from './binary.ts'
import { check, document, mutate, outcome, reference, shape, surrounding, utf8 } from './json.fixture.ts'
import { textJsonFast } from './json.ts'
import { createTypeRegistry } from './registry.ts'

describe('json byte reader against decode + JSON.parse', () => {
  it('gives the value or the error of decode + JSON.parse for grammar-built texts, whatever lies around them', () => {
    fc.assert(
      fc.property(document, surrounding, surrounding, fc.boolean(), (text, before, after, asBuffer) => {
        check(utf8.encode(text), before, after, asBuffer)
      }),
      { numRuns: 1500 },
    )
  })

  it('gives the value or the error of decode + JSON.parse for fast-check json values and spacing', () => {
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.constantFrom(undefined, 1, '\t', '\r\n'),
        surrounding,
        surrounding,
        (value, indent, before, after) => {
          check(utf8.encode(JSON.stringify(value, null, indent as number)), before, after)
        },
      ),
      { numRuns: 800 },
    )
  })

  it('gives the same for mutated texts: a byte replaced, inserted, deleted, or the text cut', () => {
    fc.assert(
      fc.property(
        document,
        fc.nat(),
        fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x22, 0x5c, 0x2c, 0x5d, 0x7d, 0x3a, 0x30)),
        fc.constantFrom(0, 1, 2, 3) as fc.Arbitrary<0 | 1 | 2 | 3>,
        surrounding,
        surrounding,
        (text, position, byte, mode, before, after) => {
          check(mutate(utf8.encode(text), position, byte, mode), before, after)
        },
      ),
      { numRuns: 1500 },
    )
  })

  it('gives the same for random bytes and random JSON-alphabet text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 48 }),
          fc
            .string({
              unit: fc.constantFrom(...'{}[]":,-+.0123456789eEtrufalsn _\\\u00e9\t\n\r\v'),
              maxLength: 40,
            })
            .map((s) => utf8.encode(s)),
        ),
        surrounding,
        surrounding,
        (bytes, before, after) => {
          check(bytes, before, after)
        },
      ),
      { numRuns: 1500 },
    )
  })

  it('reads fixed hard cases as decode + JSON.parse does', () => {
    const cases = [
      '',
      ' ',
      '\ufeff1',
      '\ufeff{}',
      '[\ufeff1]',
      '{"a":\ufeff"x"}',
      '1\ufeff',
      '\u00a01',
      '\v1',
      '\f[]',
      '[1\v]',
      '01',
      '1.',
      '.1',
      '1e',
      '-',
      '+1',
      '1E+2',
      '0x10',
      'Infinity',
      'NaN',
      '-0',
      '[-0]',
      '{"a":-0}',
      '123456789012345',
      '1234567890123456',
      '-123456789012345',
      '[123456789012345,1234567890123456]',
      '12345678901234567890123',
      '1}',
      '1]',
      '1,',
      '1 2',
      '"a"x',
      '{}{}',
      '[]]',
      '{"a":1}}',
      '{"__proto__":1}',
      '{"a":{"__proto__":{"x":1}}}',
      '{"constructor":{"prototype":{"x":1}}}',
      '{"toString":1,"valueOf":2,"hasOwnProperty":3}',
      '{"b":1,"a":2,"1":3,"0":4,"b":5}',
      '"\\ud800"',
      '["\\udfff","\\ud800\\udc00"]',
      '"\u0001"',
      '"\u007f"',
      '"\xff"',
      '{"\u00e9":1}',
      '[1,2,3,]',
      '[,]',
      '{"a"}',
      '{"a":}',
      '{:1}',
      '{1:1}',
      "{'a':1}",
      'tru',
      'truex',
      'nulll',
      '[true,false,null]',
      '[ true , false , null ]',
    ]
    for (const text of cases) {
      const bytes = utf8.encode(text)
      for (const after of ['', '1', ']', '}', ',', ' ', '\u0000', '\u00ff', 'e9'])
        check(bytes, utf8.encode('['), utf8.encode(after))
    }
    const invalid = [
      [0x22, 0xff, 0x22],
      [0x5b, 0xc3, 0x5d],
      [0x31, 0x80],
      [0xed, 0xa0, 0x80],
      [0x7b, 0x22, 0xc0, 0xaf, 0x22, 0x3a, 0x31, 0x7d],
      [0xef, 0xbb, 0xbf, 0x5b, 0x5d],
    ]
    for (const bytes of invalid) check(new Uint8Array(bytes), new Uint8Array(0), new Uint8Array([0x30]))
  })
})

describe('json byte reader at the limits', () => {
  it('reads deep nesting (arrays and objects, 20,000 deep) as JSON.parse does, and the next value after it', () => {
    for (const [open, close] of [
      ['[', ']'],
      ['{"k":', '}'],
    ]) {
      const bytes = utf8.encode(`${open!.repeat(20_000)}1${close!.repeat(20_000)}`)
      let value = textJsonFast(bytes, 0, bytes.length)
      for (let i = 0; i < 20_000; i++)
        value = open === '[' ? (value as unknown[])[0] : (value as { k: unknown }).k
      expect(value).toBe(1)
      // and the reader's state is whole again after the overflow it fell back from
      const small = utf8.encode('{"a":[1,2]}')
      expect(textJsonFast(small, 0, small.length)).toEqual({ a: [1, 2] })
    }
  })

  it('reads a 200,000-element array and a 1 MB string as JSON.parse does', () => {
    const array = `[${Array.from({ length: 200_000 }, (_, i) => (i % 3 === 0 ? i : i % 3 === 1 ? `"s${i % 50}"` : '-0')).join(',')}]`
    const bytes = utf8.encode(array)
    const value = textJsonFast(bytes, 0, bytes.length) as unknown[]
    expect(value).toHaveLength(200_000)
    expect(shape(value)).toEqual(shape(JSON.parse(array)))
    const long = `"${'x'.repeat(1 << 20)}"`
    const longBytes = utf8.encode(long)
    expect(textJsonFast(longBytes, 0, longBytes.length)).toBe(JSON.parse(long))
  })

  it('gives the same error, class and cause included, for a truncated large document', () => {
    const text = JSON.stringify({ rows: Array.from({ length: 1000 }, (_, i) => ({ id: i, name: `n${i}` })) })
    const bytes = utf8.encode(text).subarray(0, 5000)
    check(bytes, new Uint8Array(0), utf8.encode('}]}'))
  })

  it('repeated short strings of one length and hash bucket stay distinct (the recent-strings table)', () => {
    // h = (n * 61 + first * 31 + last) & 0xff: same length, first and last byte, different middle
    const texts: string[] = []
    for (let i = 0; i < 400; i++) {
      const middle = (i * 2654435761).toString(36).slice(0, 6).padEnd(6, 'z')
      texts.push(`{"a${middle}z": "q${middle}q", "a${middle.split('').reverse().join('')}z": 1}`)
    }
    for (let round = 0; round < 2; round++)
      for (const text of texts) check(utf8.encode(text), utf8.encode('x'), utf8.encode('y'))
  })

  it('binary json is the text and binary jsonb is version 1 then the text, with the same values and errors', () => {
    fc.assert(
      fc.property(document, surrounding, (text, after) => {
        const bytes = utf8.encode(text)
        const expected = reference(bytes)
        const json = new Uint8Array([...bytes, ...after])
        expect(outcome(() => binaryJson(json, 0, bytes.length))).toEqual(expected)
        const jsonb = new Uint8Array([9, 1, ...bytes, ...after])
        expect(outcome(() => binaryJsonb(jsonb, 1, 2 + bytes.length))).toEqual(expected)
      }),
      { numRuns: 300 },
    )
    const bad = new Uint8Array([2, 0x31])
    expect(() => binaryJsonb(bad, 0, 2)).toThrow('expected jsonb version 1 in binary format, found 2')
    expect(() => binaryJsonb(bad, 0, 0)).toThrow('expected jsonb version 1 in binary format, found nothing')
  })

  it('the default registry decodes json and jsonb, text and binary, with the byte reader', () => {
    const registry = createTypeRegistry()
    for (const oid of [114, 3802]) expect(registry.textRange(oid)).toBe(textJsonFast)
    expect(registry.binaryRange(114)).toBe(textJsonFast)
    const raw = createTypeRegistry({ raw: true })
    expect(raw.text(3802)(utf8.encode('{"a":1}'))).toBe('{"a":1}')
    const parsed = createTypeRegistry({ parsers: { 3802: (t: string) => `p:${t}` } })
    expect(parsed.text(3802)(utf8.encode('{"a":1}'))).toBe('p:{"a":1}')
    expect(parsed.binaryRange(3802)).toBeUndefined()
  })
})

describe('json byte reader in a changed environment', () => {
  it('gives JSON.parse its own property where Object.prototype has a read-only or a polluted property of that name', () => {
    const text = '{"readOnly": 2, "polluted": 3, "toString": 4}'
    Object.defineProperty(Object.prototype, 'readOnly', { value: 1, writable: false, configurable: true })
    ;(Object.prototype as Record<string, unknown>).polluted = 'proto'
    let fast: unknown
    let parsed: unknown
    try {
      fast = shape(textJsonFast(utf8.encode(text), 0, utf8.encode(text).length))
      parsed = shape(JSON.parse(text))
    } finally {
      delete (Object.prototype as Record<string, unknown>).readOnly
      delete (Object.prototype as Record<string, unknown>).polluted
    }
    expect(fast).toEqual(parsed)
  })

  it('reads the next value whole after one that failed part way, overflowed the stack or threw in JSON.parse', () => {
    const good = utf8.encode('{"a": [1, "b", -0.5]}')
    for (const bad of [
      '{"a": [1, "b"',
      '[1e]',
      `${'['.repeat(30_000)}${']'.repeat(30_000)}`,
      '"\\u00"',
      '[01]',
    ]) {
      const bytes = utf8.encode(bad)
      const r = outcome(() => textJsonFast(bytes, 0, bytes.length))
      expect(r).toEqual(reference(bytes))
      expect(shape(textJsonFast(good, 0, good.length))).toEqual(shape(JSON.parse('{"a": [1, "b", -0.5]}')))
    }
  })

  it('keeps no reference to the buffer it read from once it returned or threw', async () => {
    const v8 = await import('node:v8')
    const vm = await import('node:vm')
    v8.setFlagsFromString('--expose-gc')
    const gc = vm.runInNewContext('gc') as () => void
    const ids: number[] = []
    const finalizers = new FinalizationRegistry((id: number) => {
      ids.push(id)
    })
    const kept: unknown[] = []
    // in a function of its own, so no frame of this test holds the last buffer
    const readOne = (i: number) => {
      const buffer = new ArrayBuffer(1 << 20)
      const bytes = new Uint8Array(buffer)
      const text = utf8.encode(i % 2 === 0 ? `{"k${i}": [${i}, "v"]}` : `{"k${i}": [`)
      bytes.set(text, 100)
      finalizers.register(buffer, i)
      kept.push(outcome(() => textJsonFast(bytes, 100, 100 + text.length)))
    }
    for (let i = 0; i < 20; i++) readOne(i)
    for (let k = 0; k < 20 && ids.length < 20; k++) {
      gc()
      await new Promise((r) => setTimeout(r, 5))
    }
    expect(kept).toHaveLength(20)
    expect(ids.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i))
  })
})
