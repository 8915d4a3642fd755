/**
 * A small horizontal bar chart as SVG text: one bar per row, edgepg's bars in a different colour. Where the
 * measure has limits, a dashed red line marks each row's limit, a limit's own row is drawn red, edgepg's
 * rows say how much of the limit they reach, and a legend names the limits.
 */
import { fmtLimit, isLimitRow, limitOf, limitValue, type Measure, ofLimit } from './report.ts'
import { fmt } from './stats.ts'

const WIDTH = 820
const LABEL = 360
const BAR_HEIGHT = 20
const GAP = 10
const TOP = 48
const LIMIT_COLOUR = '#dc2626'

export function barChart(measure: Measure): string {
  const rows = measure.rows
  const limits = measure.limits ?? []
  const limitOfRow = (id: string) => {
    const limit = limitOf(measure, id)
    return limit && limitValue(measure, limit)
  }
  const max = Math.max(...rows.map((r) => Math.max(r.median ?? 0, limitOfRow(r.id) ?? 0)), Number.MIN_VALUE)
  const plot = WIDTH - LABEL - (limits.length > 0 ? 160 : 90)
  const x = (value: number) => LABEL + (value / max) * plot
  const legend = limits.length > 0 ? 20 : 0
  const height = TOP + rows.length * (BAR_HEIGHT + GAP) + 24 + legend
  const out: string[] = []
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, sans-serif" font-size="12" role="img">`,
    `<title>${escapeXml(measure.title)}</title>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="12" y="20" font-size="14" font-weight="600">${escapeXml(measure.title)}</text>`,
    `<text x="12" y="38" fill="#555">${escapeXml(measure.unit)}, ${measure.better} is better (median)</text>`,
  )
  rows.forEach((r, i) => {
    const y = TOP + i * (BAR_HEIGHT + GAP)
    const value = r.median
    const width = value === undefined ? 0 : Math.max(1, x(value) - LABEL)
    const colour = isLimitRow(measure, r.id) ? LIMIT_COLOUR : r.isOurs ? '#2563eb' : '#9ca3af'
    const fraction = r.isOurs ? ofLimit(measure, r.id) : undefined
    const text =
      value === undefined
        ? (r.note ?? 'n/a')
        : `${fmt(value)}${isLimitRow(measure, r.id) ? ' · the limit' : fraction === undefined ? '' : ` · ${fmt(fraction)}× of limit`}`
    out.push(
      `<text x="${LABEL - 8}" y="${y + 14}" text-anchor="end"${r.isOurs ? ' font-weight="600"' : ''}${squeezed(r.label, r.isOurs)}>${escapeXml(r.label)}</text>`,
      `<rect x="${LABEL}" y="${y}" width="${width.toFixed(1)}" height="${BAR_HEIGHT}" fill="${colour}"/>`,
    )
    const limit = limitOfRow(r.id)
    if (limit !== undefined) {
      out.push(
        `<line class="limit" x1="${x(limit).toFixed(1)}" x2="${x(limit).toFixed(1)}" y1="${y - 3}" y2="${y + BAR_HEIGHT + 3}" stroke="${LIMIT_COLOUR}" stroke-width="2" stroke-dasharray="4 2"/>`,
      )
    }
    // after the limit line, with a white outline, so that a line crossing the text does not hide it
    out.push(
      `<text x="${(LABEL + width + 6).toFixed(1)}" y="${y + 14}" stroke="#ffffff" stroke-width="3" paint-order="stroke">${escapeXml(text)}</text>`,
    )
  })
  if (limits.length > 0) {
    const y = TOP + rows.length * (BAR_HEIGHT + GAP) + 14
    const names = limits.map((l) => `${l.label} (${fmtLimit(limitValue(measure, l))})`).join('; ')
    out.push(
      `<line x1="12" x2="32" y1="${y - 4}" y2="${y - 4}" stroke="${LIMIT_COLOUR}" stroke-width="2" stroke-dasharray="4 2"/>`,
      `<text x="38" y="${y}" fill="#555">${escapeXml(`limit: ${names}`)}</text>`,
    )
  }
  out.push('</svg>', '')
  return out.join('\n')
}

/** A label too long for its column is squeezed into it rather than cut off at the chart's left edge. */
function squeezed(label: string, isBold: boolean): string {
  // about 6.6 px a character at 12 px, 7.4 in bold
  const width = label.length * (isBold ? 7.4 : 6.6)
  return width > LABEL - 16 ? ` textLength="${LABEL - 16}" lengthAdjust="spacingAndGlyphs"` : ''
}

function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
}
