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

  it('lends a long read a block until written, then reuses that block', () => {
    const blocks = new ReadBlocks()
    const reads = new UpstreamReads(blocks)
    const got: { chunk: Uint8Array; written?: () => void }[] = []
    reads.attach((chunk, written) => got.push({ chunk, written }))
    read(reads, blocks, filled(POOLED_MIN, 7))
    read(reads, blocks, filled(READ_SIZE, 8))
    expect(blocks.lent).toBe(2)
    expect(blocks.made).toBe(2)
    // Two lent blocks are distinct, and neither is the shared read buffer.
    expect(got[0]!.chunk.buffer).not.toBe(got[1]!.chunk.buffer)
    expect(got[0]!.chunk.buffer).not.toBe(blocks.readBuffer.buffer)
    expect([
      got[0]!.chunk.length,
      got[0]!.chunk[0],
      got[1]!.chunk.length,
      got[1]!.chunk[READ_SIZE - 1],
    ]).toEqual([POOLED_MIN, 7, READ_SIZE, 8])
    const first = got[0]!.chunk.buffer
    got[0]!.written!()
    expect(blocks.lent).toBe(1)
    read(reads, blocks, filled(POOLED_MIN + 1, 9))
    expect(got[2]!.chunk.buffer).toBe(first)
    expect(blocks.made).toBe(2)
    // The block still lent to the second read kept its bytes through the third read.
    expect(got[1]!.chunk.every((byte) => byte === 8)).toBe(true)
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
