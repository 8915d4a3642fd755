import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { jsonValue, toCsv, toJson, uniqueKeys } from './export.ts'

/**
 * An independent RFC 4180 reader for the round trip: records of fields, each field's text and whether it was
 * quoted (an unquoted empty field is how the export writes NULL).
 */
function parseCsv(text: string, lineEnd: string): { text: string; quoted: boolean }[][] {
  const records: { text: string; quoted: boolean }[][] = []
  let record: { text: string; quoted: boolean }[] = []
  let at = 0
  for (;;) {
    let field = ''
    let quoted = false
    if (text[at] === '"') {
      quoted = true
      at++
      for (;;) {
        const close = text.indexOf('"', at)
        if (close < 0) throw new Error(`unterminated quoted field at ${at}`)
        field += text.slice(at, close)
        at = close + 1
        if (text[at] !== '"') break
        field += '"'
        at++
      }
    } else {
      while (at < text.length && text[at] !== ',' && !text.startsWith(lineEnd, at)) {
        if (text[at] === '"' || text[at] === '\r' || text[at] === '\n') {
          throw new Error(`unquoted field holds ${JSON.stringify(text[at])} at ${at}`)
        }
        field += text[at++]
      }
    }
    record.push({ text: field, quoted })
    if (text[at] === ',') {
      at++
      continue
    }
    if (!text.startsWith(lineEnd, at)) throw new Error(`expected a separator at ${at}`)
    at += lineEnd.length
    records.push(record)
    record = []
    if (at === text.length) return records
  }
}

const awkwardText = fc.string({
  unit: fc.oneof(
    fc.constantFrom(',', '"', '\r', '\n', '\r\n', ' ', '\\', '.', 'NULL', ''),
    fc.string({ unit: 'grapheme', maxLength: 1 }),
  ),
  maxLength: 12,
})
/** Columns and rows of text or NULL, every row as wide as the header. */
const table = fc.integer({ min: 1, max: 4 }).chain((width) =>
  fc.record({
    names: fc.array(
      awkwardText.filter((name) => name !== ''),
      { minLength: width, maxLength: width },
    ),
    rows: fc.array(fc.array(fc.option(awkwardText, { nil: null }), { minLength: width, maxLength: width }), {
      maxLength: 6,
    }),
  }),
)

describe('toCsv', () => {
  it('round-trips names and values, NULL as an unquoted empty field apart from the quoted empty string', () => {
    fc.assert(
      fc.property(table, fc.constantFrom('\r\n' as const, '\n' as const), ({ names, rows }, lineEnd) => {
        const csv = toCsv({ fields: names.map((name) => ({ name })), rows }, { lineEnd })
        const [header, ...records] = parseCsv(csv, lineEnd)
        expect(header!.map((field) => field.text)).toEqual(names)
        expect(
          records.map((record) =>
            record.map((field) => (field.text === '' && !field.quoted ? null : field.text)),
          ),
        ).toEqual(rows)
      }),
    )
  })

  it('ends lines with CRLF unless told LF, quotes only what needs it and doubles quotes', () => {
    const data = {
      fields: [{ name: 'a' }, { name: 'b' }],
      rows: [
        ['x,y', 'say "hi"'],
        [null, ''],
        ['1', 'two\nlines'],
      ],
    }
    expect(toCsv(data)).toBe('a,b\r\n"x,y","say ""hi"""\r\n,""\r\n1,"two\nlines"\r\n')
    expect(toCsv(data, { lineEnd: '\n' })).toBe('a,b\n"x,y","say ""hi"""\n,""\n1,"two\nlines"\n')
  })

  it('writes values as the grid shows them: bigint exactly, bytea as hex, the text NULL as text', () => {
    const data = {
      fields: [{ name: 'big' }, { name: 'bytes' }, { name: 'word' }],
      rows: [[2n ** 63n - 1n, Uint8Array.of(0, 255), 'NULL']],
    }
    expect(toCsv(data)).toBe('big,bytes,word\r\n9223372036854775807,\\x00ff,NULL\r\n')
  })

  it('quotes a lone \\. in a one-column file, which COPY FROM would read as the end of the data', () => {
    expect(toCsv({ fields: [{ name: 'x' }], rows: [['\\.'], ['.']] })).toBe('x\r\n"\\."\r\n.\r\n')
    expect(toCsv({ fields: [{ name: 'x' }, { name: 'y' }], rows: [['\\.', '1']] })).toBe('x,y\r\n\\.,1\r\n')
  })

  it('refuses a line end other than CRLF or LF, saying what it found', () => {
    expect(() => toCsv({ fields: [], rows: [] }, { lineEnd: '\r' as '\n' })).toThrow(
      "lineEnd must be '\\r\\n' or '\\n', found \"\\r\"",
    )
  })
})

