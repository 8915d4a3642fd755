/**
 * The results grid and the error view. Everything goes into the DOM as text nodes: nothing from the server
 * or the editor is ever parsed as HTML.
 */
import { conditionName, isDatabaseError, isPgError, type QueryResult } from '@edgepg/client'
import { displayValue, positionRange, typeName } from './format.ts'

/** Rows drawn per result; the rest are counted, not drawn. */
const MAX_ROWS = 1000

/** `tag('td', { className: 'null' }, 'NULL')` */
function tag<K extends keyof HTMLElementTagNameMap>(
  name: K,
  properties: Partial<HTMLElementTagNameMap[K]> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const element = Object.assign(document.createElement(name), properties)
  element.append(...children)
  return element
}

/** Draws one grid per statement and the line that sums them up. */
export function renderResults(
  results: QueryResult[],
  elapsedMs: number,
  into: { summary: HTMLElement; results: HTMLElement },
): void {
  const rows = results.reduce((sum, result) => sum + result.rows.length, 0)
  const statements = results.length === 1 ? '1 statement' : `${results.length} statements`
  into.summary.textContent = `${statements} · ${plural(rows, 'row')} · ${elapsedMs.toFixed(1)} ms`
  into.results.replaceChildren(...results.map(renderResult))
}

function renderResult(result: QueryResult): HTMLElement {
  const count = result.rowCount ?? result.rows.length
  const caption =
    result.fields.length > 0 ? `${result.command} · ${plural(count, 'row')}` : commandTag(result)
  const section = tag('section', { className: 'panel result' }, tag('p', { className: 'caption' }, caption))
  if (result.fields.length === 0) return section
  const names = result.fields.map((field) => field.name)
  if (new Set(names).size < names.length) {
    section.append(
      tag('p', {}, 'columns with the same name share one value in row objects: rename them with AS'),
    )
  }
  const head = tag(
    'tr',
    {},
    ...result.fields.map((field) => tag('th', {}, field.name, tag('small', {}, typeName(field.typeOid)))),
  )
  const body = tag('tbody')
  for (const row of result.rows.slice(0, MAX_ROWS)) {
    const tr = tag('tr')
    for (const name of names) {
      const text = displayValue(row[name])
      tr.append(text === null ? tag('td', { className: 'null' }, 'NULL') : tag('td', {}, text))
    }
    body.append(tr)
  }
  section.append(tag('table', {}, tag('thead', {}, head), body))
  if (result.rows.length > MAX_ROWS) {
    section.append(tag('p', {}, `showing the first ${MAX_ROWS} of ${result.rows.length} rows`))
  }
  return section
}

function commandTag(result: QueryResult): string {
  return result.rowCount === null ? result.command : `${result.command} ${result.rowCount}`
}

const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`

/**
 * Shows an error: SQLSTATE (with its condition name), severity, message, detail, hint and context for a
 * server error, the kind for any other edgepg error. With `sql`, marks the character the position points at.
 */
export function renderError(error: unknown, sql: string | undefined, into: HTMLElement): void {
  into.hidden = false
  if (!isDatabaseError(error)) {
    const kind = isPgError(error) ? error.kind : 'error'
    const message = error instanceof Error ? error.message : String(error)
    into.replaceChildren(tag('p', {}, tag('span', { className: 'sqlstate' }, kind), message))
    return
  }
  const name = conditionName(error.code)
  const head = tag(
    'p',
    {},
    tag('span', { className: 'sqlstate', title: name ?? '' }, error.code),
    tag('strong', {}, `${error.severity}: `),
    tag('span', { className: 'message' }, error.message),
  )
  const details = tag('dl')
  const add = (label: string, value: string | number | undefined) => {
    if (value !== undefined && value !== '')
      details.append(tag('dt', {}, label), tag('dd', {}, String(value)))
  }
  add('condition', name)
  add('detail', error.detail)
  add('hint', error.hint)
  add('where', error.where)
  add('position', error.position)
  into.replaceChildren(head, details)
  const range =
    sql !== undefined && error.position !== undefined ? positionRange(sql, error.position) : undefined
  if (sql !== undefined && range) into.append(markedSql(sql, range))
}

/** The SQL with the character at the error position in a `<mark>` (an empty mark at the very end). */
function markedSql(sql: string, range: { start: number; end: number }): HTMLElement {
  const isAtEnd = range.start === range.end
  const mark = tag('mark', { className: isAtEnd ? 'at-end' : '' }, sql.slice(range.start, range.end))
  return tag('pre', { className: 'sql-context' }, sql.slice(0, range.start), mark, sql.slice(range.end))
}

export function clearError(into: HTMLElement): void {
  into.hidden = true
  into.replaceChildren()
}
