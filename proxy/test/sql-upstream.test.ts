// POST /sql to an allowed target that is no PostgreSQL: a closed port, a server that never answers, and one
// that speaks another protocol all get the same 502 with no detail (nothing that tells them apart helps a
// port scan), and the relay goes on serving.
import { createServer, type Server } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pgAddress, pgUrl, postSql, startTestRelay, type TestRelay } from './helpers.ts'

let relay: TestRelay
let silent: Server
let chatty: Server
const listen = (server: Server) =>
  new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  )
let silentPort: number
let chattyPort: number

beforeAll(async () => {
  silent = createServer(() => {})
  chatty = createServer((socket) => {
    socket.on('error', () => {})
    socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n')
  })
  silentPort = await listen(silent)
  chattyPort = await listen(chatty)
  relay = await startTestRelay({
    allow: [pgAddress, '127.0.0.1:1', `127.0.0.1:${silentPort}`, `127.0.0.1:${chattyPort}`],
    connectTimeout: 300,
  })
})
afterAll(async () => {
  await relay.shutdown()
  silent.close()
  chatty.close()
})

describe('an allowed target that is not PostgreSQL', () => {
  it('is answered 502 with the same message whether closed, silent or speaking another protocol', async () => {
    for (const port of [1, silentPort, chattyPort]) {
      const answer = await postSql(
        relay,
        { query: 'select 1' },
        { connectionString: pgUrl().replace(pgAddress, `127.0.0.1:${port}`) },
      )
      expect({ status: answer.status, body: answer.body }, String(port)).toEqual({
        status: 502,
        body: { message: 'could not connect to the database' },
      })
    }
    expect(relay.dials.map((d) => d.port)).toEqual([1, silentPort, chattyPort])
    expect((await postSql(relay, { query: 'select 1' })).status).toBe(200)
    expect(relay.sqlBackends!.stats().inUse).toBe(0)
  })
})
