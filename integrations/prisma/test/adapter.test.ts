/**
 * PrismaEdgePg beyond the Prisma Client paths: its constructor forms, the raw-types requirement, connection
 * errors as Prisma's kinds, executeScript, isolation levels, dispose, and the array literal parser.
 */
import { createPool, type Pool } from '@edgepg/client'
import { nodeSocket } from '@edgepg/client/node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseArrayLiteral } from '../src/array-literal.ts'
import { bytea, timestamptz } from '../src/conversion.ts'
import { PrismaEdgePg } from '../src/index.ts'
import { createSchema, dropSchema, PrismaClient, pool, server, url } from './helpers.ts'

const schema = 'prisma_adapter'
const query = (sql: string) => ({ sql, args: [], argTypes: [] })

beforeAll(async () => {
  await createSchema(schema)
})

afterAll(async () => {
  await dropSchema(schema)
})

describe('PrismaEdgePg', () => {
  it('makes a pool with raw types from a connection string and pool options', async () => {
    const prisma = new PrismaClient({
      adapter: new PrismaEdgePg(url(schema), { transport: nodeSocket(), max: 1, schema }),
    })
    try {
      expect(await prisma.person.count()).toBe(0)
      expect(await prisma.$queryRaw`select 9007199254740993::int8 as big`).toEqual([
        { big: 9007199254740993n },
      ])
    } finally {
      await prisma.$disconnect()
    }
  })

  it('refuses a connection string without a transport, and nothing else than a pool or a string', () => {
    expect(() => new PrismaEdgePg(url(), {} as never)).toThrow(
      'expected options.transport with a connection string (e.g. { transport: nodeSocket() }), found none',
    )
    expect(() => new PrismaEdgePg(undefined as never)).toThrow(
      'expected an edgepg Pool, a function returning one, or a connection string, found undefined',
    )
  })

  it("gives the same values on a pool made with any types, and leaves the pool's own queries as they were", async () => {
    const cases = [
      { types: undefined, own: { n: 7n, i: 3 } },
      { types: { raw: true }, own: { n: '7', i: '3' } },
      { types: { parsers: { 20: Number, 23: () => 'mine' } }, own: { n: 7, i: 'mine' } },
    ]
    for (const { types, own } of cases) {
      const p = createPool(url(schema), { transport: nodeSocket(), max: 1, ...(types ? { types } : {}) })
      const prisma = new PrismaClient({ adapter: new PrismaEdgePg(p, { schema }) })
      try {
        for (let i = 0; i < 2; i++) {
          // Twice: the second run binds the cached statement, with binary results where the pool's types allow.
          expect(
            await prisma.$queryRaw`select 7::int8 as n, 3::int4 as i, now() > '2000-01-01' as b`,
          ).toEqual([{ n: 7n, i: 3, b: true }])
          expect({ ...(await p.query('select 7::int8 as n, 3::int4 as i')).rows[0] }).toEqual(own)
        }
      } finally {
        await prisma.$disconnect()
        await p.end()
      }
    }
  })

  it('leaves a pool it was given open on $disconnect and queries again after it, as Prisma Client reconnects', async () => {
    const p = pool('tcp', schema, { max: 1 })
    const prisma = new PrismaClient({ adapter: new PrismaEdgePg(p, { schema }) })
    try {
      expect(await prisma.$queryRaw`select 1::int4 as one`).toEqual([{ one: 1 }])
      await prisma.$disconnect()
      expect(p.isEnded).toBe(false)
      expect(await prisma.$queryRaw`select 2::int4 as two`).toEqual([{ two: 2 }])
    } finally {
      await prisma.$disconnect()
      await p.end()
    }
  })

  it('ends the pools it makes on $disconnect, and makes a new one when Prisma connects again', async () => {
    const made: Pool[] = []
    const prisma = new PrismaClient({
      adapter: new PrismaEdgePg(
        () => {
          made.push(pool('tcp', schema, { max: 1 }))
          return made.at(-1)!
        },
        { schema },
      ),
    })
    expect(await prisma.$queryRaw`select 1::int4 as one`).toEqual([{ one: 1 }])
    await prisma.$disconnect()
    expect(await prisma.$queryRaw`select 2::int4 as two`).toEqual([{ two: 2 }])
    await prisma.$disconnect()
    expect(made.map((p) => p.isEnded)).toEqual([true, true])
  })

  it('says what to do when the pool it was given is ended', async () => {
    const p = pool('tcp', schema, { max: 1 })
    await p.end()
    const prisma = new PrismaClient({ adapter: new PrismaEdgePg(p, { schema }) })
    await expect(prisma.$queryRaw`select 1`).rejects.toThrow(
      'the pool given to PrismaEdgePg is ended: prisma connects again after $disconnect(), so give it an open pool, or a function that makes one (new PrismaEdgePg(() => createPool(…)))',
    )
  })

  it('reports a refused connection as DatabaseNotReachable (P1001) and a wrong password as P1000', async () => {
    const refused = createPool(`postgres://u:p@127.0.0.1:1/${server.database}`, {
      transport: nodeSocket(),
      max: 1,
      acquireTimeout: 5_000,
      openBackoffMax: 0,
    })
    const unreachable = new PrismaClient({ adapter: new PrismaEdgePg(refused) })
    await expect(unreachable.person.count()).rejects.toMatchObject({
      code: 'P1001',
      meta: { driverAdapterError: { cause: { kind: 'DatabaseNotReachable', host: '127.0.0.1', port: 1 } } },
    })
    await unreachable.$disconnect()
    const wrong = `postgres://${encodeURIComponent(server.roles.scram.user)}:wrong@${server.host}:${server.port}/${server.database}`
    const denied = new PrismaClient({
      adapter: new PrismaEdgePg(wrong, { transport: nodeSocket(), max: 1, openBackoffMax: 0 }),
    })
    await expect(denied.person.count()).rejects.toMatchObject({ code: 'P1000' })
    await denied.$disconnect()
  })

  it('runs a script of several statements on one connection, and its failure as a Prisma error', async () => {
    const adapter = await new PrismaEdgePg(pool('tcp', schema, { max: 1 }), { schema }).connect()
    try {
      await adapter.executeScript(`
        insert into ledger (tag) values ('script; one');
        insert into ledger (tag) values ('script two');
      `)
      const result = await adapter.queryRaw(
        query(`select tag from ledger where tag like 'script%' order by id`),
      )
      expect(result.rows).toEqual([['script; one'], ['script two']])
      await expect(adapter.executeScript('select 1; select nope')).rejects.toMatchObject({
        name: 'DriverAdapterError',
        cause: { kind: 'ColumnNotFound', column: 'nope' },
      })
      expect(adapter.getConnectionInfo?.()).toEqual({ schemaName: schema, supportsRelationJoins: true })
    } finally {
      await adapter.dispose()
    }
  })

  it('refuses an isolation level PostgreSQL does not have before it leases a connection', async () => {
    const p = pool('tcp', schema, { max: 1 })
    const adapter = await new PrismaEdgePg(p).connect()
    try {
      await expect(adapter.startTransaction('SNAPSHOT')).rejects.toMatchObject({
        cause: { kind: 'InvalidIsolationLevel', level: 'SNAPSHOT' },
      })
      expect(p.stats.leased).toBe(0)
    } finally {
      await adapter.dispose()
    }
  })

  it('ends a pool it was given on dispose with endPoolOnDispose: true', async () => {
    const p = pool('tcp', schema, { max: 1 })
    const adapter = await new PrismaEdgePg(p, { endPoolOnDispose: true }).connect()
    await adapter.dispose()
    expect(p.isEnded).toBe(true)
  })
})

