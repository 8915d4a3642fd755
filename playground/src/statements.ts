/**
 * Splitting the editor's SQL into statements the way psql does: at each `;` that is outside strings, quoted
 * identifiers, dollar quotes, comments, parentheses and the `BEGIN … END` body of a `CREATE FUNCTION` or
 * `CREATE PROCEDURE` (SQL-standard bodies). Shift+Enter runs the statement under the cursor with it.
 *
 * The lexing follows PostgreSQL's scanner (`scan.l`, `psqlscan.l`) with `standard_conforming_strings` on:
 * - `'…'` with `''` for a quote, backslash is an ordinary character;
 * - `E'…'` (also `e'…'`) with backslash escapes (`\'`, `\\`) as well as `''`;
 * - `"…"` with `""` for a quote;
 * - `$$…$$` and `$tag$…$tag$` (the tag is an identifier without `$`; `a$b$` is one identifier, `$1` a parameter);
 * - `-- …` to the end of the line (`\n` or `\r`), `/* … *\/` nested.
 * An unterminated string, identifier, dollar quote or comment runs to the end of the text.
 */

/** One piece of the text: `[start, end)` in UTF-16 code units, as the editor counts. */
export interface Span {
  start: number
  end: number
}

/** A statement: where to run it from and to, within the whole text. */
export interface Statement extends Span {
  /** The statement's text (`sql.slice(start, end)`), from its first non-blank character to its `;` if any. */
  text: string
}

/**
 * Cuts `sql` after every top-level `;`. The pieces cover the text exactly (joined, they are `sql`): each but
 * the last ends with its `;`; the last is what follows the last `;` (maybe empty).
 */
export function splitPieces(sql: string): Span[] {
  return scan(sql).pieces
}

/**
 * The statements of `sql`, in order: the pieces that hold more than blanks and comments, each from its first
 * non-blank character to the end of its last token (its `;`, when it has one).
 */
export function splitStatements(sql: string): Statement[] {
  return scan(sql).statements.map(({ start, end }) => ({ start, end, text: sql.slice(start, end) }))
}

/**
 * The statement the cursor at `offset` is in: the last statement starting at or before it (so a cursor in
 * the blanks after a `;`, or after the last one, belongs to the statement before); the first statement when
 * the cursor is before every statement; `undefined` when the text has none.
 */
export function statementAt(sql: string, offset: number): Statement | undefined {
  const statements = splitStatements(sql)
  let found = statements[0]
  for (const statement of statements) {
    if (statement.start > offset) break
    found = statement
  }
  return found
}

const isBlank = (char: string) =>
  char === ' ' || char === '\t' || char === '\n' || char === '\r' || char === '\f'
/** A character that may continue an identifier (PostgreSQL: letters, digits, `_`, `$`, any non-ASCII). */
const isIdentifierPart = (char: string | undefined) =>
  char !== undefined && (/[A-Za-z0-9_$]/.test(char) || char.charCodeAt(0) >= 0x80)
/** A character that may start an identifier or a dollar-quote tag. */
const isIdentifierStart = (char: string | undefined) =>
  char !== undefined && (/[A-Za-z_]/.test(char) || char.charCodeAt(0) >= 0x80)

/** `CREATE [OR REPLACE] FUNCTION|PROCEDURE`: the first words psql watches for SQL-standard bodies. */
const ROUTINE_WORDS = new Set(['create', 'or', 'replace', 'function', 'procedure'])

interface Scan {
  pieces: Span[]
  statements: Span[]
}

