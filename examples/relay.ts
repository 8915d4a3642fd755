// Through the relay: RELAY_URL=ws://127.0.0.1:8080/v1 DATABASE_URL=… node --conditions=source examples/relay.ts
// (RELAY_TOKEN=… too when the relay wants a token: npm start beyond loopback prints one)
import { connect } from '@edgepg/client'
import { webSocket } from '@edgepg/client/websocket'

const [client, connection] = await connect(process.env.DATABASE_URL!, {
  transport: webSocket({ url: process.env.RELAY_URL!, token: process.env.RELAY_TOKEN || undefined }),
})
const done = connection.run()
const { rows } = await client.query('select $1::text as via, version() as server', ['relay'])
console.log(rows)
await client.end()
await done
