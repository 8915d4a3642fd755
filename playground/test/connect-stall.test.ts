/**
 * A connect to a relay that answers the upgrade and then stalls, overtaken by a second Connect that fails
 * (wrong password): when the first gives up (its 10 s connect timeout), the second's error (28P01) stays.
 */
import { createHash } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { usePlayground, withPage } from './page.ts'

const playground = usePlayground()
let stall: http.Server
const sockets = new Set<Socket>()

beforeAll(async () => {
  stall = http.createServer()
  stall.on('upgrade', (request, socket: Socket) => {
    sockets.add(socket)
    const key = request.headers['sec-websocket-key'] ?? ''
    const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64')
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    )
    // …and then nothing: the startup packet is never answered.
  })
  await new Promise<void>((resolve) => stall.listen(0, '127.0.0.1', resolve))
})

afterAll(async () => {
  for (const socket of sockets) socket.destroy()
  await new Promise((resolve) => stall.close(resolve))
})

describe('a stalled connect overtaken by a failing one', () => {
  it(
    'the second connect’s error stays shown when the first gives up',
    withPage(playground, async (page) => {
      const realRelay = await page.inputValue('#relay-url')
      await page.fill('#relay-url', `ws://127.0.0.1:${(stall.address() as AddressInfo).port}/v1`)
      await page.click('#connect')
      await page.waitForTimeout(500)
      await page.fill('#relay-url', realRelay)
      await page.fill('#password', 'wrong')
      await page.click('#connect')
      await page.waitForFunction(() => /28P01/.test(document.getElementById('error')?.textContent ?? ''))
      // The first connect times out (10 s) and settles.
      await page.waitForTimeout(11_000)
      const error = (await page.textContent('#error')) ?? ''
      expect(error).toMatch(/28P01/)
    }),
    40_000,
  )
})
