/**
 * What an adversarial review found (each failed before its fix), against Prisma on @prisma/adapter-pg: an
 * unreachable database or relay through the relay reported as P1001, and uncast boolean raw parameters sent
 * as pg sends them. (Reconnecting after $disconnect is in adapter.test.ts.)
 */
import { createPool } from '@edgepg/client'
import { webSocket } from '@edgepg/client/websocket'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PrismaEdgePg } from '../src/index.ts'
import { createSchema, dropSchema, PrismaClient, prisma, prismaOnPg, server, transport } from './helpers.ts'

const schema = 'prisma_review_fixes'
beforeAll(() => createSchema(schema))
afterAll(() => dropSchema(schema))

describe('through the relay', () => {
  const notReachable = {
    code: 'P1001',
    meta: { driverAdapterError: { cause: { kind: 'DatabaseNotReachable' } } },
  }

  it('reports a database the relay cannot reach as P1001 DatabaseNotReachable', async () => {
    const { user } = server.roles.scram
    const pool = createPool(`postgres://${encodeURIComponent(user)}:x@127.0.0.1:1/${server.database}`, {
      transport: transport('websocket'),
      max: 1,
      openBackoffMax: 0,
    })
    const db = new PrismaClient({ adapter: new PrismaEdgePg(pool, { endPoolOnDispose: true }) })
    try {
      await expect(db.person.count()).rejects.toMatchObject(notReachable)
    } finally {
      await db.$disconnect()
    }
  })

  it('reports a relay that cannot be reached as P1001 DatabaseNotReachable', async () => {
    const { user, password } = server.roles.scram
    const url = `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${server.host}:${server.port}/${server.database}`
    const pool = createPool(url, {
      transport: webSocket({ url: 'ws://127.0.0.1:1/v1' }),
      max: 1,
      openBackoffMax: 0,
    })
    const db = new PrismaClient({ adapter: new PrismaEdgePg(pool, { endPoolOnDispose: true }) })
    try {
      await expect(db.person.count()).rejects.toMatchObject(notReachable)
    } finally {
      await db.$disconnect()
    }
  })
})

it('sends uncast boolean raw parameters as pg does (text true/false), and casts still work', async () => {
  const edge = prisma('tcp', schema)
  const onPg = prismaOnPg(schema)
  try {
    const run = (db: PrismaClient) =>
      db.$queryRaw`select ${true} as a, ${false}::text as b, ${true}::bool as d, ${[false, true]}::bool[] as e`
    expect(await run(edge)).toEqual(await run(onPg))
    expect(await run(edge)).toEqual([{ a: 'true', b: 'false', d: true, e: [false, true] }])
    // A list read back as text is written differently (pg quotes every element: {"true","false"}); both
    // are the same array to PostgreSQL.
    expect(await edge.$queryRaw`select ${[true, false]}::text as c`).toEqual([{ c: '{true,false}' }])
  } finally {
    await edge.$disconnect()
    await onPg.$disconnect()
  }
})
