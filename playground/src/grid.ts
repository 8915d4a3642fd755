/**
 * A virtualised grid for one result: the scroll container has the full height of every row and the full
 * width of every column, but only the rows and the columns in view (and a margin) are in the DOM, so 100,000
 * rows or 1,000 columns cost as little to draw as 50. Rows have a fixed height; column widths are chosen once
 * from a sample of the rows and never change while scrolling, so every column's position is known; the header
 * sticks to the top and the row numbers to the left. A scroll step reuses the drawn row and cell elements
 * (their text and classes are updated in place). Values go into the DOM as text nodes only.
 */
import { type FieldDescription, Oid } from '@edgepg/client'
import { displayValue, typeName } from './format.ts'
import {
  bodyHeight,
  CELL_EXTRA_PX,
  type ColumnWindow,
  columnWindow,
  FALLBACK_CH_PX,
  FALLBACK_VIEW_HEIGHT,
  FALLBACK_VIEW_WIDTH,
  ROW_HEIGHT,
  rowWindow,
} from './grid-window.ts'

/** Rows read to size the columns (spread over the whole result). */
const SAMPLE_ROWS = 200
const MIN_COLUMN_CH = 4
const MAX_COLUMN_CH = 48

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
  if (text !== undefined) element.append(document.createTextNode(text))
  return element
}

/** Sets the text of an element made with one text node, changing that node (cheaper than a new one). */
function setText(element: HTMLElement, text: string): void {
  const node = element.firstChild as Text
  if (node.data !== text) node.data = text
}

/** A drawn body row: its element, its value cells (from the first drawn column on) and what it shows. */
interface DrawnRow {
  element: HTMLDivElement
  rownum: HTMLDivElement
  cells: HTMLDivElement[]
  /** The row index it shows (-1: none yet). */
  index: number
  /** The column window it shows ({@link ResultGrid}'s `#columnsDrawn` counter when it was filled). */
  columns: number
}

/**
 * One result's grid. `element` is the scroll container; add it to the page, and call {@link dispose} when it
 * is removed. Clicking a value calls `onCellClick` with the value's full text (`null` for NULL).
 */
export class ResultGrid {
  readonly element: HTMLDivElement
  readonly #data: GridData
  readonly #head: HTMLDivElement
  readonly #headCells: HTMLDivElement[] = []
  readonly #window: HTMLDivElement
  /** Measures one `ch` of the grid's font (100 ch wide, hidden). */
  readonly #chProbe: HTMLDivElement
  readonly #resize: ResizeObserver
  readonly #onCellClick: (text: string | null) => void
  readonly #isNumber: boolean[]
  /** Column widths in `ch`, and the row-number column's. */
  readonly #widthsCh: number[]
  readonly #numberCh: number
  /** Pixel layout for the `ch` width it was made for. */
  #layout = { chPx: 0, numberPx: 0, widthsPx: [] as number[], lefts: [0] }
  /** Drawn rows in DOM order, showing rows `#rowFirst`, `#rowFirst + 1`, … */
  #rows: DrawnRow[] = []
  #rowFirst = 0
  #columns: ColumnWindow = { first: 0, end: -1 }
  /** Counts column-window changes, so a row knows whether its cells show the current columns. */
  #columnsDrawn = 0
  /** The `grid-template-columns` of the head and of every drawn row. */
  #tracks = ''
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
    this.#numberCh = Math.max(2, String(count).length)
    this.#widthsCh = columnWidths(data)
    grid.style.setProperty('--row-height', `${ROW_HEIGHT}px`)

