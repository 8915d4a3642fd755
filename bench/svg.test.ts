import { describe, expect, it } from 'vitest'
import { type Measure, row } from './report.ts'
import { barChart } from './svg.ts'

const measure = (limits: Measure['limits']): Measure => ({
  id: 'throughput',
  title: 'Pipelined',
  unit: 'queries/s',
  better: 'higher',
  rows: [
    row('libpq', 'libpq pipeline (C)', false, [100_000]),
    row('edgepg', 'edgepg (TCP)', true, [50_000]),
    row('pg', 'pg (TCP)', false, [10_000]),
  ],
  compare: [],
  notes: [],
  ...(limits ? { limits } : {}),
})

const attribute = (element: string, name: string) => Number(new RegExp(`${name}="([^"]+)"`).exec(element)![1])
const limitLines = (svg: string) => svg.match(/<line class="limit"[^>]*>/g) ?? []
const bars = (svg: string) => (svg.match(/<rect x="360"[^>]*>/g) ?? []).map((r) => attribute(r, 'width'))

describe('barChart', () => {
  it('draws a dashed limit line across every row the limit bounds, at the end of the limit bar', () => {
    const svg = barChart(measure([{ label: 'libpq', of: { row: 'libpq' }, why: 'C' }]))
    const lines = limitLines(svg)
    expect(lines).toHaveLength(2) // edgepg and pg, not libpq's own row
    const [libpqBar] = bars(svg)
    for (const line of lines) expect(attribute(line, 'x1')).toBeCloseTo(360 + libpqBar!, 0)
  })

  it("says on edgepg's bars how much of the limit they reach, and marks the limit's row", () => {
    const svg = barChart(measure([{ label: 'libpq', of: { row: 'libpq' }, why: 'C' }]))
    expect(svg).toContain('>50,000 · 0.500× of limit<')
    expect(svg).toContain('>100,000 · the limit<')
    expect(svg).toContain('>10,000<')
    expect(svg).toContain('limit: libpq (100,000)')
  })

  it('scales the bars so that a limit beyond every bar stays inside the chart', () => {
    const svg = barChart(
      measure([{ label: 'floor', of: { value: 200_000 }, why: 'derived', rows: ['edgepg'] }]),
    )
    const [line] = limitLines(svg)
    expect(attribute(line!, 'x1')).toBeLessThanOrEqual(820)
    expect(bars(svg)[1]).toBeCloseTo(bars(svg)[0]! / 2, 0)
    expect(limitLines(svg)).toHaveLength(1)
  })

  it('draws no limit line nor legend for a measure without limits', () => {
    const svg = barChart(measure(undefined))
    expect(limitLines(svg)).toHaveLength(0)
    expect(svg).not.toContain('limit')
  })
})
