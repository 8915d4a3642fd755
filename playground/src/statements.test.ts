/**
 * The statement splitter as an adversary would try it: random statements built from every kind of token
 * PostgreSQL's scanner knows (strings with `''`, E-strings with backslash escapes, quoted identifiers, dollar
 * quotes, line and nested block comments, parentheses), each holding `;` and the other token kinds' openers,
 * joined with top-level `;`. Splitting must give back exactly those statements.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { splitPieces, splitStatements, statementAt } from './statements.ts'

/** A token and whether it is code (a comment is not). */
interface Token {
  text: string
  code: boolean
}

const chars = (alphabet: string[], max = 6) =>
  fc.array(fc.constantFrom(...alphabet), { maxLength: max }).map((parts) => parts.join(''))

const word = fc
  .constantFrom(
    'select',
    'x',
    '1',
    'from',
    't',
    '+',
    '$1',
    'a$b$',
    'E',
    'e',
    'U&',
    ',',
    '.',
    '::int',
    '*',
    '/',
    '-',
    'é',
  )
  .map((text) => ({ text, code: true }))

const standardString = chars(['a', ';', '\\', '$', '"', '--', '/*', ' ', "''", '$$']).map((body) => ({
  text: `'${body}'`,
  code: true,
}))

const escapeString = fc
  .tuple(fc.constantFrom('E', 'e'), chars(['a', ';', '$', '"', '--', '/*', ' ', "''", "\\'", '\\\\', '\\n']))
  .map(([prefix, body]) => ({ text: `${prefix}'${body}'`, code: true }))

const quotedIdentifier = chars(['a', ';', "'", '$', '--', '/*', ' ', '""']).map((body) => ({
  text: `"${body}"`,
  code: true,
}))

const dollarQuoted = fc
  .tuple(
    fc.constantFrom('', 'a', 'tag', '_t1', 'é'),
    chars(['a', ';', '$', "'", '"', '--', '/*', '*/', '$a$', '$$', '$tag$', '\n', ' ']),
  )
  .filter(([tag, body]) => `${body}$${tag}$`.indexOf(`$${tag}$`) === body.length)
  .map(([tag, body]) => ({ text: `$${tag}$${body}$${tag}$`, code: true }))

const lineComment = chars(['a', ';', "'", '"', '$$', '/*', '*/', ' ', '-']).map((body) => ({
  text: `--${body}\n`,
  code: false,
}))

const { blockComment } = fc.letrec<{ blockComment: string }>((tie) => ({
  blockComment: fc
    .array(
      fc.oneof(
        { depthSize: 'small' },
        fc.constantFrom('a', ';', "'", '"', '$$', '--', '(', ')'),
        tie('blockComment'),
      ),
      {
        maxLength: 4,
      },
    )
    .map((items) => `/*${items.map((item) => ` ${item} `).join('')}*/`),
}))

const parenthesised = fc
  .array(fc.oneof(word, standardString, fc.constant({ text: ';', code: true })), { maxLength: 4 })
  .map((items) => ({ text: `(${items.map((item) => item.text).join(' ')})`, code: true }))

const token: fc.Arbitrary<Token> = fc.oneof(
  word,
  standardString,
  escapeString,
  quotedIdentifier,
  dollarQuoted,
  lineComment,
  blockComment.map((text) => ({ text, code: false })),
  parenthesised,
)

const blank = fc.constantFrom(' ', '\n', '\t', ' \n  ')

/** A statement's text (without its `;`) and what the splitter must report for it. */
interface Generated {
  text: string
  /** Where the first token starts, and where the last code token ends; `undefined` when there is no code. */
  first: number
  lastCode: number | undefined
}

const statement: fc.Arbitrary<Generated> = fc
  .tuple(fc.array(fc.tuple(blank, token), { maxLength: 6 }), blank)
  .map(([parts, trailing]) => {
    let text = ''
    let first = -1
    let lastCode: number | undefined
    for (const [space, { text: tokenText, code }] of parts) {
      text += space
      if (first < 0) first = text.length
      text += tokenText
      if (code) lastCode = text.length
    }
    return { text: text + trailing, first, lastCode }
  })

const script = fc.tuple(fc.array(statement, { minLength: 1, maxLength: 5 }), fc.boolean())

