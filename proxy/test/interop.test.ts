// Interop: Neon's serverless driver speaks the same /v1?address= convention, so it can use this relay.
import { Client as NeonClient, neonConfig } from '@neondatabase/serverless'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { pg, pgAddress, startTestRelay, type TestRelay } from './helpers.ts'

let relay: TestRelay
beforeAll(async () => {
  relay = await startTestRelay()
})
afterAll(() => relay.shutdown())

describe('interop with @neondatabase/serverless', () => {
  it('connects through this relay with SCRAM and runs a parameterised query', async () => {
    neonConfig.webSocketConstructor = WebSocket
    neonConfig.useSecureWebSocket = false
    neonConfig.pipelineConnect = false // SCRAM: no cleartext password pipelining
    neonConfig.wsProxy = (host, port) => `127.0.0.1:${relay.port}/v1?address=${host}:${port}`
    const client = new NeonClient({
      host: pg.host,
      port: pg.port,
      user: pg.roles.scram.user,
      password: pg.roles.scram.password,
      database: pg.database,
      ssl: false,
    })
    await client.connect()
    const result = await client.query('select $1::int + 1 as n, current_user as u', [41])
    expect(result.rows).toEqual([{ n: 42, u: pg.roles.scram.user }])
    await client.end()
    expect(relay.dials).toEqual([{ host: '127.0.0.1', port: Number(pgAddress.split(':')[1]) }])
  })
})
