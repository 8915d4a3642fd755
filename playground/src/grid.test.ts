import { Oid } from '@edgepg/client'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { columnWidths } from './grid.ts'
import {
  ALL_COLUMNS_UP_TO,
  bodyHeight,
  columnWindow,
  MARGIN_COLUMNS,
  MARGIN_ROWS,
  MAX_BODY_HEIGHT,
  ROW_HEIGHT,
  rowWindow,
} from './grid-window.ts'

describe('rowWindow', () => {
  it('draws the rows in view plus a margin, each where the full-height body puts it', () => {
    expect(rowWindow(0, 240, 100_000)).toEqual({ first: 0, end: 10 + MARGIN_ROWS, offset: 0 })
    const middle = rowWindow(50_000 * ROW_HEIGHT, 240, 100_000)
    const first = 50_000 - MARGIN_ROWS
    expect(middle).toEqual({ first, end: 50_010 + MARGIN_ROWS, offset: first * ROW_HEIGHT })
    const bottom = rowWindow(bodyHeight(100_000) - 240, 240, 100_000)
    expect(bottom.end).toBe(100_000)
    expect(rowWindow(0, 240, 3)).toEqual({ first: 0, end: 3, offset: 0 })
  })

  it('keeps every visible row drawn and no more than the view and two margins, at any scroll position', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5_000_000 }),
        fc.integer({ min: 1, max: 2000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (rowCount, viewHeight, fraction) => {
          const height = bodyHeight(rowCount)
          const scrollTop = Math.max(0, height - Math.min(viewHeight, height)) * fraction
          const { first, end, offset } = rowWindow(scrollTop, viewHeight, rowCount)
          expect(first).toBeGreaterThanOrEqual(0)
          expect(end).toBeLessThanOrEqual(rowCount)
          expect(end - first).toBeLessThanOrEqual(Math.ceil(viewHeight / ROW_HEIGHT) + 2 * MARGIN_ROWS + 1)
          // The drawn window covers the view and never reaches past the body.
          const view = Math.min(viewHeight, height)
          if (rowCount > 0) {
            expect(offset).toBeLessThanOrEqual(scrollTop + 1e-6)
            expect(offset + (end - first) * ROW_HEIGHT).toBeGreaterThanOrEqual(scrollTop + view - 1e-6)
          }
          if (fraction === 1) expect(end).toBe(rowCount)
          if (scrollTop === 0) expect(first).toBe(0)
        },
      ),
    )
  })

  it('compresses a body taller than the browser allows, so the last of millions of rows is reachable', () => {
    expect(bodyHeight(5_000_000)).toBe(MAX_BODY_HEIGHT)
    const last = rowWindow(MAX_BODY_HEIGHT - 400, 400, 5_000_000)
    expect(last.end).toBe(5_000_000)
    expect(last.offset + (last.end - last.first) * ROW_HEIGHT).toBeCloseTo(MAX_BODY_HEIGHT, 6)
  })
})

describe('columnWindow', () => {
  /** Left edges of columns `widths` wide, then the right edge of the last. */
  const lefts = (widths: number[]) => {
    const edges = [0]
    for (const width of widths) edges.push(edges.at(-1)! + width)
    return edges
  }

  it('draws the columns in view plus a margin', () => {
    const edges = lefts(Array.from({ length: 1000 }, () => 50))
    expect(columnWindow(0, 600, edges)).toEqual({ first: 0, end: 12 + MARGIN_COLUMNS })
    expect(columnWindow(5000, 600, edges)).toEqual({ first: 100 - MARGIN_COLUMNS, end: 112 + MARGIN_COLUMNS })
    // Scrolled to the right end: the last column is drawn.
    expect(columnWindow(50_000 - 600, 600, edges)).toEqual({ first: 988 - MARGIN_COLUMNS, end: 1000 })
    expect(columnWindow(0, 600, [0])).toEqual({ first: 0, end: 0 })
  })

  it(`draws every column of a result of up to ${ALL_COLUMNS_UP_TO} columns, in view or not`, () => {
    const narrow = Array.from({ length: ALL_COLUMNS_UP_TO }, () => 400)
    expect(columnWindow(0, 600, lefts(narrow))).toEqual({ first: 0, end: ALL_COLUMNS_UP_TO })
    expect(columnWindow(0, 600, lefts([...narrow, 400]))).toEqual({ first: 0, end: 2 + MARGIN_COLUMNS })
  })

  it('keeps every column at least partly in view drawn, and at most the visible ones and two margins', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 40, max: 420 }), { minLength: 1, maxLength: 1200 }),
        fc.integer({ min: 0, max: 3000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (widths, viewWidth, fraction) => {
          const edges = lefts(widths)
          const total = edges.at(-1)!
          const scrollLeft = Math.max(0, total - viewWidth) * fraction
          const { first, end } = columnWindow(scrollLeft, viewWidth, edges)
          expect(first).toBeGreaterThanOrEqual(0)
          expect(end).toBeLessThanOrEqual(widths.length)
          const visible = widths
            .map((_, column) => column)
            .filter((column) => edges[column + 1]! > scrollLeft && edges[column]! < scrollLeft + viewWidth)
          for (const column of visible) {
            expect(column).toBeGreaterThanOrEqual(first)
            expect(column).toBeLessThan(end)
          }
          if (widths.length <= ALL_COLUMNS_UP_TO)
            expect({ first, end }).toEqual({ first: 0, end: widths.length })
          else expect(end - first).toBeLessThanOrEqual(Math.max(1, visible.length) + 2 * MARGIN_COLUMNS)
          if (fraction === 1 || total <= viewWidth) expect(end).toBe(widths.length)
        },
      ),
    )
  })
})

describe('columnWidths', () => {
  it('fits the name, the type and the values, within bounds, NULL counted as its four letters', () => {
    const fields = [
      { name: 'id', typeOid: Oid.int4 },
      { name: 'n', typeOid: Oid.text },
      { name: 'long', typeOid: Oid.text },
    ] as never
    expect(columnWidths({ fields, rows: [[1, null, 'x'.repeat(500)]] })).toEqual([4, 4, 48])
    expect(columnWidths({ fields, rows: [] })).toEqual([4, 4, 4])
  })

  it('measures the last row too, where a counting column is widest (a sample of 200 rows skips it)', () => {
    const fields = [{ name: 'g', typeOid: Oid.int4 }] as never
    const counting = Array.from({ length: 100_000 }, (_, index) => [index + 1])
    expect(columnWidths({ fields, rows: counting })).toEqual([6])
  })
})