describe('uniqueKeys', () => {
  it('gives one distinct key per column, keeping names that are not repeated and the first of those that are', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', 'a_2', 'a_3', 'b', '__proto__', ''), { maxLength: 8 }),
        (names) => {
          const keys = uniqueKeys(names)
          expect(keys).toHaveLength(names.length)
          expect(new Set(keys).size).toBe(keys.length)
          names.forEach((name, index) => {
            if (names.indexOf(name) === index) expect(keys[index]).toBe(name)
            else expect(keys[index]!.startsWith(`${name}_`)).toBe(true)
          })
        },
      ),
    )
    expect(uniqueKeys(['a', 'a', 'a_2', 'a'])).toEqual(['a', 'a_3', 'a_2', 'a_4'])
  })
})

describe('toJson', () => {
  it('writes one object per row with every column, in order, and values that read back', () => {
    const value = fc.oneof(
      fc.constant(null),
      fc.string(),
      fc.boolean(),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.bigInt(),
    )
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4 }).chain((width) =>
          fc.record({
            names: fc.array(fc.constantFrom('a', 'b', '__proto__', '1', 'a_2', 'x y'), {
              minLength: width,
              maxLength: width,
            }),
            rows: fc.array(fc.array(value, { minLength: width, maxLength: width }), { maxLength: 5 }),
          }),
        ),
        ({ names, rows }) => {
          const parsed = JSON.parse(toJson({ fields: names.map((name) => ({ name })), rows })) as Record<
            string,
            unknown
          >[]
          const keys = uniqueKeys(names)
          expect(parsed).toHaveLength(rows.length)
          parsed.forEach((object, index) => {
            expect(Object.getOwnPropertyNames(object).sort()).toEqual([...keys].sort())
            keys.forEach((key, column) => {
              const expected = rows[index]![column]
              const own = Object.getOwnPropertyDescriptor(object, key)?.value
              if (typeof expected === 'bigint') expect(own).toBe(expected.toString())
              else if (Object.is(expected, -0)) expect(own).toBe(0)
              else expect(own).toEqual(expected)
            })
          })
        },
      ),
    )
  })

  it('keeps int8 digits exact, writes NaN and infinities as strings, bytea as hex, arrays and json as JSON', () => {
    expect(jsonValue(9007199254740993n)).toBe('"9007199254740993"')
    expect(jsonValue('12345678901234567890.000001')).toBe('"12345678901234567890.000001"')
    expect(jsonValue(Number.NaN)).toBe('"NaN"')
    expect(jsonValue(Number.NEGATIVE_INFINITY)).toBe('"-Infinity"')
    expect(jsonValue(Uint8Array.of(0xde, 0xad))).toBe('"\\\\xdead"')
    expect(jsonValue([1n, null, [2.5]])).toBe('["1",null,[2.5]]')
    expect(jsonValue({ a: [1, { b: null }], big: 2n })).toBe('{"a":[1,{"b":null}],"big":"2"}')
    expect(toJson({ fields: [{ name: 'a' }, { name: 'a' }], rows: [[1, 2]] })).toBe(
      '[\n  {"a":1,"a_2":2}\n]\n',
    )
    expect(toJson({ fields: [{ name: 'a' }], rows: [] })).toBe('[]\n')
  })
})