function scan(sql: string): Scan {
  const pieces: Span[] = []
  const statements: Span[] = []
  let pieceStart = 0
  let codeStart = -1 // first character of the piece's first token that is not a comment
  let contentStart = -1 // first non-blank character of the piece (a comment counts)
  let codeEnd = -1
  let parenDepth = 0
  let beginDepth = 0
  let words: string[] = [] // the statement's first words, lower-case, while they may still say CREATE FUNCTION
  let wordCount = 0

  const endPiece = (end: number) => {
    pieces.push({ start: pieceStart, end })
    if (codeStart >= 0) statements.push({ start: contentStart, end: codeEnd })
    pieceStart = end
    codeStart = -1
    contentStart = -1
    codeEnd = -1
    parenDepth = 0
    beginDepth = 0
    words = []
    wordCount = 0
  }
  const code = (start: number, end: number) => {
    if (codeStart < 0) codeStart = start
    if (contentStart < 0) contentStart = start
    codeEnd = end
  }
  const isRoutine = () =>
    words[0] === 'create' &&
    (words[1] === 'function' ||
      words[1] === 'procedure' ||
      (words[1] === 'or' && words[2] === 'replace' && (words[3] === 'function' || words[3] === 'procedure')))

  let i = 0
  while (i < sql.length) {
    const char = sql[i]!
    const next = sql[i + 1]
    if (isBlank(char)) {
      i++
      continue
    }
    if (char === '-' && next === '-') {
      if (contentStart < 0) contentStart = i
      i += 2
      while (i < sql.length && sql[i] !== '\n' && sql[i] !== '\r') i++
      continue
    }
    if (char === '/' && next === '*') {
      if (contentStart < 0) contentStart = i
      i = blockCommentEnd(sql, i)
      continue
    }
    const start = i
    if (char === "'") {
      i = quotedEnd(sql, i + 1, "'", false)
    } else if ((char === 'e' || char === 'E') && next === "'" && !isIdentifierPart(sql[i - 1])) {
      i = quotedEnd(sql, i + 2, "'", true)
    } else if (char === '"') {
      i = quotedEnd(sql, i + 1, '"', false)
    } else if (char === '$' && !isIdentifierPart(sql[i - 1]) && dollarTag(sql, i) !== undefined) {
      const tag = dollarTag(sql, i)!
      const close = sql.indexOf(tag, i + tag.length)
      i = close < 0 ? sql.length : close + tag.length
    } else if (isIdentifierStart(char)) {
      let end = i + 1
      while (isIdentifierPart(sql[end])) end++
      word(sql.slice(i, end).toLowerCase())
      i = end
    } else {
      i++
      if (char === '(') parenDepth++
      else if (char === ')') parenDepth = Math.max(0, parenDepth - 1)
      else if (char === ';' && parenDepth === 0 && beginDepth === 0) {
        // The `;` ends a statement only when one began: `select 1;;` holds one statement, as for the server.
        if (codeStart >= 0) codeEnd = i
        endPiece(i)
        continue
      }
    }
    code(start, i)
  }
  endPiece(sql.length)
  return { pieces, statements }

  /** psql's heuristic for `BEGIN ATOMIC … END` bodies, whose `;` do not end the statement. */
  function word(lower: string) {
    if (wordCount < 4 && ROUTINE_WORDS.has(lower)) words[wordCount] = lower
    wordCount++
    if (!isRoutine() || parenDepth !== 0) return
    if (lower === 'begin') beginDepth++
    else if (lower === 'case' && beginDepth > 0) beginDepth++
    else if (lower === 'end' && beginDepth > 0) beginDepth--
  }
}

/** After the closing quote of a string or identifier whose body starts at `from` (or the end of the text). */
function quotedEnd(sql: string, from: number, quote: string, backslashEscapes: boolean): number {
  let i = from
  while (i < sql.length) {
    const char = sql[i]
    if (backslashEscapes && char === '\\') {
      i += 2
    } else if (char === quote) {
      if (sql[i + 1] !== quote) return i + 1
      i += 2
    } else {
      i++
    }
  }
  return sql.length
}

/** After the `*\/` that closes the (nested) block comment opening at `from`. */
function blockCommentEnd(sql: string, from: number): number {
  let depth = 0
  let i = from
  while (i < sql.length) {
    if (sql[i] === '/' && sql[i + 1] === '*') {
      depth++
      i += 2
    } else if (sql[i] === '*' && sql[i + 1] === '/') {
      depth--
      i += 2
      if (depth === 0) return i
    } else {
      i++
    }
  }
  return sql.length
}

/** The dollar-quote delimiter (`$$`, `$tag$`) opening at `from`, or `undefined` (`$1`, a lone `$`). */
function dollarTag(sql: string, from: number): string | undefined {
  let i = from + 1
  if (sql[i] !== '$') {
    if (!isIdentifierStart(sql[i])) return undefined
    while (isIdentifierPart(sql[i]) && sql[i] !== '$') i++
    if (sql[i] !== '$') return undefined
  }
  return sql.slice(from, i + 1)
}
