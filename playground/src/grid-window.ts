/**
 * The grid's geometry, without the DOM: which rows and columns a scroll position shows (with a margin), how
 * tall the body is, and the sizes everything is computed from.
 */

/** Height of every body row in CSS pixels (the stylesheet reads it from `--row-height`). */
export const ROW_HEIGHT = 24
/** Rows drawn above and below the visible ones. */
export const MARGIN_ROWS = 4
/** Columns drawn left and right of the visible ones. */
export const MARGIN_COLUMNS = 1
/** Results of up to this many columns have every column drawn (no more cells than a window of a wide one). */
export const ALL_COLUMNS_UP_TO = 16
/** Pixels a cell adds to its width in `ch`: its padding (8 px each side) and its right border. */
export const CELL_EXTRA_PX = 17
/** The width of one `ch` assumed before the grid is laid out (13 px monospace). */
export const FALLBACK_CH_PX = 7.8
/** The viewport width assumed before the grid is laid out. */
export const FALLBACK_VIEW_WIDTH = 1200
/** The viewport height assumed before the grid is laid out (the stylesheet's max-height, rounded up). */
export const FALLBACK_VIEW_HEIGHT = 480
/** Tallest body the grid makes; beyond it, one pixel of scrolling moves more than one pixel of rows. */
export const MAX_BODY_HEIGHT = 8_000_000

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

/** The columns to draw: `first` up to (not including) `end`. */
export interface ColumnWindow {
  first: number
  end: number
}

/**
 * The columns to draw when the value columns are scrolled `scrollLeft` pixels to the left with `viewWidth`
 * pixels of them visible (the container's width less the row numbers). `lefts[i]` is column i's left edge in
 * pixels from the first column's, `lefts[columnCount]` the right edge of the last. Up to
 * {@link ALL_COLUMNS_UP_TO} columns are all drawn.
 */
export function columnWindow(scrollLeft: number, viewWidth: number, lefts: readonly number[]): ColumnWindow {
  const count = Math.max(0, lefts.length - 1)
  if (count <= ALL_COLUMNS_UP_TO) return { first: 0, end: count }
  // The first column whose right edge is past the left of the view, the first whose left is past its right.
  const visibleFirst = Math.min(count - 1, firstAbove(lefts, Math.max(0, scrollLeft)) - 1)
  const visibleEnd = Math.max(visibleFirst + 1, firstAtOrAbove(lefts, scrollLeft + Math.max(0, viewWidth)))
  return {
    first: Math.max(0, visibleFirst - MARGIN_COLUMNS),
    end: Math.min(count, visibleEnd + MARGIN_COLUMNS),
  }
}

/** The first index whose value is above `x` in ascending `values` (`values.length` when none is). */
function firstAbove(values: readonly number[], x: number): number {
  let low = 0
  let high = values.length
  while (low < high) {
    const middle = (low + high) >>> 1
    if (values[middle]! > x) high = middle
    else low = middle + 1
  }
  return low
}

/** The first index whose value is at or above `x` in ascending `values` (`values.length` when none is). */
function firstAtOrAbove(values: readonly number[], x: number): number {
  let low = 0
  let high = values.length
  while (low < high) {
    const middle = (low + high) >>> 1
    if (values[middle]! >= x) high = middle
    else low = middle + 1
  }
  return low
}

/** Body height in pixels for `rowCount` rows. */
export function bodyHeight(rowCount: number): number {
  return Math.min(rowCount * ROW_HEIGHT, MAX_BODY_HEIGHT)
}
