/** A small horizontal bar chart as SVG text: one bar per row, edgepg's bars in a different colour. */
import type { Measure } from './report.ts'
import { fmt } from './stats.ts'

const WIDTH = 820
const LABEL = 360
const BAR_HEIGHT = 20
const GAP = 10
const TOP = 48

export function barChart(measure: Measure): string {
  const rows = measure.rows
  const max = Math.max(...rows.map((r) => r.median ?? 0), Number.MIN_VALUE)
  const plot = WIDTH - LABEL - 90
  const height = TOP + rows.length * (BAR_HEIGHT + GAP) + 24
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
    const width = value === undefined ? 0 : Math.max(1, (value / max) * plot)
    const colour = r.isOurs ? '#2563eb' : '#9ca3af'
    out.push(
      `<text x="${LABEL - 8}" y="${y + 14}" text-anchor="end"${r.isOurs ? ' font-weight="600"' : ''}>${escapeXml(r.label)}</text>`,
      `<rect x="${LABEL}" y="${y}" width="${width.toFixed(1)}" height="${BAR_HEIGHT}" fill="${colour}"/>`,
      `<text x="${(LABEL + width + 6).toFixed(1)}" y="${y + 14}">${escapeXml(value === undefined ? (r.note ?? 'n/a') : fmt(value))}</text>`,
    )
  })
  out.push('</svg>', '')
  return out.join('\n')
}

function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
}
