/**
 * What the json byte reader's adversarial tests share: the reference it is compared with (decode as UTF-8, then
 * JSON.parse, or textJson's error), comparisons by shape, and the generators of texts and surrounding bytes.
 */
import fc from 'fast-check'
import { expect } from 'vitest'
import { PgError } from '../errors.ts'
import { textJsonFast } from './json.ts'
import { textJson } from './text.ts'

export const utf8 = new TextEncoder()
export const lenient = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true })

/** A comparable picture of a value: key order, descriptors, prototypes and -0 included. */
export function shape(value: unknown): unknown {
  if (typeof value === 'number') return Object.is(value, -0) ? ['number', '-0'] : ['number', String(value)]
  if (value === null || typeof value !== 'object') return [typeof value, value]
  const proto = Object.getPrototypeOf(value)
  const kind = Array.isArray(value) ? 'array' : 'object'
  const expectedProto = Array.isArray(value) ? Array.prototype : Object.prototype
  const props = Reflect.ownKeys(value).map((key) => {
    const d = Object.getOwnPropertyDescriptor(value, key)!
    return [String(key), 'value' in d ? shape(d.value) : 'accessor', d.enumerable, d.writable, d.configurable]
  })
  return [kind, proto === expectedProto, props]
}

/** An error as a comparable record: class, message, and its cause's class and message. */
export function describeError(error: unknown): unknown {
  if (!(error instanceof Error)) return ['not an Error', error]
  const cause = error.cause as Error | undefined
  return [
    error.constructor.name,
    error instanceof PgError ? error.kind : undefined,
    error.message,
    cause === undefined ? undefined : [cause.constructor.name, cause.message],
  ]
}

export function outcome(run: () => unknown): unknown {
  try {
    return { value: shape(run()) }
  } catch (error) {
    return { error: describeError(error) }
  }
}

/** The old behaviour on the value's bytes alone, in a buffer of their own. */
export function reference(bytes: Uint8Array): unknown {
  return outcome(() => textJson(bytes.slice(), 0, bytes.length))
}

/** JSON.parse of the lenient decode, with no library code involved. */
export function plainParse(bytes: Uint8Array): unknown {
  const text = lenient.decode(bytes)
  try {
    return { value: shape(JSON.parse(text)) }
  } catch (error) {
    return { parseError: [(error as Error).constructor.name, (error as Error).message] }
  }
}

/** textJsonFast on `bytes` embedded between `before` and `after` (a Node Buffer view with an offset when asked). */
export function embedded(
  bytes: Uint8Array,
  before: Uint8Array,
  after: Uint8Array,
  asBuffer = false,
): unknown {
  const total = new Uint8Array(before.length + bytes.length + after.length + 3)
  total.set(before, 3)
  total.set(bytes, 3 + before.length)
  total.set(after, 3 + before.length + bytes.length)
  const view = asBuffer ? Buffer.from(total.buffer, 3) : total.subarray(3)
  const copy = view.slice()
  const start = before.length
  const result = outcome(() => textJsonFast(view, start, start + bytes.length))
  expect(view).toEqual(copy)
  return result
}

export function check(bytes: Uint8Array, before: Uint8Array, after: Uint8Array, asBuffer = false): void {
  const expected = reference(bytes)
  expect(embedded(bytes, before, after, asBuffer)).toEqual(expected)
  // the reference itself is JSON.parse: same value, or textJson's error around JSON.parse's
  const plain = plainParse(bytes) as { value?: unknown; parseError?: [string, string] }
  if ('value' in plain) expect(expected).toEqual({ value: plain.value })
  else
    expect(expected).toEqual({
      error: [
        'PgError',
        'encode',
        `expected json, found ${JSON.stringify(lenient.decode(bytes).slice(0, 100))}`,
        plain.parseError,
      ],
    })
}

/** Bytes around the value: random, or chosen to extend a number, a word, a string or the structure. */
export const surrounding = fc.oneof(
  fc.uint8Array({ maxLength: 12 }),
  fc
    .constantFrom(
      '',
      '0',
      '9',
      'e5',
      '.5',
      'E',
      '"',
      '"}',
      '}',
      ']',
      ',1]',
      ' ',
      '\t',
      '\n',
      '\\',
      'true',
      'é',
      ':',
    )
    .map((s) => utf8.encode(s)),
  fc.constantFrom(
    new Uint8Array([0xff, 0xff, 0xff, 0xff]),
    new Uint8Array([0, 0, 0, 4]),
    new Uint8Array([0x44, 0, 0, 0, 0x20]),
  ),
)

