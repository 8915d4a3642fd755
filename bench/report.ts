/**
 * The shape of the results (`bench/results/latest.json`) and the Markdown that is printed and written to
 * `bench/results/latest.md`.
 */
import { fmt, median } from './stats.ts'

export interface ResultRow {
  id: string
  label: string
  isOurs: boolean
  samples: number[]
  median: number | undefined
  /** Why there is no number, or what to know about this one. */
  note?: string
}

export interface Measure {
  id: string
  title: string
  unit: string
  better: 'higher' | 'lower'
  rows: ResultRow[]
  /** Ratios edgepg ÷ peer: [our row id, peer row id]. */
  compare: [string, string][]
  notes: string[]
  /** The best these rows could do, and so how far edgepg's rows are from it. */
  limits?: Limit[]
}

/**
 * The best a group of rows could do: one of the measure's rows (libpq's pipeline mode), or a figure in the
 * measure's unit (the protocol's 3 round trips). The table gives each of edgepg's rows its fraction of the
 * limit, the chart draws the limit over the bars, and `why` goes under the table.
 */
export interface Limit {
  /** What the limit is, short: "libpq's pipeline mode (C)", "the protocol's floor over TCP". */
  label: string
  /** The row whose median is the limit, or the limit's value in the measure's unit. */
  of: { row: string } | { value: number }
  /** How the figure is derived and why it is the limit. */
  why: string
  /** The ids of the rows it bounds; every row but the limit's own when absent. */
  rows?: string[]
}

export interface Target {
  what: string
  target: string
  measured: string
  isMet: boolean | undefined
  why?: string
}

export interface Ratio {
  measure: string
  ours: string
  peer: string
  ratio: number | undefined
}

export function row(id: string, label: string, isOurs: boolean, samples: number[], note?: string): ResultRow {
  return {
    id,
    label,
    isOurs,
    samples,
    median: samples.length > 0 ? median(samples) : undefined,
    ...(note ? { note } : {}),
  }
}

export function medianOf(measure: Measure | undefined, id: string): number | undefined {
  return measure?.rows.find((r) => r.id === id)?.median
}

/**
 * edgepg ÷ peer. With one sample per round on both sides, the median of the per-round ratios: samples of one
 * round ran minutes closer together than the medians did, so load from elsewhere on the machine cancels out
 * better. Otherwise the ratio of the medians.
 */
export function ratioOf(measure: Measure | undefined, ours: string, peer: string): number | undefined {
  const a = measure?.rows.find((r) => r.id === ours)
  const b = measure?.rows.find((r) => r.id === peer)
  if (!a || !b || a.median === undefined || b.median === undefined || b.median === 0) return undefined
  if (a.samples.length > 1 && a.samples.length === b.samples.length) {
    return median(a.samples.map((x, i) => x / b.samples[i]!))
  }
  return a.median / b.median
}

/** The limit that bounds row `id` (none for a limit's own row). */
export function limitOf(measure: Measure | undefined, id: string): Limit | undefined {
  return measure?.limits?.find(
    (l) => ('row' in l.of ? l.of.row !== id : true) && (l.rows?.includes(id) ?? true),
  )
}

/** The limit's figure in the measure's unit: its row's median, or its value. */
/** A limit's figure: whole numbers as they are (3 round trips), others as {@link fmt}. */
export const fmtLimit = (value: number | undefined): string =>
  value !== undefined && Number.isInteger(value) ? value.toLocaleString('en-US') : fmt(value)

export function limitValue(measure: Measure, limit: Limit): number | undefined {
  return 'row' in limit.of ? medianOf(measure, limit.of.row) : limit.of.value
}

/**
 * How much of its limit row `id` reaches: row ÷ limit where higher is better, limit ÷ row where lower is
 * better, so 1 is at the limit and 0.5 is half way (twice the round trips, half the queries/s). Against a
 * limit row, the median of the per-round ratios, as {@link ratioOf}.
 */
export function ofLimit(measure: Measure | undefined, id: string): number | undefined {
  const limit = limitOf(measure, id)
  if (!measure || !limit) return undefined
  const isHigher = measure.better === 'higher'
  if ('row' in limit.of)
    return isHigher ? ratioOf(measure, id, limit.of.row) : ratioOf(measure, limit.of.row, id)
  const value = medianOf(measure, id)
  if (value === undefined || value === 0) return undefined
  return isHigher ? value / limit.of.value : limit.of.value / value
}

/** `0.55× of 85,000`: row `id`'s fraction of its limit and the limit, for the table and the chart. */
export function ofLimitText(measure: Measure, id: string): string | undefined {
  const limit = limitOf(measure, id)
  const fraction = ofLimit(measure, id)
  if (!limit) return undefined
  return `${fraction === undefined ? 'n/a' : `${fmt(fraction)}×`} of ${fmtLimit(limitValue(measure, limit))}`
}

