/**
 * A virtualised grid for one result: the scroll container has the full height of every row, but only the rows
 * in view (and a margin) are in the DOM, so 100,000 rows cost as little to draw as 50. Rows have a fixed
 * height; column widths are chosen once from a sample of the rows and never change while scrolling; the header
 * sticks to the top and the row numbers to the left. Values go into the DOM as text nodes only.
 */
import { type FieldDescription, Oid } from '@edgepg/client'
import { displayValue, typeName } from './format.ts'

/** Height of every body row in CSS pixels (the stylesheet reads it from `--row-height`). */
export const ROW_HEIGHT = 24
/** Rows drawn above and below the visible ones. */
const MARGIN_ROWS = 20
/** The viewport height assumed before the grid is laid out (the stylesheet's max-height, rounded up). */
const FALLBACK_VIEW_HEIGHT = 480
/** Tallest body the grid makes; beyond it, one pixel of scrolling moves more than one pixel of rows. */
export const MAX_BODY_HEIGHT = 8_000_000
/** Rows read to size the columns (spread over the whole result). */
const SAMPLE_ROWS = 200
const MIN_COLUMN_CH = 4
const MAX_COLUMN_CH = 48

/** The rows to draw for a scroll position, and where the first of them goes in the body. */
export interface RowWindow {
  /** Index of the first row drawn. */
  first: number
  /** One past the last row drawn. */
  end: number
  /** The first drawn row's top, in pixels from the top of the body. */
  offset: number
}

/**
 * The rows to draw when the body is scrolled to `scrollTop` (pixels of the body above the view) with
 * `viewHeight` pixels of body visible. A body taller than {@link MAX_BODY_HEIGHT} is compressed: the scroll
 * range maps linearly onto the rows, so the first and the last row are both reachable.
 */
export function rowWindow(scrollTop: number, viewHeight: number, rowCount: number): RowWindow {
  const contentHeight = rowCount * ROW_HEIGHT
  const bodyHeight = Math.min(contentHeight, MAX_BODY_HEIGHT)
  const view = Math.max(0, Math.min(viewHeight, bodyHeight))
  const scroll = Math.max(0, Math.min(scrollTop, bodyHeight - view))
  const scale = bodyHeight < contentHeight ? (contentHeight - view) / (bodyHeight - view) : 1
  const virtualTop = scroll * scale
  const first = Math.max(0, Math.floor(virtualTop / ROW_HEIGHT) - MARGIN_ROWS)
  const end = Math.min(rowCount, Math.ceil((virtualTop + view) / ROW_HEIGHT) + MARGIN_ROWS)
  return { first, end, offset: scroll + first * ROW_HEIGHT - virtualTop }
}

/** Body height in pixels for `rowCount` rows. */
export function bodyHeight(rowCount: number): number {
  return Math.min(rowCount * ROW_HEIGHT, MAX_BODY_HEIGHT)
}

/** What a grid shows: the columns and the rows as arrays in column order (`rowMode: 'array'`). */
export interface GridData {
  fields: readonly FieldDescription[]
  rows: readonly (readonly unknown[])[]
}

/** A value as one line of a cell: NULL is `null`; line breaks show as ↵ (the copy keeps the real text). */
function cellText(value: unknown): string | null {
  const text = displayValue(value)
  return text === null ? null : text.replace(/\r\n|\r|\n/g, '↵')
}

/** Columns' widths in `ch`: the widest of the name, the type and a spread-out sample of values, bounded. */
export function columnWidths(data: GridData): number[] {
  const { fields, rows } = data
  const step = Math.max(1, Math.floor(rows.length / SAMPLE_ROWS))
  return fields.map((field, column) => {
    let widest = Math.max(field.name.length, typeName(field.typeOid).length)
    const measure = (index: number) => {
      const text = cellText(rows[index]![column])
      widest = Math.max(widest, text === null ? 4 : text.length)
    }
    for (let index = 0; index < rows.length; index += step) measure(index)
    // The last row too: where counting columns reach their widest.
    if (rows.length > 0) measure(rows.length - 1)
    return Math.min(MAX_COLUMN_CH, Math.max(MIN_COLUMN_CH, widest))
  })
}

/** Types whose values line up on the right, as psql aligns them. */
const NUMERIC_OIDS = new Set<number>([
  Oid.int2,
  Oid.int4,
  Oid.int8,
  Oid.oid,
  Oid.float4,
  Oid.float8,
  Oid.numeric,
  Oid.money,
])

function div(className: string, role: string, text?: string): HTMLDivElement {
  const element = document.createElement('div')
  element.className = className
  element.setAttribute('role', role)
  if (text !== undefined) element.textContent = text
  return element
}

