import { describe, expect, it } from 'vitest'
import { limitFractions, limitOf, type Measure, markdown, ofLimit, row } from './report.ts'

const header = { date: 'today', machine: 'a machine', versions: 'v', command: 'npm run bench' }

/** Queries/s with libpq's row as the limit, samples of three rounds. */
const throughput = (): Measure => ({
  id: 'throughput',
  title: 'Pipelined',
  unit: 'queries/s',
  better: 'higher',
  rows: [
    row('libpq', 'libpq pipeline (C)', false, [100_000, 80_000, 120_000]),
    row('edgepg', 'edgepg (TCP)', true, [50_000, 60_000, 30_000]),
    row('pg', 'pg (TCP)', false, [10_000, 10_000, 10_000]),
  ],
  compare: [],
  notes: ['a note'],
  limits: [{ label: "libpq's pipeline mode", of: { row: 'libpq' }, why: 'the C client on the same work' }],
})

/** Round trips with two floors, one per transport. */
const roundTrips = (): Measure => ({
  id: 'round-trips',
  title: 'Round trips',
  unit: 'round trips',
  better: 'lower',
  rows: [
    row('tcp', 'edgepg (TCP)', true, [6]),
    row('relay', 'edgepg (relay)', true, [5]),
    row('peer', 'peer (relay)', false, [8]),
  ],
  compare: [],
  notes: [],
  limits: [
    { label: 'floor over TCP', of: { value: 3 }, why: 'three flights', rows: ['tcp'] },
    { label: 'floor through the relay', of: { value: 4 }, why: 'four flights', rows: ['relay', 'peer'] },
  ],
})

describe('limits', () => {
  it('bounds every row but the limit row itself when the limit names no rows', () => {
    const m = throughput()
    expect(limitOf(m, 'edgepg')?.label).toBe("libpq's pipeline mode")
    expect(limitOf(m, 'pg')?.label).toBe("libpq's pipeline mode")
    expect(limitOf(m, 'libpq')).toBeUndefined()
  })

  it('gives a row the limit that lists it', () => {
    const m = roundTrips()
    expect(limitOf(m, 'tcp')?.label).toBe('floor over TCP')
    expect(limitOf(m, 'relay')?.label).toBe('floor through the relay')
  })

  it('is the median of per-round ratios against a limit row where higher is better', () => {
    // per round: 0.5, 0.75, 0.25
    expect(ofLimit(throughput(), 'edgepg')).toBe(0.5)
  })

  it('is the limit ÷ the row where lower is better, so twice the round trips is half the limit', () => {
    expect(ofLimit(roundTrips(), 'tcp')).toBe(0.5)
    expect(ofLimit(roundTrips(), 'relay')).toBe(0.8)
  })

  it("lists each of edgepg's rows with its limit and fraction, for latest.json", () => {
    expect(limitFractions(roundTrips())).toEqual([
      { measure: 'round-trips', row: 'tcp', limit: 'floor over TCP', value: 3, ofLimit: 0.5 },
      { measure: 'round-trips', row: 'relay', limit: 'floor through the relay', value: 4, ofLimit: 0.8 },
    ])
  })

  it('is undefined for a measure without limits and for a row without a median', () => {
    const m = { ...throughput(), limits: undefined }
    expect(ofLimit(m, 'edgepg')).toBeUndefined()
    const empty = throughput()
    empty.rows[1] = row('edgepg', 'edgepg (TCP)', true, [], 'failed')
    expect(ofLimit(empty, 'edgepg')).toBeUndefined()
  })
})

describe('markdown with limits', () => {
  const tableOf = (md: string, title: string) => {
    const section = md.split(`## ${title}\n`)[1]!.split('\n## ')[0]!
    return section.split('\n').filter((line) => line.startsWith('|'))
  }

  it('adds an "of the limit" column with the fraction and the limit for edgepg rows only', () => {
    const table = tableOf(markdown([throughput()], [], header), 'Pipelined')
    expect(table[0]).toBe('| driver | median | of the limit | samples | note |')
    expect(table[2]).toBe('| libpq pipeline (C) | 100,000 | the limit | 100,000, 80,000, 120,000 |  |')
    expect(table[3]).toBe('| **edgepg (TCP)** | 50,000 | 0.500× of 100,000 | 50,000, 60,000, 30,000 |  |')
    expect(table[4]).toBe('| pg (TCP) | 10,000 |  | 10,000, 10,000, 10,000 |  |')
  })

  it('says under the table what each limit is and how it is derived', () => {
    const md = markdown([roundTrips()], [], header)
    expect(md).toContain('- Limit, floor over TCP (3 round trips): three flights')
    expect(md).toContain('- Limit, floor through the relay (4 round trips): four flights')
  })

  it('lists every edgepg row with a limit in the summary table at the top', () => {
    const md = markdown([throughput(), roundTrips()], [], header)
    const summary = md.split('## How far from the limit')[1]!.split('\n## ')[0]!
    const lines = summary.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| measure'))
    expect(lines).toEqual([
      "| Pipelined | edgepg (TCP) | libpq's pipeline mode: 100,000 queries/s | 0.500× of 100,000 |",
      '| Round trips | edgepg (TCP) | floor over TCP: 3 round trips | 0.500× of 3 |',
      '| Round trips | edgepg (relay) | floor through the relay: 4 round trips | 0.800× of 4 |',
    ])
  })

  it('keeps the table without the column, and no summary, when no measure has a limit', () => {
    const md = markdown([{ ...throughput(), limits: undefined }], [], header)
    expect(tableOf(md, 'Pipelined')[0]).toBe('| driver | median | samples | note |')
    expect(md).not.toContain('How far from the limit')
  })
})