describe('conversions', () => {
  it('parses array literals: quotes, escapes, NULL, nesting, bounds, empty', () => {
    expect(parseArrayLiteral('{}', String)).toEqual([])
    expect(parseArrayLiteral('{1,NULL,3}', Number)).toEqual([1, null, 3])
    expect(parseArrayLiteral('{"",NULL,"NULL","a \\"b\\"","c\\\\d","{x}"," y "}', String)).toEqual([
      '',
      null,
      'NULL',
      'a "b"',
      'c\\d',
      '{x}',
      ' y ',
    ])
    expect(parseArrayLiteral('{{1,2},{3,4}}', Number)).toEqual([
      [1, 2],
      [3, 4],
    ])
    expect(parseArrayLiteral('[0:1]={5,6}', Number)).toEqual([5, 6])
    expect(() => parseArrayLiteral('1,2', String)).toThrow('expected a postgresql array literal, found "1"')
    expect(() => parseArrayLiteral('{1,2', String)).toThrow('no closing "}"')
  })

  it('reads bytea in hex and escape formats', () => {
    expect(Array.from(bytea('\\x00ff10'))).toEqual([0, 255, 16])
    expect(Array.from(bytea('a\\000\\\\'))).toEqual([97, 0, 92])
  })

  it('reads timestamptz text of any offset as its instant in UTC', () => {
    expect(timestamptz('2024-01-02 03:04:05.678901+05:30')).toBe('2024-01-01T21:34:05.678901+00:00')
    expect(timestamptz('2024-12-31 23:00:00-02')).toBe('2025-01-01T01:00:00+00:00')
    expect(timestamptz('2024-01-01 00:00:00+00')).toBe('2024-01-01T00:00:00+00:00')
    expect(timestamptz('infinity')).toBe('infinity')
  })
})
