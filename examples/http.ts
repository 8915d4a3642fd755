// One query per HTTP request through the relay's POST /sql (`npm start` prints SQL_URL and DATABASE_URL):
//   SQL_URL='http://127.0.0.1:8080/sql' DATABASE_URL='postgres://…' node --conditions=source examples/http.ts
// (RELAY_TOKEN=… too when the relay wants a token: npm start beyond loopback prints one)
import { http } from '@edgepg/client/http'

const db = http(process.env.DATABASE_URL!, {
  url: process.env.SQL_URL!,
  token: process.env.RELAY_TOKEN || undefined,
})
console.log(await db.query('select $1::int as n, now() as at', [42]))
const [inserted, counted] = await db.transaction([
  ['create temporary table t (n int)'],
  ['insert into t values ($1), ($2) returning n', [1, 2]],
])
console.log(inserted!.command, counted!.rows)