/**
 * One result's grid. `element` is the scroll container; add it to the page, and call {@link dispose} when it
 * is removed. Clicking a value calls `onCellClick` with the value's full text (`null` for NULL).
 */
export class ResultGrid {
  readonly element: HTMLDivElement
  readonly #data: GridData
  readonly #window: HTMLDivElement
  readonly #resize: ResizeObserver
  readonly #onCellClick: (text: string | null) => void
  readonly #isNumber: boolean[]
  #drawn: { first: number; end: number } = { first: -1, end: -1 }
  #frame = 0

  constructor(data: GridData, onCellClick: (text: string | null) => void) {
    this.#data = data
    this.#onCellClick = onCellClick
    this.#isNumber = data.fields.map((field) => NUMERIC_OIDS.has(field.typeOid))
    const count = data.rows.length
    const grid = div('grid', 'grid')
    grid.tabIndex = 0
    grid.setAttribute('aria-rowcount', String(count + 1))
    grid.setAttribute('aria-colcount', String(data.fields.length + 1))
    const numberWidth = Math.max(2, String(count).length)
    const widths = [numberWidth, ...columnWidths(data)]
    grid.style.setProperty('--columns', widths.map((ch) => `calc(${ch}ch + 17px)`).join(' '))
    grid.style.setProperty('--row-height', `${ROW_HEIGHT}px`)

    const head = div('grid-head', 'row')
    head.setAttribute('aria-rowindex', '1')
    head.append(div('cell rownum', 'columnheader', '#'))
    for (const field of data.fields) {
      const cell = div(NUMERIC_OIDS.has(field.typeOid) ? 'cell number' : 'cell', 'columnheader')
      const name = document.createElement('span')
      name.className = 'name'
      name.textContent = field.name
      const type = document.createElement('small')
      type.textContent = typeName(field.typeOid)
      cell.append(name, type)
      cell.title = `${field.name} (${typeName(field.typeOid)})`
      head.append(cell)
    }
    const body = div('grid-body', 'rowgroup')
    body.style.height = `${bodyHeight(count)}px`
    this.#window = div('grid-window', 'presentation')
    body.append(this.#window)
    grid.append(head, body)
    this.element = grid

    grid.addEventListener('scroll', () => this.#schedule(), { passive: true })
    grid.addEventListener('click', (event) => this.#clicked(event))
    this.#resize = new ResizeObserver(() => this.#schedule())
    this.#resize.observe(grid)
    this.#draw()
  }

  /** Stops watching the container's size (call when the grid leaves the page). */
  dispose(): void {
    this.#resize.disconnect()
    cancelAnimationFrame(this.#frame)
  }

  #schedule(): void {
    if (this.#frame !== 0) return
    this.#frame = requestAnimationFrame(() => {
      this.#frame = 0
      this.#draw()
    })
  }

  #draw(): void {
    const grid = this.element
    const headHeight = grid.firstElementChild?.getBoundingClientRect().height ?? 0
    const viewHeight = grid.clientHeight > 0 ? grid.clientHeight - headHeight : FALLBACK_VIEW_HEIGHT
    const { first, end, offset } = rowWindow(grid.scrollTop, viewHeight, this.#data.rows.length)
    if (first === this.#drawn.first && end === this.#drawn.end) {
      this.#window.style.transform = `translateY(${offset}px)`
      return
    }
    const rows: HTMLElement[] = []
    for (let index = first; index < end; index++) rows.push(this.#row(index))
    this.#window.style.transform = `translateY(${offset}px)`
    this.#window.replaceChildren(...rows)
    this.#drawn = { first, end }
  }

  #row(index: number): HTMLElement {
    const row = div('grid-row', 'row')
    row.setAttribute('aria-rowindex', String(index + 2))
    row.dataset.index = String(index)
    row.append(div('cell rownum', 'rowheader', String(index + 1)))
    const values = this.#data.rows[index]!
    for (let column = 0; column < this.#data.fields.length; column++) {
      const text = cellText(values[column])
      const kind = this.#isNumber[column] ? 'cell number' : 'cell'
      const cell = text === null ? div(`${kind} null`, 'gridcell', 'NULL') : div(kind, 'gridcell', text)
      cell.dataset.column = String(column)
      row.append(cell)
    }
    return row
  }

  #clicked(event: MouseEvent): void {
    const cell = (event.target as Element | null)?.closest?.('.grid-row .cell[data-column]')
    const row = cell?.parentElement
    if (!cell || !row) return
    const values = this.#data.rows[Number((row as HTMLElement).dataset.index)]
    if (!values) return
    this.#onCellClick(displayValue(values[Number((cell as HTMLElement).dataset.column)]))
  }
}
