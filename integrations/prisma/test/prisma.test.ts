/**
 * Prisma Client 7 (generated from prisma/schema.prisma) on @edgepg/prisma, over TCP and through the relay:
 * CRUD with returning, relations, interactive and batch transactions (isolation levels, nested savepoints,
 * concurrency on one pool), Prisma's error codes, and raw queries.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Prisma } from '../generated/node/client.ts'
import {
  admin,
  createSchema,
  dropSchema,
  type PrismaClient,
  prisma,
  prismaOnPg,
  TRANSPORTS,
} from './helpers.ts'

/** The driver adapter error's cause Prisma attached to `error`, for comparing two adapters. */
function causeOf(error: unknown): unknown {
  return (error as { meta?: { driverAdapterError?: { cause?: unknown } } }).meta?.driverAdapterError?.cause
}

for (const kind of TRANSPORTS) {
  describe(`prisma on edgepg over ${kind}`, () => {
    const schema = `prisma_${kind}`
    let db: PrismaClient
    /** The same schema through Prisma on @prisma/adapter-pg, to compare errors with. */
    let reference: PrismaClient

    beforeAll(async () => {
      await createSchema(schema)
      db = prisma(kind, schema, { max: 10 })
      reference = prismaOnPg(schema)
    })

    afterAll(async () => {
      await db?.$disconnect()
      await reference?.$disconnect()
      await dropSchema(schema)
    })

    it('creates, updates, upserts and deletes with the rows returned', async () => {
      const ada = await db.person.create({ data: { name: 'ada', email: 'ada@crud.test' } })
      expect(ada).toEqual({ id: expect.any(Number), name: 'ada', email: 'ada@crud.test' })
      const many = await db.person.createManyAndReturn({
        data: [
          { name: 'bob', email: 'bob@crud.test' },
          { name: 'cy', email: 'cy@crud.test' },
        ],
        select: { name: true },
      })
      expect(many).toEqual([{ name: 'bob' }, { name: 'cy' }])
      expect(await db.person.createMany({ data: [{ name: 'dee', email: 'dee@crud.test' }] })).toEqual({
        count: 1,
      })
      const renamed = await db.person.update({ where: { id: ada.id }, data: { name: 'ada l.' } })
      expect(renamed).toEqual({ ...ada, name: 'ada l.' })
      const upserted = await db.person.upsert({
        where: { email: 'bob@crud.test' },
        create: { name: 'never', email: 'bob@crud.test' },
        update: { name: 'robert' },
      })
      expect(upserted.name).toBe('robert')
      const inserted = await db.person.upsert({
        where: { email: 'eve@crud.test' },
        create: { name: 'eve', email: 'eve@crud.test' },
        update: { name: 'never' },
      })
      expect(inserted.name).toBe('eve')
      expect(await db.person.updateMany({ where: { email: { endsWith: '@crud.test' } }, data: {} })).toEqual({
        count: 5,
      })
      const deleted = await db.person.delete({ where: { email: 'cy@crud.test' } })
      expect(deleted.name).toBe('cy')
      const names = await db.person.findMany({
        where: { email: { endsWith: '@crud.test' } },
        orderBy: { id: 'asc' },
        select: { name: true },
      })
      expect(names.map((p) => p.name)).toEqual(['ada l.', 'robert', 'dee', 'eve'])
      expect(await db.person.deleteMany({ where: { email: { endsWith: '@crud.test' } } })).toEqual({
        count: 4,
      })
    })

    it('reads relations with include, a relation filter and a nested create', async () => {
      const owner = await db.person.create({
        data: {
          name: 'ann',
          email: 'ann@join.test',
          pets: { create: [{ species: 'cat' }, { species: 'dog' }] },
        },
        include: { pets: { orderBy: { id: 'asc' } } },
      })
      expect(owner.pets.map((p) => p.species)).toEqual(['cat', 'dog'])
      await db.person.create({ data: { name: 'ben', email: 'ben@join.test' } })
      const withCats = await db.person.findMany({
        where: { email: { endsWith: '@join.test' }, pets: { some: { species: 'cat' } } },
        include: { pets: { select: { species: true }, orderBy: { id: 'asc' } } },
      })
      expect(withCats).toEqual([
        { id: owner.id, name: 'ann', email: 'ann@join.test', pets: [{ species: 'cat' }, { species: 'dog' }] },
      ])
      const pet = await db.pet.findFirstOrThrow({
        where: { species: 'dog', owner: { email: 'ann@join.test' } },
        include: { owner: { select: { name: true } } },
      })
      expect(pet.owner).toEqual({ name: 'ann' })
      const counted = await db.person.findMany({
        where: { email: { endsWith: '@join.test' } },
        select: { name: true, _count: { select: { pets: true } } },
        orderBy: { name: 'asc' },
      })
      expect(counted).toEqual([
        { name: 'ann', _count: { pets: 2 } },
        { name: 'ben', _count: { pets: 0 } },
      ])
    })

    it('commits an interactive transaction at the isolation level asked for', async () => {
      const result = await db.$transaction(
        async (tx) => {
          await tx.ledger.create({ data: { tag: 'tx-commit' } })
          const rows = await tx.$queryRaw<
            { level: string }[]
          >`select current_setting('transaction_isolation') as level`
          return rows[0]!.level
        },
        { isolationLevel: Prisma.TransactionIsolationLevel.Serializable },
      )
      expect(result).toBe('serializable')
      expect(await db.ledger.count({ where: { tag: 'tx-commit' } })).toBe(1)
    })

    it('rolls back an interactive transaction that throws, and the pool stays usable', async () => {
      await expect(
        db.$transaction(async (tx) => {
          await tx.ledger.create({ data: { tag: 'tx-rollback' } })
          expect(await tx.ledger.count({ where: { tag: 'tx-rollback' } })).toBe(1)
          throw new Error('boom')
        }),
      ).rejects.toThrow('boom')
      expect(await db.ledger.count({ where: { tag: 'tx-rollback' } })).toBe(0)
      expect(await db.$queryRaw`select 1 as one`).toEqual([{ one: 1 }])
    })

    it('runs a batch $transaction as one transaction, all or nothing', async () => {
      const [a, b, count] = await db.$transaction([
        db.ledger.create({ data: { tag: 'batch' } }),
        db.ledger.create({ data: { tag: 'batch' } }),
        db.ledger.count({ where: { tag: 'batch' } }),
      ])
      expect([a.tag, b.tag, count]).toEqual(['batch', 'batch', 2])
      await expect(
        db.$transaction([
          db.ledger.create({ data: { tag: 'batch-failed' } }),
          db.$executeRaw`insert into ledger (tag) values (null)`,
        ]),
      ).rejects.toThrow()
      expect(await db.ledger.count({ where: { tag: 'batch-failed' } })).toBe(0)
    })

    it('rolls back a nested transaction to its savepoint while the outer one commits', async () => {
      await db.$transaction(async (tx) => {
        await tx.ledger.create({ data: { tag: 'outer' } })
        await expect(
          // biome-ignore lint/suspicious/noExplicitAny: Prisma 7 types tx without $transaction, but it runs nested ones as savepoints
          (tx as any).$transaction(async (inner: typeof tx) => {
            await inner.ledger.create({ data: { tag: 'inner' } })
            throw new Error('inner fails')
          }),
        ).rejects.toThrow('inner fails')
        await tx.ledger.create({ data: { tag: 'outer-after' } })
      })
      const tags = await db.ledger.findMany({
        where: { tag: { in: ['outer', 'inner', 'outer-after'] } },
        orderBy: { id: 'asc' },
      })
      expect(tags.map((t) => t.tag)).toEqual(['outer', 'outer-after'])
    })

    it('keeps 8 concurrent interactive transactions on one pool apart', async () => {
      const n = 8
      let started = 0
      let release!: () => void
      const allStarted = new Promise<void>((resolve) => {
        release = resolve
      })
      const results = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          db.$transaction(
            async (tx) => {
              await tx.ledger.create({ data: { tag: `c${i}` } })
              if (++started === n) release()
              await allStarted
              // Each sees its own row and none of the others' (repeatable read: its snapshot is from its
              // insert, before any of them committed).
              const seen = await tx.ledger.findMany({
                where: { tag: { startsWith: 'c' } },
                select: { tag: true },
              })
              const rows = await tx.$queryRaw<{ pid: number }[]>`select pg_backend_pid() as pid`
              return { seen: seen.map((s) => s.tag), pid: rows[0]!.pid }
            },
            {
              timeout: 20_000,
              maxWait: 20_000,
              isolationLevel: Prisma.TransactionIsolationLevel.RepeatableRead,
            },
          ),
        ),
      )
      results.forEach((r, i) => {
        expect(r.seen).toEqual([`c${i}`])
      })
      expect(new Set(results.map((r) => r.pid)).size).toBe(n)
      expect(await db.ledger.count({ where: { tag: { startsWith: 'c' } } })).toBe(n)
    })

    it('raises P2002 naming the unique constraint and its table, as on pg', async () => {
      await db.person.create({ data: { name: 'uno', email: 'uno@unique.test' } })
      const error = await db.person
        .create({ data: { name: 'dos', email: 'uno@unique.test' } })
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(Prisma.PrismaClientKnownRequestError)
      expect(error).toMatchObject({
        code: 'P2002',
        meta: {
          modelName: 'Person',
          driverAdapterError: {
            cause: {
              kind: 'UniqueConstraintViolation',
              constraint: { index: 'person_email_key' },
              table: 'person',
              originalCode: '23505',
            },
          },
        },
      })
      // adapter-pg reports the same cause for the same violation.
      const onPg = await reference.person
        .create({ data: { name: 'dos', email: 'uno@unique.test' } })
        .catch((e: unknown) => e)
      expect(causeOf(error)).toEqual(causeOf(onPg))
    })

    it('raises P2003 on a foreign key violation, as on pg', async () => {
      const fk = await db.pet
        .create({ data: { ownerId: 999_999, species: 'ghost' } })
        .catch((e: unknown) => e)
      expect(fk).toBeInstanceOf(Prisma.PrismaClientKnownRequestError)
      expect(fk).toMatchObject({
        code: 'P2003',
        meta: { driverAdapterError: { cause: { kind: 'ForeignKeyConstraintViolation' } } },
      })
      const onPg = await reference.pet
        .create({ data: { ownerId: 999_999, species: 'ghost' } })
        .catch((e: unknown) => e)
      expect(causeOf(fk)).toEqual(causeOf(onPg))
    })

    it('raises P2010 with the mapped cause when raw SQL breaks a not-null constraint, as on pg', async () => {
      const nul = await db.$executeRaw`insert into ledger (tag) values (null)`.catch((e: unknown) => e)
      expect(nul).toMatchObject({
        code: 'P2010',
        meta: { driverAdapterError: { cause: { kind: 'NullConstraintViolation', originalCode: '23502' } } },
      })
      const onPg = await reference.$executeRaw`insert into ledger (tag) values (null)`.catch(
        (e: unknown) => e,
      )
      expect(causeOf(nul)).toEqual(causeOf(onPg))
    })

    it('runs $queryRaw, $executeRaw and $queryRawUnsafe with parameters', async () => {
      const tag = "it's raw"
      expect(await db.$executeRaw`insert into ledger (tag) values (${tag}), (${`${tag}!`})`).toBe(2)
      const rows = await db.$queryRaw<{ tag: string; n: bigint }[]>`
        select tag, count(*) over () as n from ledger where tag like ${`${tag}%`} order by tag`
      expect(rows).toEqual([
        { tag, n: 2n },
        { tag: `${tag}!`, n: 2n },
      ])
      const unsafe = await db.$queryRawUnsafe<{ sum: number; text: string }[]>(
        'select $1::int + $2::int as sum, $3::text as text',
        40,
        2,
        'forty-two',
      )
      expect(unsafe).toEqual([{ sum: 42, text: 'forty-two' }])
      expect(await db.$executeRawUnsafe('delete from ledger where tag like $1', `${tag}%`)).toBe(2)
    })

    it('ends the pool on $disconnect: no session of it stays open', async () => {
      const appName = `prisma_disconnect_${kind}`
      const own = prisma(kind, schema, { max: 1 })
      await own.$executeRawUnsafe(`set application_name = '${appName}'`)
      const sessions = () =>
        admin<{ n: number }>('select count(*)::int as n from pg_stat_activity where application_name = $1', [
          appName,
        ])
      expect(await sessions()).toEqual([{ n: 1 }])
      await own.$disconnect()
      expect(await sessions()).toEqual([{ n: 0 }])
    })
  })
}
