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
  for (const m of measures) {
    out.push(
      '',
      `## ${m.title}`,
      '',
      `${m.unit}, ${m.better} is better; median of ${maxSamples(m)} samples.`,
      '',
    )
    out.push('| driver | median | samples | note |', '|---|---:|---|---|')
    for (const r of m.rows) {
      const samples = r.samples.map(fmt).join(', ')
      out.push(
        `| ${r.isOurs ? `**${r.label}**` : r.label} | ${fmt(r.median)} | ${samples} | ${r.note ?? ''} |`,
      )
    }
    for (const note of m.notes) out.push('', `- ${note}`)
  }
  out.push('')
  return out.join('\n')
}

const maxSamples = (m: Measure) => Math.max(0, ...m.rows.map((r) => r.samples.length))
