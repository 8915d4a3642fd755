import { describe, expect, it } from 'vitest'
import { CHECK_AFTER, KEEP_RATE, PACE_AFTER, PACE_BELOW, ReadPacing, STREAK_GAP_MS } from './read-pacing.ts'

/** Feeds `count` short reads `gap` ms apart from `start`; returns the indexes that paused and the next time. */
function reads(pacing: ReadPacing, count: number, start: number, gap = 0.01, length = 60) {
  const paused: number[] = []
  let now = start
  for (let i = 0; i < count; i++) {
    if (pacing.afterRead(length, now)) paused.push(i)
    now += gap
  }
  return { paused, now }
}

describe('read pacing', () => {
  it('pauses at the 32nd short read in a row, and not before', () => {
    const pacing = new ReadPacing()
    expect(reads(pacing, PACE_AFTER, 0).paused).toEqual([PACE_AFTER - 1])
  })

  it('never pauses a stream of reads further apart than the streak gap', () => {
    const pacing = new ReadPacing()
    expect(reads(pacing, 500, 0, STREAK_GAP_MS * 1.01).paused).toEqual([])
  })

  it('never pauses a bulk transfer, and a long read ends a streak', () => {
    const pacing = new ReadPacing()
    expect(reads(pacing, 500, 0, 0.001, PACE_BELOW).paused).toEqual([])
    const { now } = reads(pacing, PACE_AFTER - 1, 1)
    expect(pacing.afterRead(PACE_BELOW, now)).toBe(false)
    expect(reads(pacing, PACE_AFTER - 1, now + 0.01).paused).toEqual([])
  })

  it('starts over when the client sends a byte', () => {
    const pacing = new ReadPacing()
    const { now } = reads(pacing, PACE_AFTER - 1, 0)
    pacing.clientSpoke()
    expect(reads(pacing, PACE_AFTER - 1, now).paused).toEqual([])
  })

  it('after its own pause, pauses again at the next short read (one frame per pause while the stream lasts)', () => {
    const pacing = new ReadPacing()
    const { now } = reads(pacing, PACE_AFTER, 0)
    pacing.resumed(now + 1)
    expect(pacing.afterRead(600, now + 1.05)).toBe(true)
    expect(pacing.pauses).toBe(2)
  })

  it('after its pause, a read long after it is a new stream', () => {
    const pacing = new ReadPacing()
    const { now } = reads(pacing, PACE_AFTER, 0)
    pacing.resumed(now + 1)
    expect(pacing.afterRead(60, now + 50)).toBe(false)
  })
})

describe('read pacing that slows a stream down', () => {
  /** The streak at 60 B per 0.01 ms (6 B/µs), then paced reads of `bytes` every `every` ms. */
  function paced(bytes: number, every: number, count: number) {
    const pacing = new ReadPacing()
    const { now } = reads(pacing, PACE_AFTER, 0)
    const decisions: boolean[] = []
    let at = now
    for (let i = 0; i < count; i++) {
      at += every
      pacing.resumed(at - 0.001)
      decisions.push(pacing.afterRead(bytes, at))
    }
    return { decisions, pacing }
  }

  it('keeps pacing while each pause gathers what the stream sent meanwhile', () => {
    // 6,000 B per ms paced = the rate before (6 B/µs).
    const { decisions, pacing } = paced(6000, 1, 20)
    expect(decisions.every(Boolean)).toBe(true)
    expect(pacing.slowed).toBe(0)
  })

  it(`stops after ${CHECK_AFTER} pauses when they gather less than ${KEEP_RATE * 100} % of the rate before`, () => {
    // 2,000 B per ms: a third of the rate before (the receive buffer held PostgreSQL back).
    const { decisions, pacing } = paced(2000, 1, 20)
    expect(decisions.slice(0, CHECK_AFTER - 1).every(Boolean)).toBe(true)
    expect(decisions.slice(CHECK_AFTER - 1).some(Boolean)).toBe(false)
    expect(pacing.slowed).toBe(1)
  })

  it('paces the next stream again after one it slowed', () => {
    const { pacing } = paced(2000, 1, 10)
    expect(reads(pacing, PACE_AFTER, 1000).paused).toEqual([PACE_AFTER - 1])
  })
})
