/**
 * The results (one section per statement: its command tag and row count, CSV and JSON export, a virtualised
 * grid or an EXPLAIN plan) and the error view. Everything goes into the DOM as text nodes: nothing from the
 * server or the editor is ever parsed as HTML.
 */
import { conditionName, isDatabaseError, isPgError, type QueryResult } from '@edgepg/client'
import { tag } from './dom.ts'
import { downloadText, toCsv, toJson } from './export.ts'
import { positionRange } from './format.ts'
import { ResultGrid } from './grid.ts'
import { planView } from './plan.ts'

/** A result with its rows as arrays in column order (`rowMode: 'array'`). */
export type ArrayResult = QueryResult<unknown[]>

/** How long the "copied" confirmation stays, in ms. */
const COPIED_MS = 1500

/** What each results area must release when it is redrawn (its grids' observers). */
const disposers = new WeakMap<HTMLElement, (() => void)[]>()

/** Empties a results area and releases what its grids held. */
export function clearResults(into: HTMLElement): void {
  for (const dispose of disposers.get(into) ?? []) dispose()
  disposers.delete(into)
  into.replaceChildren()
}

/**
 * The line over the results: `3 statements · 120 rows · 4.2 ms`, then `failure` when the run did not finish
 * (`results` are then the statements before it).
 */
export function summaryLine(results: ArrayResult[], elapsedMs: number, failure?: string): string {
  const rows = results.reduce((sum, result) => sum + result.rows.length, 0)
  const parts = [plural(results.length, 'statement'), plural(rows, 'row'), `${elapsedMs.toFixed(1)} ms`]
  if (failure !== undefined) parts.push(failure)
  return parts.join(' · ')
}

/** Draws one section per statement into `into` (replacing what was there). */
export function renderResults(results: ArrayResult[], into: HTMLElement): void {
  clearResults(into)
  const release: (() => void)[] = []
  disposers.set(into, release)
  into.append(...results.map((result, index) => renderResult(result, index, release)))
}

function renderResult(result: ArrayResult, index: number, release: (() => void)[]): HTMLElement {
  const count = result.rowCount ?? result.rows.length
  const caption =
    result.fields.length > 0 ? `${result.command} · ${plural(count, 'row')}` : commandTag(result)
  const bar = tag('div', { className: 'result-bar' }, tag('p', { className: 'caption' }, caption))
  const section = tag('section', { className: 'panel result' }, bar)
  section.dataset.statement = String(index + 1)
  if (result.fields.length === 0) return section

  const copied = tag('span', { className: 'copied' })
  copied.setAttribute('role', 'status')
  const tools = tag('div', { className: 'result-tools' }, copied)
  const name = `result-${index + 1}`
  tools.append(
    button('CSV', 'export-csv', `download ${name}.csv`, () =>
      downloadText(toCsv(result), `${name}.csv`, 'text/csv;charset=utf-8'),
    ),
    button('JSON', 'export-json', `download ${name}.json`, () =>
      downloadText(toJson(result), `${name}.json`, 'application/json'),
    ),
  )
  bar.append(tools)

  let grid: ResultGrid | undefined
  const gridElement = () => {
    if (!grid) {
      const made = new ResultGrid(result, (text) => copyCell(text, copied))
      release.push(() => made.dispose())
      grid = made
    }
    return grid.element
  }
  // planView reads array rows as well as object rows.
  const plan = planView(result as unknown as QueryResult)
  if (!plan) {
    section.append(gridElement())
    return section
  }
  let isPlanShown = true
  const toggle = button('rows', 'plan-toggle', 'show the raw rows', () => {
    isPlanShown = !isPlanShown
    section.lastElementChild?.replaceWith(isPlanShown ? plan : gridElement())
    toggle.textContent = isPlanShown ? 'rows' : 'plan'
    toggle.title = isPlanShown ? 'show the raw rows' : 'show the plan'
  })
  tools.prepend(toggle)
  section.append(plan)
  return section
}

/** Copies a cell's text (NULL as empty text) and says so in `status` for a moment. */
function copyCell(text: string | null, status: HTMLElement): void {
  const say = (message: string) => {
    status.textContent = message
    const shown = message
    setTimeout(() => {
      if (status.textContent === shown) status.textContent = ''
    }, COPIED_MS)
  }
  navigator.clipboard.writeText(text ?? '').then(
    () => say(text === null ? 'copied NULL as empty text' : 'copied'),
    (error: unknown) => say(`could not copy: ${error instanceof Error ? error.message : String(error)}`),
  )
}

function button(text: string, className: string, title: string, onClick: () => void): HTMLButtonElement {
  const element = tag('button', { type: 'button', className: `small ${className}`, title }, text)
  element.addEventListener('click', onClick)
  return element
}

function commandTag(result: ArrayResult): string {
  if (result.command === '') return 'empty query'
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

/** Hides and empties the error view. */
export function clearError(into: HTMLElement): void {
  into.hidden = true
  into.classList.remove('after-results')
  into.replaceChildren()
}
