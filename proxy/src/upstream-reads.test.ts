import { describe, expect, it } from 'vitest'
import { POOLED_MIN, READ_SIZE, ReadBlocks, UpstreamReads } from './upstream-reads.ts'

/** Plays one read as Node does: the bytes land in the shared read buffer, then the callback runs. */
function read(reads: UpstreamReads, blocks: ReadBlocks, bytes: Uint8Array): void {
  blocks.readBuffer.set(bytes)
  reads.onread.callback(bytes.length, blocks.readBuffer)
}

const filled = (length: number, value: number) => new Uint8Array(length).fill(value)

describe('upstream reads', () => {
  it('copies a short read out of the shared buffer, so the next read cannot change it', () => {
    const blocks = new ReadBlocks()
    const reads = new UpstreamReads(blocks)
    const got: { chunk: Uint8Array; written?: () => void }[] = []
    reads.attach((chunk, written) => got.push({ chunk, written }))
    read(reads, blocks, filled(100, 1))
    read(reads, blocks, filled(100, 2))
    expect(got.map(({ chunk }) => [chunk.length, chunk[0], chunk[99]])).toEqual([
      [100, 1, 1],
      [100, 2, 2],
    ])
    expect(got[0]!.written).toBeUndefined()
    expect(got[0]!.chunk.buffer).not.toBe(blocks.readBuffer.buffer)
    expect(blocks.lent).toBe(0)
  })

  it('packs long reads into one block, splitting a read that does not fit, none in the shared buffer', () => {
    const blocks = new ReadBlocks()
    const reads = new UpstreamReads(blocks)
    const got: { chunk: Uint8Array; written?: () => void }[] = []
    reads.attach((chunk, written) => got.push({ chunk, written }))
    read(reads, blocks, filled(POOLED_MIN, 1))
    read(reads, blocks, filled(40 * 1024, 2))
    read(reads, blocks, filled(30 * 1024, 3)) // 8 KB fit in the first block, 22 KB go to a second
    expect(got.map(({ chunk }) => [chunk.length, chunk[0], chunk[chunk.length - 1]])).toEqual([
      [POOLED_MIN, 1, 1],
      [40 * 1024, 2, 2],
      [8 * 1024, 3, 3],
      [22 * 1024, 3, 3],
    ])
    const [a, b, c, d] = got.map(({ chunk }) => chunk.buffer)
    expect([a === b, b === c, c === d, a === blocks.readBuffer.buffer]).toEqual([true, true, false, false])
    expect([blocks.made, blocks.lent]).toEqual([2, 2])
    expect(got.every(({ written }) => typeof written === 'function')).toBe(true)
  })

  it('gives a block back once its last slice is written; an idle socket then holds none', () => {
    const blocks = new ReadBlocks()
    const reads = new UpstreamReads(blocks)
    const got: (() => void)[] = []
    reads.attach((_chunk, written) => got.push(written!))
    read(reads, blocks, filled(POOLED_MIN, 1))
    read(reads, blocks, filled(POOLED_MIN, 2))
    got[0]!()
    expect(blocks.lent).toBe(1) // one slice of the block is still unwritten
    got[1]!()
    expect([blocks.lent, blocks.freeCount]).toEqual([0, 1])
    // The next read reuses it, from its start.
    read(reads, blocks, filled(READ_SIZE, 9))
    expect([blocks.made, blocks.lent]).toEqual([1, 1])
  })

  it('holds no more blocks than its unwritten bytes need, plus one', () => {
    const blocks = new ReadBlocks()
    const reads = new UpstreamReads(blocks)
    let bytes = 0
    reads.attach((chunk) => {
      bytes += chunk.length
    })
    for (let i = 0; i < 200; i++) read(reads, blocks, filled(POOLED_MIN + 1 + (i % 7) * 1000, i))
    expect(blocks.lent).toBeLessThanOrEqual(Math.ceil(bytes / READ_SIZE) + 1)
  })

  it('gives a block back once however often its written callback runs', () => {
    const blocks = new ReadBlocks()
    const reads = new UpstreamReads(blocks)
    const got: (() => void)[] = []
    reads.attach((_chunk, written) => got.push(written!))
    read(reads, blocks, filled(READ_SIZE, 1))
    got[0]!()
    got[0]!()
    expect(blocks.lent).toBe(0)
    expect(blocks.freeCount).toBe(1)
    // Were it given twice, the next two reads would share one block.
    read(reads, blocks, filled(READ_SIZE, 2))
    read(reads, blocks, filled(READ_SIZE, 3))
    expect(blocks.made).toBe(2)
  })

  it('keeps reads made before the session takes the socket, in order, as copies', () => {
    const blocks = new ReadBlocks()
    const reads = new UpstreamReads(blocks)
    read(reads, blocks, filled(10, 1))
    read(reads, blocks, filled(READ_SIZE, 2))
    const got: { length: number; first: number; lent: boolean }[] = []
    reads.attach((chunk, written) => got.push({ length: chunk.length, first: chunk[0]!, lent: !!written }))
    read(reads, blocks, filled(20, 3))
    expect(got).toEqual([
      { length: 10, first: 1, lent: false },
      { length: READ_SIZE, first: 2, lent: false },
      { length: 20, first: 3, lent: false },
    ])
    expect(blocks.lent).toBe(0)
  })

  it('keeps at most 64 free blocks and leaves the rest to the collector', () => {
    const blocks = new ReadBlocks()
    const taken = Array.from({ length: 100 }, () => blocks.take())
    for (const block of taken) blocks.give(block)
    expect([blocks.made, blocks.lent, blocks.freeCount]).toEqual([100, 0, 64])
  })
})