export const validSpace = fc.constantFrom('', '', ' ', '\t', '\n', '\r', ' \r\n\t ')
/** Characters that look like white space but that JSON does not allow (some of them JavaScript's own). */
export const badSpace = fc.constantFrom(
  '\v',
  '\f',
  '\u00a0',
  '\u2028',
  '\u2029',
  '\ufeff',
  '\u0000',
  '\u0085',
  '\u3000',
)
export const space = fc.oneof({ weight: 20, arbitrary: validSpace }, { weight: 1, arbitrary: badSpace })

export const numberText = fc.oneof(
  fc.double().map((d) => String(d)),
  fc.integer().map(String),
  fc.bigInt({ min: -(10n ** 25n), max: 10n ** 25n }).map(String),
  fc.constantFrom(
    '-0',
    '0',
    '-0.0',
    '0e0',
    '0E-0',
    '01',
    '-01',
    '00',
    '1.',
    '.1',
    '-.1',
    '1e',
    '1e+',
    '-',
    '+1',
    '1E+2',
    '1e-2',
    '2.5E+3',
    '0x10',
    'Infinity',
    '-Infinity',
    'NaN',
    '123456789012345',
    '1234567890123456',
    '999999999999999',
    '9999999999999999',
    '-999999999999999',
    '000000000000001',
    '100000000000000',
    '9007199254740993',
    '1e400',
    '-1e400',
    '5e-324',
    '1_0',
    '1 0',
    '١',
    'true',
    'false',
    'null',
    'True',
    'nul',
    'truee',
    'undefined',
  ),
)

/** Keys and strings: plain, escaped, non-ASCII, control characters, prototype names, lone surrogates. */
export const stringText = fc.oneof(
  fc.string({ maxLength: 12 }).map((s) => JSON.stringify(s)),
  fc.string({ unit: 'binary', maxLength: 8 }).map((s) => JSON.stringify(s)),
  fc.string({ unit: fc.constantFrom('a', 'b', '\u007f', ' ', '~'), maxLength: 80 }).map((s) => `"${s}"`),
  fc.constantFrom(
    '"__proto__"',
    '"constructor"',
    '"toString"',
    '"valueOf"',
    '"hasOwnProperty"',
    '"__defineGetter__"',
    '"length"',
    '"0"',
    '"4294967295"',
    '"-1"',
    '"\\u005f_proto__"',
    '"__proto\\u005f_"',
    '"\\ud800"',
    '"\\udc00x"',
    '"\\ud83d\\ude00"',
    '"\t"',
    '"\u0000"',
    '"\u001f"',
    '"a\nb"',
    '"\\x41"',
    '"\\u12"',
    '"\\"',
    '"é"',
    '"\ufeff"',
    '""',
    '"\\/"',
    "'a'",
  ),
)

/** JSON-like text from a grammar with the literals above: mostly valid, sometimes not. */
export const jsonLike = fc.letrec<{ value: string; member: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    numberText,
    stringText,
    fc
      .tuple(validSpace, fc.array(tie('value'), { maxLength: 5 }), validSpace)
      .map(([a, items, b]) => `[${a}${items.join(',')}${b}]`),
    fc
      .tuple(validSpace, fc.array(tie('member'), { maxLength: 5 }), validSpace)
      .map(([a, members, b]) => `{${a}${members.join(',')}${b}}`),
  ),
  member: fc
    .tuple(stringText, space, space, tie('value'), space)
    .map(([key, s1, s2, value, s3]) => `${key}${s1}:${s2}${value}${s3}`),
})).value

export const document = fc.tuple(space, jsonLike, space).map(([a, v, b]) => `${a}${v}${b}`)

export function mutate(bytes: Uint8Array, position: number, byte: number, mode: 0 | 1 | 2 | 3): Uint8Array {
  if (bytes.length === 0) return new Uint8Array([byte])
  const at = position % bytes.length
  if (mode === 0) {
    const out = bytes.slice()
    out[at] = byte
    return out
  }
  if (mode === 1) return Uint8Array.from([...bytes.subarray(0, at), byte, ...bytes.subarray(at)])
  if (mode === 2) return Uint8Array.from([...bytes.subarray(0, at), ...bytes.subarray(at + 1)])
  return bytes.slice(0, at)
}
