/**
 * Opens many relayed WebSocket sessions and keeps them idle, in its own process so that neither its file
 * descriptors nor its memory count against the relay's. Each session sends a PostgreSQL startup packet and
 * waits for the first answer (the login), then sends nothing more.
 *
 * IPC: `{ type: 'open', total }` opens sessions until `total` are open, then answers `{ type: 'opened',
 * total, failed }`; `'stop'` closes everything and exits. Exits by itself when the parent goes away.
 */
import { WebSocket } from 'ws'
import { FrontendWriter } from '../client/src/protocol/index.ts'

const url = process.env.BENCH_RELAY_URL!
const user = process.env.BENCH_USER!
const database = process.env.BENCH_DATABASE!
const BATCH = 200

const startup = new FrontendWriter().startup({ user, database, client_encoding: 'UTF8' }).finish()
const sockets: WebSocket[] = []
let failed = 0

function openOne(): Promise<void> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false })
    let isSettled = false
    const settle = (isOk: boolean) => {
      if (isSettled) return
      isSettled = true
      if (isOk) sockets.push(ws)
      else {
        failed++
        ws.terminate()
      }
      resolve()
    }
    ws.on('open', () => ws.send(startup))
    ws.once('message', () => settle(true))
    ws.on('error', () => settle(false))
    ws.on('close', () => settle(false))
  })
}

process.on('message', async (message: { type?: string; total?: number } | string) => {
  if (message === 'stop') {
    for (const ws of sockets) ws.terminate()
    process.exit(0)
  }
  if (typeof message === 'object' && message.type === 'open') {
    const total = message.total ?? 0
    while (sockets.length + failed < total) {
      const n = Math.min(BATCH, total - sockets.length - failed)
      await Promise.all(Array.from({ length: n }, openOne))
    }
    process.send?.({ type: 'opened', total: sockets.length, failed })
  }
})
process.on('disconnect', () => process.exit(0))
process.send?.({ type: 'ready' })
