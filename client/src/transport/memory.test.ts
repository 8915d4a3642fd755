import { describe, expect, it } from 'vitest'
import { type MemoryPeer, memoryTransport } from './memory.ts'

describe('memoryTransport close()', () => {
  it('reports end after closeTimeout when the peer never ends the stream', async () => {
    let peer: MemoryPeer | undefined
    const stream = await memoryTransport(
      (p) => {
        peer = p
      },
      { closeTimeout: 30 },
    )({ host: 'h', port: 1 })
    const events: string[] = []
    const ended = new Promise<void>((resolve) =>
      stream.start({
        data: () => {},
        end: () => resolve(void events.push('end')),
        error: () => events.push('error'),
      }),
    )
    stream.close()
    expect(peer?.isClosed).toBe(true)
    await ended
    peer?.end()
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(events).toEqual(['end'])
  })
})
