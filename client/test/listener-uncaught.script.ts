// Run by notifications.test.ts in a child process: with no `error` listener, what a side-channel listener
// threw must take the runtime's uncaught-exception path (outside the read loop), and the connection goes on.
// Prints one JSON line with what it saw. Usage (the URL in the environment, never on a command line):
//   EDGEPG_URL=postgres://… [EDGEPG_RELAY_URL=ws://…] node --conditions=source listener-uncaught.script.ts
import { connect, isPgError } from '@edgepg/client'
import { nodeSocket } from '@edgepg/client/node'
import { webSocket } from '@edgepg/client/websocket'

const url = process.env.EDGEPG_URL
const relayUrl = process.env.EDGEPG_RELAY_URL
const uncaught: unknown[] = []
process.on('uncaughtException', (error) => uncaught.push(error))
const nextTask = () => new Promise((resolve) => setTimeout(resolve, 0))

const [client, connection] = await connect(url!, {
  transport: relayUrl ? webSocket({ url: relayUrl }) : nodeSocket(),
})
connection.run().catch(() => {})

connection.on('notice', () => {
  throw new Error('notice listener bug')
})
const pipelined = await Promise.all([
  client.query(`do $$ begin raise notice 'hello'; end $$`),
  client.query('select 1 as n'),
])
await nextTask()
const afterNotice = uncaught.map((e) => ({
  isUsage: isPgError(e, 'usage'),
  message: (e as Error).message,
  cause: ((e as Error).cause as Error | undefined)?.message,
}))

// An `error` listener that throws: its error is rethrown the same way, not into the read loop.
connection.on('error', () => {
  throw new Error('error listener bug')
})
await client.query(`do $$ begin raise notice 'again'; end $$`)
await nextTask()
const afterErrorListener = uncaught.slice(afterNotice.length).map((e) => (e as Error).message)

const later = await client.queryOne<{ n: number }>('select 2 as n')
await client.end()
console.log(
  JSON.stringify({
    pipelined: pipelined[1].rows,
    afterNotice,
    afterErrorListener,
    later: later.n,
    state: connection.state,
  }),
)
