/**
 * Adversarial differential probes of error mapping: the Prisma error code and the driver adapter's cause on
 * @edgepg/prisma must be those Prisma raises on @prisma/adapter-pg for the same failure.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Prisma } from '../generated/node/client.ts'
import { admin, createSchema, dropSchema, type PrismaClient, prisma, prismaOnPg, server } from './helpers.ts'

function summary(error: unknown) {
  const e = error as { code?: string; meta?: Record<string, unknown>; constructor: { name: string } }
  const meta = { ...(e.meta ?? {}) }
  return { type: e.constructor.name, code: e.code, meta }
}

async function failure(run: () => Promise<unknown>) {
  try {
    await run()
    return 'no error'
  } catch (error) {
    return summary(error)
  }
}

describe('adversarial errors: edgepg vs pg', () => {
  const schema = 'prisma_adv_errors'
  let edge: PrismaClient
  let onPg: PrismaClient
  beforeAll(async () => {
    await createSchema(schema)
    await admin(`create table ${schema}.pair (a int, b int, unique (a, b))`)
    await admin(`alter table ${schema}.pair owner to "${server.roles.scram.user}"`)
    edge = prisma('tcp', schema, { max: 4 })
    onPg = prismaOnPg(schema)
    await edge.person.create({ data: { name: 'p', email: 'p@e.test' } })
  })
  afterAll(async () => {
    await edge?.$disconnect()
    await onPg?.$disconnect()
    await dropSchema(schema)
  })

  const cases: [string, (db: PrismaClient) => Promise<unknown>][] = [
    ['P2002 model', (db) => db.person.create({ data: { name: 'x', email: 'p@e.test' } })],
    ['P2002 raw', (db) => db.$executeRaw`insert into person (name, email) values ('x', 'p@e.test')`],
    ['P2002 composite raw', (db) => db.$executeRaw`insert into pair values (1, 1), (1, 1)`],
    ['P2003', (db) => db.pet.create({ data: { ownerId: 424242, species: 's' } })],
    ['P2003 delete', (db) => db.$executeRaw`delete from person where id = 1 and exists (select 1 from pet)`],
    ['P2025 update', (db) => db.person.update({ where: { id: 999 }, data: { name: 'z' } })],
    ['P2025 delete', (db) => db.person.delete({ where: { id: 999 } })],
    ['P2000 length', (db) => db.kitchen.create({ data: { id: 9, varChar: 'x'.repeat(21) } })],
    ['P2011 raw null', (db) => db.$executeRaw`insert into person (name, email) values (null, 'n')`],
    ['22003 range raw', (db) => db.$queryRaw`select 2147483647::int4 + 1`],
    ['22P02 raw', (db) => db.$queryRaw`select 'x'::int`],
    ['22012 div zero', (db) => db.$queryRaw`select 1/0`],
    ['42P01 table', (db) => db.$queryRaw`select * from nope_table`],
    ['42703 column', (db) => db.$queryRawUnsafe('select "No""pe" from person')],
    ['42601 syntax', (db) => db.$queryRawUnsafe('selec 1')],
    [
      '57014 statement timeout',
      (db) =>
        db.$transaction(async (tx) => {
          await tx.$executeRaw`set local statement_timeout = 50`
          await tx.$queryRaw`select pg_sleep(1)`
        }),
    ],
    [
      'P0001 raise',
      (db) =>
        db.$executeRawUnsafe(
          `do $$ begin raise exception 'custom %', 1 using hint = 'h', detail = 'd'; end $$`,
        ),
    ],
    ['uuid model', (db) => db.kitchen.findMany({ where: { uuid: 'zzz' } })],
    [
      '25P02 aborted',
      (db) =>
        db.$transaction(async (tx) => {
          await tx.$queryRaw`select 1/0`.catch(() => undefined)
          await tx.$queryRaw`select 1`
        }),
    ],
    [
      'terminated in tx',
      (db) =>
        db.$transaction(async (tx) => {
          await tx.$queryRaw`select pg_terminate_backend(pg_backend_pid())`
        }),
    ],
  ]

  for (const [name, run] of cases) {
    it(`${name} maps as on pg`, async () => {
      const a = await failure(() => run(edge))
      const b = await failure(() => run(onPg))
      expect(a).toEqual(b)
    })
  }

  it('P2034 on a serialization failure, as on pg', async () => {
    const clash = async (db: PrismaClient, tag: string) => {
      await db.ledger.create({ data: { tag } })
      let ready = 0
      let go!: () => void
      const both = new Promise<void>((r) => {
        go = r
      })
      const one = () =>
        db.$transaction(
          async (tx) => {
            const n = await tx.ledger.count({ where: { tag } })
            if (++ready === 2) go()
            await both
            await tx.ledger.create({ data: { tag: `${tag}-${n}` } })
            await tx.ledger.updateMany({ where: { tag }, data: { tag } })
          },
          { isolationLevel: Prisma.TransactionIsolationLevel.Serializable },
        )
      const results = await Promise.allSettled([one(), one()])
      const rejected = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[]
      return rejected.map((r) => {
        const e = r.reason as {
          code?: string
          meta?: { driverAdapterError?: { cause?: { kind?: string; originalCode?: string } } }
        }
        const cause = e.meta?.driverAdapterError?.cause
        return { code: e.code, kind: cause?.kind, originalCode: cause?.originalCode }
      })
    }
    const a = await clash(edge, 'ser-edge')
    const b = await clash(onPg, 'ser-pg')
    expect(a).toEqual(b)
    expect(a[0]?.code).toBe('P2034')
  })

  it('a deadlock maps as on pg', async () => {
    const lock = async (db: PrismaClient, tag: string) => {
      const [x, y] = await Promise.all([
        db.ledger.create({ data: { tag: `${tag}x` } }),
        db.ledger.create({ data: { tag: `${tag}y` } }),
      ])
      let ready = 0
      let go!: () => void
      const both = new Promise<void>((r) => {
        go = r
      })
      const one = (first: number, second: number) =>
        db.$transaction(async (tx) => {
          await tx.ledger.update({ where: { id: first }, data: { tag: 'l' } })
          if (++ready === 2) go()
          await both
          await tx.ledger.update({ where: { id: second }, data: { tag: 'l' } })
        })
      const results = await Promise.allSettled([one(x.id, y.id), one(y.id, x.id)])
      return (results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[]).map((r) =>
        summary(r.reason),
      )
    }
    const a = await lock(edge, 'dl-edge')
    const b = await lock(onPg, 'dl-pg')
    expect(a).toEqual(b)
    expect(a).toHaveLength(1)
  })
})
