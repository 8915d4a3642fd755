/**
 * PostgreSQL's array text (`{1,NULL,"a \"b\""}`, nested for more dimensions, optionally after a
 * `[1:2]=` bounds prefix) as nested JS arrays, each element passed through `element` (never for NULL).
 */

/** An array literal's elements: a value, `null` for an unquoted NULL, or a nested array. */
export type ArrayElements<T> = (T | null | ArrayElements<T>)[]

/**
 * Parses `text` as an array literal; throws a clear error for text that is not one.
 *
 * @example
 * parseArrayLiteral('{1,NULL,3}', Number) // [1, null, 3]
 */
export function parseArrayLiteral<T>(text: string, element: (text: string) => T): ArrayElements<T> {
  let i = 0
  if (text[0] === '[') {
    i = text.indexOf('=')
    if (i < 0) throw malformed(text, 'a bounds prefix without "="')
    i++
  }
  if (text[i] !== '{') throw malformed(text, `"${text[i] ?? 'end of text'}" where "{" was expected`)
  const stack: ArrayElements<T>[] = []
  let current: ArrayElements<T> = []
  i++
  let afterValue = false
  while (i < text.length) {
    const c = text[i]!
    if (c === '{') {
      const nested: ArrayElements<T> = []
      current.push(nested)
      stack.push(current)
      current = nested
      afterValue = false
      i++
    } else if (c === '}') {
      const parent = stack.pop()
      i++
      if (parent === undefined) {
        if (i !== text.length) throw malformed(text, 'text after the closing "}"')
        return current
      }
      current = parent
      afterValue = true
    } else if (c === ',') {
      if (!afterValue) throw malformed(text, 'an empty element')
      afterValue = false
      i++
    } else if (c === '"') {
      let value = ''
      i++
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\') i++
        value += text[i] ?? ''
        i++
      }
      if (i >= text.length) throw malformed(text, 'an unterminated quoted element')
      i++
      current.push(element(value))
      afterValue = true
    } else {
      let end = i
      while (end < text.length && text[end] !== ',' && text[end] !== '}') end++
      const raw = text.slice(i, end).trim()
      current.push(raw.toUpperCase() === 'NULL' ? null : element(raw))
      i = end
      afterValue = true
    }
  }
  throw malformed(text, 'no closing "}"')
}

function malformed(text: string, found: string): Error {
  const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text
  return new Error(`expected a postgresql array literal, found ${found} in ${JSON.stringify(shown)}`)
}
