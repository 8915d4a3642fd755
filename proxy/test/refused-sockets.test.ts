// Relay attack case (adversary F3): a refused upgrade must not leave its socket open. Node hands an upgrade's
// socket to the 'upgrade' handler without any HTTP timeout, so a refusal that only half-closes it (`end`)
// leaves it open for as long as the client keeps its side: one client could hold every file descriptor.
import { connect, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pgAddress, sleep, startTestRelay, type TestRelay } from './helpers.ts'
import { upgradeRequest } from './relay-process.ts'

const ORIGIN = 'https://app.example'
let relay: TestRelay
beforeAll(async () => {
  relay = await startTestRelay({ allowMissingOrigin: 'with-token', allowedOrigins: [ORIGIN] })
})
afterAll(() => relay.shutdown())

/** Server-side sockets the relay still holds (accepted and not yet closed). */
const relayConnections = () =>
  new Promise<number>((resolve, reject) =>
    relay.server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
  )

/** Opens a connection, writes `request`, and then never reads from it nor closes it. */
function holdOpen(request: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(relay.port, '127.0.0.1', () => {
      socket.pause()
      socket.write(request, () => resolve(socket))
    })
    socket.on('error', reject)
  })
}

const REFUSED: Record<string, string> = {
  '404 (unknown path)': upgradeRequest('/nope'),
  '403 (address not allowed)': upgradeRequest('/v1?address=10.1.1.1:5432', `Origin: ${ORIGIN}\r\n`),
  '400 (target the URL parser rejects)': upgradeRequest('http://x:y/v1'),
  '401 (no Origin, no token)': upgradeRequest(`/v1?address=${pgAddress}`),
  '400 from ws (bad Sec-WebSocket-Version)': upgradeRequest(
    `/v1?address=${pgAddress}`,
    `Origin: ${ORIGIN}\r\n`,
  ).replace('Sec-WebSocket-Version: 13', 'Sec-WebSocket-Version: 99'),
}

describe('F3: refused upgrades held open by the client', () => {
  it('are all closed by the relay within a bound, and /healthz answers', async () => {
    const held: Socket[] = []
    try {
      for (const request of Object.values(REFUSED)) {
        for (let i = 0; i < 40; i++) held.push(await holdOpen(request))
      }
      expect(held).toHaveLength(200)
      // The relay's refusal grace is at most 1 s; allow a loaded machine several times that.
      const deadline = Date.now() + 8000
      let open = await relayConnections()
      while (open > 0 && Date.now() < deadline) {
        await sleep(100)
        open = await relayConnections()
      }
      expect(open).toBe(0)
      const response = await fetch(`${relay.url}/healthz`)
      expect(response.status).toBe(200)
    } finally {
      for (const socket of held) socket.destroy()
    }
  })
})
