/**
 * Child process of lazy-load.test.ts: starts a relay, asks its own routes and then `/sql` over raw TCP (a
 * `fetch` would load undici itself), and prints, as one JSON line, what was loaded at each step.
 */
import { connect } from 'node:net'
import { silentLogger } from '../src/log.ts'
import { startRelay } from '../src/runtime/node.ts'

const UNDICI = 'NativeModule internal/deps/undici/undici'
const WEB_CRYPTO = 'NativeModule internal/crypto/webcrypto'
const moduleLoadList = (process as unknown as { moduleLoadList: string[] }).moduleLoadList

const relay = await startRelay(
  { port: 0, allow: [process.env.PG_ADDRESS!], allowMissingOrigin: 'always' },
  { logger: silentLogger },
)

function exchange(request: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(relay.port, '127.0.0.1', () => socket.write(request))
    let answer = ''
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1')
    })
    socket.on('error', () => resolve(answer))
    socket.on('close', () => resolve(answer))
  })
}

const loaded = () => ({
  undici: moduleLoadList.includes(UNDICI),
  webCrypto: moduleLoadList.includes(WEB_CRYPTO),
  sqlPool: relay.metrics.sqlPool !== undefined,
})
const statusOf = (answer: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)

const atStart = loaded()
const routes: number[] = []
for (const target of ['/healthz', '/metrics', '/v1', '/nope']) {
  routes.push(
    statusOf(await exchange(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`)),
  )
}
const afterRoutes = loaded()
const body = JSON.stringify({ query: 'select 1 as one', params: [] })
const connection = process.env.PG_URL!
const sql = await exchange(
  `POST /sql HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n` +
    `Neon-Connection-String: ${connection}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
)
const afterSql = loaded()
process.stdout.write(
  `${JSON.stringify({ atStart, routes, afterRoutes, sqlStatus: statusOf(sql), afterSql })}\n`,
)
await relay.shutdown()
process.exit(0)