describe('splitStatements', () => {
  it('cuts exactly after each top-level ; and loses nothing, whatever the tokens hold', () => {
    fc.assert(
      fc.property(script, ([statements, endsWithSemicolon]) => {
        const texts = statements.map((s) => s.text)
        const sql = texts.join(';') + (endsWithSemicolon ? ';' : '')
        const pieces = splitPieces(sql).map(({ start, end }) => sql.slice(start, end))
        expect(pieces.join('')).toBe(sql)
        const expected = texts.map((text, i) =>
          i < texts.length - 1 || endsWithSemicolon ? `${text};` : text,
        )
        if (endsWithSemicolon) expected.push('')
        expect(pieces).toEqual(expected)
      }),
      { numRuns: 400 },
    )
  })

  it('reports each statement that holds code, from its first token to its ; (or its last code token)', () => {
    fc.assert(
      fc.property(script, ([statements, endsWithSemicolon]) => {
        const sql = statements.map((s) => s.text).join(';') + (endsWithSemicolon ? ';' : '')
        const expected: string[] = []
        let offset = 0
        statements.forEach((s, i) => {
          const hasSemicolon = i < statements.length - 1 || endsWithSemicolon
          if (s.lastCode !== undefined) {
            const end = hasSemicolon ? s.text.length + 1 : s.lastCode
            expected.push(sql.slice(offset + s.first, offset + end))
          }
          offset += s.text.length + 1
        })
        const found = splitStatements(sql)
        expect(found.map((s) => s.text)).toEqual(expected)
        for (const s of found) expect(sql.slice(s.start, s.end)).toBe(s.text)
      }),
      { numRuns: 400 },
    )
  })

  it('keeps ; inside each kind of quote, comment and parentheses', () => {
    const cases: [string, string[]][] = [
      ["select 'a;b''c;'; select 2", ["select 'a;b''c;';", 'select 2']],
      ["select 'a\\'; select 2", ["select 'a\\';", 'select 2']],
      ["select E'a\\';b'; select 2", ["select E'a\\';b';", 'select 2']],
      ["select e'\\\\'; select 2", ["select e'\\\\';", 'select 2']],
      ["select name'x;'; select 2", ["select name'x;';", 'select 2']],
      ['select "a;""b"; select 2', ['select "a;""b";', 'select 2']],
      ['select $$a;$b$;$$; select 2', ['select $$a;$b$;$$;', 'select 2']],
      ['select $fn$ $$;$ $fn$; select 2', ['select $fn$ $$;$ $fn$;', 'select 2']],
      ['select a$b$c; select 2', ['select a$b$c;', 'select 2']],
      ['select $1; select 2', ['select $1;', 'select 2']],
      ['select 1 -- a;b\n; select 2', ['select 1 -- a;b\n;', 'select 2']],
      ['select 1 /* a /* ; */ ; */; select 2', ['select 1 /* a /* ; */ ; */;', 'select 2']],
      [
        'create rule r as on insert to t do (insert into a values (1); insert into b values (2)); select 2',
        [
          'create rule r as on insert to t do (insert into a values (1); insert into b values (2));',
          'select 2',
        ],
      ],
      [
        'create function f() returns int language sql begin atomic select 1; select case when true then 2 end; end; select f()',
        [
          'create function f() returns int language sql begin atomic select 1; select case when true then 2 end; end;',
          'select f()',
        ],
      ],
      ['begin; select 1; end;', ['begin;', 'select 1;', 'end;']],
      ['select 1;; ;\n-- only a comment\n; select 2', ['select 1;', 'select 2']],
    ]
    for (const [sql, expected] of cases)
      expect(
        splitStatements(sql).map((s) => s.text),
        sql,
      ).toEqual(expected)
  })

  it('runs an unterminated string, quote or comment to the end of the text', () => {
    for (const sql of ["select 'a; select 2", 'select "a; select 2', 'select $x$ a; select 2']) {
      expect(splitStatements(sql).map((s) => s.text)).toEqual([sql])
    }
    // A comment is not code: the statement ends at its last token before the comment.
    expect(splitPieces('select /* a; select 2')).toEqual([{ start: 0, end: 21 }])
    expect(splitStatements('select /* a; select 2').map((s) => s.text)).toEqual(['select'])
  })
})

describe('statementAt', () => {
  const sql = 'select 1;\n  select 2 ;  \nselect 3;\n\n'
  const at = (offset: number) => statementAt(sql, offset)?.text

  it('finds the statement around the cursor', () => {
    expect(at(0)).toBe('select 1;')
    expect(at(3)).toBe('select 1;')
    expect(at(sql.indexOf('2'))).toBe('select 2 ;')
    expect(at(sql.indexOf('select 3'))).toBe('select 3;')
  })

  it('gives the blanks after a ; and after the last statement to the statement before', () => {
    expect(at(sql.indexOf(';') + 1)).toBe('select 1;')
    expect(at(sql.indexOf('select 2') - 1)).toBe('select 1;')
    expect(at(sql.indexOf(' ;') + 3)).toBe('select 2 ;')
    expect(at(sql.length)).toBe('select 3;')
  })

  it('gives the first statement to a cursor before it, and nothing in a text without statements', () => {
    expect(statementAt('  \n select 1; select 2', 0)?.text).toBe('select 1;')
    expect(statementAt(' -- nothing\n ;; ', 3)).toBeUndefined()
  })

  it('counts in UTF-16 code units, as the editor does', () => {
    const text = "select '😀'; select 'é'"
    expect(statementAt(text, text.indexOf("'é'"))).toEqual({
      start: 13,
      end: text.length,
      text: "select 'é'",
    })
  })
})