    this.#head = div('grid-head', 'row')
    this.#head.setAttribute('aria-rowindex', '1')
    const corner = div('cell rownum', 'columnheader', '#')
    corner.setAttribute('aria-colindex', '1')
    this.#head.append(corner)
    const body = div('grid-body', 'rowgroup')
    body.style.height = `${bodyHeight(count)}px`
    this.#window = div('grid-window', 'presentation')
    // 100 ch inside a box of no size that clips it: measured, but never part of the scrolled width.
    const probeBox = div('grid-ch', 'presentation')
    probeBox.setAttribute('aria-hidden', 'true')
    this.#chProbe = document.createElement('div')
    probeBox.append(this.#chProbe)
    body.append(this.#window, probeBox)
    grid.append(this.#head, body)
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
    // Every read first (one layout), then the writes.
    const grid = this.element
    const isLaidOut = grid.clientHeight > 0
    const headHeight = isLaidOut ? this.#head.getBoundingClientRect().height : 0
    const measuredCh = isLaidOut ? this.#chProbe.getBoundingClientRect().width / 100 : 0
    const chPx = measuredCh > 0 ? measuredCh : this.#layout.chPx || FALLBACK_CH_PX
    const { scrollTop, scrollLeft } = grid
    if (chPx !== this.#layout.chPx) this.#relayout(chPx)
    const { numberPx, lefts } = this.#layout
    const viewHeight = isLaidOut ? grid.clientHeight - headHeight : FALLBACK_VIEW_HEIGHT
    const viewWidth = (isLaidOut ? grid.clientWidth : FALLBACK_VIEW_WIDTH) - numberPx
    const rows = rowWindow(scrollTop, viewHeight, this.#data.rows.length)
    const columns = columnWindow(scrollLeft, viewWidth, lefts)
    if (columns.first !== this.#columns.first || columns.end !== this.#columns.end) this.#showColumns(columns)
    this.#placeRows(rows.first, rows.end)
    for (let slot = 0; slot < this.#rows.length; slot++) this.#fill(this.#rows[slot]!, rows.first + slot)
    this.#window.style.transform = `translateY(${rows.offset}px)`
  }

  /** Pixel widths for a `ch` of `chPx` (whole pixels, rounded up, so positions add up exactly). */
  #relayout(chPx: number): void {
    const widthsPx = this.#widthsCh.map((ch) => Math.ceil(ch * chPx) + CELL_EXTRA_PX)
    const lefts = [0]
    for (const width of widthsPx) lefts.push(lefts.at(-1)! + width)
    const numberPx = Math.ceil(this.#numberCh * chPx) + CELL_EXTRA_PX
    this.#layout = { chPx, numberPx, widthsPx, lefts }
    this.element.style.setProperty('--grid-width', `${numberPx + lefts.at(-1)!}px`)
    this.#columns = { first: 0, end: -1 }
  }

  /** Sets the tracks for columns `first`…`end - 1` (after a spacer as wide as the columns left of them). */
  #showColumns(columns: ColumnWindow): void {
    const { numberPx, widthsPx, lefts } = this.#layout
    const tracks = [`${numberPx}px`, `${lefts[columns.first]}px`]
    for (let column = columns.first; column < columns.end; column++) tracks.push(`${widthsPx[column]}px`)
    this.#tracks = tracks.join(' ')
    this.#head.style.gridTemplateColumns = this.#tracks
    this.#columns = columns
    this.#columnsDrawn++
    const fields = this.#data.fields
    const count = columns.end - columns.first
    while (this.#headCells.length > count) this.#headCells.pop()!.remove()
    while (this.#headCells.length < count) {
      const cell = div('cell', 'columnheader')
      const name = document.createElement('span')
      name.className = 'name'
      cell.append(name, document.createElement('small'))
      this.#headCells.push(cell)
      this.#head.append(cell)
    }
    for (let slot = 0; slot < count; slot++) {
      const column = columns.first + slot
      const cell = this.#headCells[slot]!
      const field = fields[column]!
      const type = typeName(field.typeOid)
      cell.className = this.#isNumber[column] ? 'cell number' : 'cell'
      cell.dataset.column = String(column)
      cell.setAttribute('aria-colindex', String(column + 2))
      cell.firstElementChild!.textContent = field.name
      cell.lastElementChild!.textContent = type
      cell.title = `${field.name} (${type})`
    }
  }

  /**
   * Makes `#rows` the elements for rows `first`…`end - 1`, in DOM order: rows still in view keep their
   * element (and text); the ones that left it move to the other end for the rows that came in.
   */
  #placeRows(first: number, end: number): void {
    const old = this.#rows
    const oldFirst = this.#rowFirst
    const keepFirst = Math.max(first, oldFirst)
    const keepEnd = Math.min(end, oldFirst + old.length)
    const want = Math.max(0, end - first)
    if (keepFirst >= keepEnd) {
      // Nothing in common: refill the elements where they are.
      while (old.length > want) old.pop()!.element.remove()
      while (old.length < want) {
        const row = this.#newRow()
        old.push(row)
        this.#window.append(row.element)
      }
      this.#rowFirst = first
      return
    }
    const spare = [...old.slice(0, keepFirst - oldFirst), ...old.slice(keepEnd - oldFirst)]
    const kept = old.slice(keepFirst - oldFirst, keepEnd - oldFirst)
    const take = () => spare.pop() ?? this.#newRow()
    const above = Array.from({ length: keepFirst - first }, take)
    const below = Array.from({ length: end - keepEnd }, take)
    for (const row of spare) row.element.remove()
    if (above.length > 0) this.#window.prepend(...above.map((row) => row.element))
    if (below.length > 0) this.#window.append(...below.map((row) => row.element))
    this.#rows = [...above, ...kept, ...below]
    this.#rowFirst = first
  }

  #newRow(): DrawnRow {
    const element = div('grid-row', 'row')
    const rownum = div('cell rownum', 'rowheader', '')
    rownum.setAttribute('aria-colindex', '1')
    element.append(rownum)
    return { element, rownum, cells: [], index: -1, columns: -1 }
  }

  /** Shows row `index` in the drawn columns in `row`, unless it already does. */
  #fill(row: DrawnRow, index: number): void {
    const hasColumns = row.columns === this.#columnsDrawn
    if (row.index === index && hasColumns) return
    const { first, end } = this.#columns
    const cells = row.cells
    if (!hasColumns) {
      row.element.style.gridTemplateColumns = this.#tracks
      while (cells.length > end - first) cells.pop()!.remove()
      while (cells.length < end - first) {
        const cell = div('cell', 'gridcell', '')
        cells.push(cell)
        row.element.append(cell)
      }
    }
    if (row.index !== index) {
      row.element.setAttribute('aria-rowindex', String(index + 2))
      row.element.dataset.index = String(index)
      setText(row.rownum, String(index + 1))
    }
    const values = this.#data.rows[index]!
    for (let slot = 0; slot < cells.length; slot++) {
      const column = first + slot
      const cell = cells[slot]!
      const text = cellText(values[column])
      const kind = this.#isNumber[column] ? 'cell number' : 'cell'
      const className = text === null ? `${kind} null` : kind
      if (cell.className !== className) cell.className = className
      setText(cell, text ?? 'NULL')
      if (!hasColumns) {
        cell.dataset.column = String(column)
        cell.setAttribute('aria-colindex', String(column + 2))
      }
    }
    row.index = index
    row.columns = this.#columnsDrawn
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