/** True for a row that is a limit of its measure. */
export const isLimitRow = (measure: Measure, id: string): boolean =>
  measure.limits?.some((l) => 'row' in l.of && l.of.row === id) ?? false

export function ratios(measure: Measure): Ratio[] {
  return measure.compare.map(([ours, peer]) => ({
    measure: measure.id,
    ours,
    peer,
    ratio: ratioOf(measure, ours, peer),
  }))
}

export function markdown(
  measures: Measure[],
  targets: Target[],
  header: { date: string; machine: string; versions: string; command: string },
): string {
  const out: string[] = []
  out.push('# edgepg benchmark results', '')
  out.push(
    `${header.date} · ${header.machine}`,
    '',
    header.versions,
    '',
    `Command: \`${header.command}\``,
    '',
  )
  out.push('## Targets (design.md §6)', '')
  out.push('| what | target | measured | met |', '|---|---|---|---|')
  for (const t of targets) {
    const met = t.isMet === undefined ? 'n/a' : t.isMet ? 'yes' : 'no'
    out.push(`| ${t.what} | ${t.target} | ${t.measured} | ${met}${t.why ? ` (${t.why})` : ''} |`)
  }
  out.push(...limitsTable(measures))
  out.push(
    '',
    '## Ratios (edgepg ÷ peer, same run, median of per-round ratios; for "lower is better" units below 1 is good)',
    '',
  )
  out.push('| measure | edgepg | peer | ratio |', '|---|---|---|---|')
  for (const m of measures) {
    for (const r of ratios(m)) {
      const label = (id: string) => m.rows.find((x) => x.id === id)?.label ?? id
      out.push(
        `| ${m.title} | ${label(r.ours)} | ${label(r.peer)} | ${r.ratio === undefined ? 'n/a' : `${fmt(r.ratio)}×`} |`,
      )
    }
  }
  for (const m of measures) out.push(...measureSection(m))
  out.push('')
  return out.join('\n')
}

/** How far one of edgepg's rows is from its limit (in `latest.json` and the summary table). */
export interface LimitFraction {
  measure: string
  row: string
  limit: string
  /** The limit's figure, in the measure's unit. */
  value: number | undefined
  ofLimit: number | undefined
}

/** Every edgepg row of `measure` that has a limit, and how much of it the row reaches. */
export function limitFractions(measure: Measure): LimitFraction[] {
  return measure.rows.flatMap((r) => {
    const limit = r.isOurs ? limitOf(measure, r.id) : undefined
    if (!limit) return []
    const value = limitValue(measure, limit)
    return [{ measure: measure.id, row: r.id, limit: limit.label, value, ofLimit: ofLimit(measure, r.id) }]
  })
}

function limitsTable(measures: Measure[]): string[] {
  const lines = measures.flatMap((m) =>
    limitFractions(m).map((f) => {
      const label = m.rows.find((r) => r.id === f.row)!.label
      return `| ${m.title} | ${label} | ${f.limit}: ${fmtLimit(f.value)} ${m.unit} | ${ofLimitText(m, f.row)} |`
    }),
  )
  if (lines.length === 0) return []
  return [
    '',
    '## How far from the limit (edgepg ÷ limit where higher is better, limit ÷ edgepg where lower is better; 1× is at the limit)',
    '',
    '| measure | edgepg | limit | of the limit |',
    '|---|---|---|---|',
    ...lines,
  ]
}

function measureSection(m: Measure): string[] {
  const hasLimits = (m.limits?.length ?? 0) > 0
  const out = [
    '',
    `## ${m.title}`,
    '',
    `${m.unit}, ${m.better} is better; median of ${maxSamples(m)} samples.${hasLimits ? ` "of the limit": ${m.better === 'higher' ? 'edgepg ÷ the limit' : 'the limit ÷ edgepg'}, 1× is at the limit.` : ''}`,
    '',
  ]
  if (hasLimits) out.push('| driver | median | of the limit | samples | note |', '|---|---:|---|---|---|')
  else out.push('| driver | median | samples | note |', '|---|---:|---|---|')
  for (const r of m.rows) {
    const samples = r.samples.map(fmt).join(', ')
    const label = r.isOurs ? `**${r.label}**` : r.label
    const limit = isLimitRow(m, r.id) ? 'the limit' : r.isOurs ? (ofLimitText(m, r.id) ?? '') : ''
    out.push(
      `| ${label} | ${fmt(r.median)} |${hasLimits ? ` ${limit} |` : ''} ${samples} | ${r.note ?? ''} |`,
    )
  }
  for (const l of m.limits ?? [])
    out.push('', `- Limit, ${l.label} (${fmtLimit(limitValue(m, l))} ${m.unit}): ${l.why}`)
  for (const note of m.notes) out.push('', `- ${note}`)
  return out
}

const maxSamples = (m: Measure) => Math.max(0, ...m.rows.map((r) => r.samples.length))
