// Relay attack case R1: no request, however malformed, brings the relay process down. The relay runs as a
// child process (the CLI) so that an exit is observable; requests go over raw sockets.
import { startRelay } from '@edgepg/proxy'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openWs, pgAddress, upgrade } from './helpers.ts'
import { type RelayProcess, rawExchange, startRelayProcess, upgradeRequest } from './relay-process.ts'

let relay: RelayProcess
beforeAll(async () => {
  relay = await startRelayProcess(['--allow', pgAddress, '--allow-missing-origin', 'always'])
})
afterAll(() => relay.stop())

async function expectStillServing() {
  expect(relay.isAlive(), relay.stderr()).toBe(true)
  expect(await relay.health()).toBe(200)
  expect(relay.stderr()).toBe('')
}

describe('R1: upgrade targets the URL parser rejects', () => {
  for (const target of ['http://x:y/v1', 'http://[::1/v1', '//a:b@/v1']) {
    it(`answers an upgrade to ${target} with 400 and keeps serving /healthz`, async () => {
      const { status } = await rawExchange(relay.port, upgradeRequest(target))
      expect(status).toBe(400)
      await expectStillServing()
    })
  }
})

describe('R1: other malformed requests', () => {
  const huge = 'a'.repeat(200_000)
  const cases: [string, string | Uint8Array][] = [
    ['bad percent-encoding in the query', upgradeRequest(`/v1?address=%ZZ%&target=%E0%A4%A`)],
    ['a percent-encoded NUL in the query', upgradeRequest(`/v1?address=127.0.0.1%00:5432`)],
    ['a raw NUL byte in the target', upgradeRequest('/v1?address=\0')],
    ['a raw NUL byte in a header value', upgradeRequest('/v1', 'Origin: https://a\0b\r\n')],
    ['a query string of 200 kB', upgradeRequest(`/v1?address=${huge}`)],
    ['a header of 200 kB', upgradeRequest('/v1', `X-Big: ${huge}\r\n`)],
    ['a non-ASCII Origin', upgradeRequest('/v1', 'Origin: https://\u00e9\u00ff.example\r\n')],
    ['an Origin that is not a URL', upgradeRequest('/v1', 'Origin: http://[::1\r\n')],
    ['an X-Forwarded-For of colons', upgradeRequest('/v1', 'X-Forwarded-For: ::::, , ,\r\n')],
    ['an empty token subprotocol', upgradeRequest('/v1', 'Sec-WebSocket-Protocol: ,, edgepg.token.\r\n')],
    ['two Host headers', upgradeRequest('/v1', 'Host: other\r\n')],
    ['an IPv6 literal host that does not close', upgradeRequest('/v1').replace('127.0.0.1', '[::1')],
    ['a target with only a query', upgradeRequest('?address=x')],
    ['an asterisk target', upgradeRequest('*')],
    ['an absolute target with userinfo and IPv6', upgradeRequest('http://u:p@[::ffff:1.2.3.4]:99999/v1')],
    ['a bad Sec-WebSocket-Version', upgradeRequest('/v1').replace('Version: 13', 'Version: 99')],
    [
      'an ordinary GET with a target the URL parser rejects',
      'GET http://x:y/healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
    ],
    ['binary garbage', new Uint8Array(Array.from({ length: 512 }, (_, i) => (i * 131) & 0xff))],
  ]
  for (const [what, request] of cases) {
    it(`refuses ${what} with a 4xx (or closes) and keeps serving /healthz`, async () => {
      const { status } = await rawExchange(relay.port, request)
      // 0: the server closed without a status line, which Node's parser does for bytes that are not HTTP.
      expect(status === 0 || (status >= 400 && status < 500), `status ${status}`).toBe(true)
      await expectStillServing()
    })
  }
})

describe('R1: a relay bug inside a handler', () => {
  it('is contained: with a logger that throws on every line, refusals get 500, sessions end, /healthz answers', async () => {
    let isBroken = false
    const inProcess = await startRelay(
      { port: 0, allow: [pgAddress], allowMissingOrigin: 'always', pingInterval: 50, shutdownGrace: 500 },
      {
        logger: {
          log() {
            if (isBroken) throw new Error('the logger broke')
          },
        },
      },
    )
    isBroken = true
    try {
      // The refusal path logs first: the throw lands in the upgrade handler.
      expect((await upgrade(`${inProcess.wsUrl}?address=10.0.0.1:5432`)).status).toBe(500)
      // The accepted path logs once the session exists: the throw lands in ws's upgrade callback.
      const accepted = await openWs(`${inProcess.wsUrl}?address=${pgAddress}`).catch(
        (error: unknown) => error,
      )
      if ('closed' in (accepted as object)) await (accepted as Awaited<ReturnType<typeof openWs>>).closed
      await expect.poll(() => inProcess.sessions.size).toBe(0)
      // Sessions log as they close and as the sweep pings them: a session stays contained too.
      const health = await fetch(`${inProcess.url}/healthz`)
      expect(health.status).toBe(200)
      expect(await health.json()).toEqual({ status: 'ok', openSessions: 0 })
    } finally {
      isBroken = false
      await inProcess.shutdown()
    }
  })
})
