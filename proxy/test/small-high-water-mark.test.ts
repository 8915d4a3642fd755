// Relay attack case (adversary F4): a high-water mark below the upstream socket's own (16 KiB). Client bytes
// that arrive before the dial and pass the mark pause the client; once they are flushed into a socket that
// takes them without complaint (no 'drain' follows), the client must be read again.
import { afterEach, describe, expect, it } from 'vitest'
import { openWs, pgAddress, simpleQuery, startTestRelay, type TestRelay, trustStartup } from './helpers.ts'

let relay: TestRelay | undefined
afterEach(async () => {
  await relay?.shutdown()
  relay = undefined
})

describe('F4: a first message larger than a small high-water mark', () => {
  it('is relayed, and the client is read again afterwards', async () => {
    relay = await startTestRelay({ highWaterMark: 1000 })
    const { ws, received, closed } = await openWs(`${relay.wsUrl}?address=${pgAddress}`)
    const answered = (text: string) => Buffer.concat(received).includes(text)
    ws.send(
      Buffer.concat([trustStartup('edgepg-f4'), simpleQuery(`select 'first' /* ${'x'.repeat(2000)} */`)]),
    )
    await expect.poll(() => answered('first')).toBe(true)
    ws.send(simpleQuery(`select 'second-marker'`))
    await expect.poll(() => answered('second-marker'), { timeout: 5000 }).toBe(true)
    ws.close()
    await closed
  })
})
