// The README's quick start, runnable as written: DATABASE_URL=… node --conditions=source examples/quick-start.ts
import { connect } from '@edgepg/client'
import { nodeSocket } from '@edgepg/client/node'

const [client, connection] = await connect(process.env.DATABASE_URL!, { transport: nodeSocket() })
const done = connection.run() // resolves on clean end, rejects with the fatal error
const { rows } = await client.query('select $1::int as n, now() as at', [42])
console.log(rows)
await client.end() // drains, sends Terminate; `done` then resolves
await done
