/**
 * Adversarial probes of @edgepg/prisma under concurrency and size: many Prisma calls pipelined on a small pool
 * with failures mixed in (each settles with its own result), a deferred constraint failing at COMMIT, a 4 MB
 * value, createMany past the bind limit, and too many raw parameters.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  admin,
  createSchema,
  dropSchema,
  type PrismaClient,
  prisma,
  prismaOnPg,
  server,
  TRANSPORTS,
} from './helpers.ts'

for (const kind of TRANSPORTS) {
  describe(`adversarial concurrency over ${kind}`, () => {
    const schema = `prisma_adv_conc_${kind}`
    let db: PrismaClient
    beforeAll(async () => {
      await createSchema(schema)
      await admin(`
        create table ${schema}.parent (id int primary key);
        create table ${schema}.child (id int primary key, parent_id int references ${schema}.parent(id) deferrable initially deferred);
        alter table ${schema}.parent owner to "${server.roles.scram.user}";
        alter table ${schema}.child owner to "${server.roles.scram.user}";
      `)
      db = prisma(kind, schema, { max: 2 })
    })
    afterAll(async () => {
      await db?.$disconnect()
      await dropSchema(schema)
    })

    it('settles every one of many concurrent calls with its own result, failures mixed in', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.constantFrom('select', 'fail', 'tx', 'txfail', 'create'), {
            minLength: 10,
            maxLength: 40,
          }),
          async (ops) => {
            const results = await Promise.allSettled(
              ops.map((op, i) => {
                switch (op) {
                  case 'select':
                    return db.$queryRaw<{ i: number }[]>`select ${i}::int as i`.then((r) => r[0]!.i)
                  case 'fail':
                    return db.$queryRaw`select ${i}::int / 0`
                  case 'tx':
                    return db.$transaction(
                      async (tx) => {
                        const r = await tx.$queryRaw<{ i: number }[]>`select ${i}::int as i`
                        return r[0]!.i
                      },
                      { maxWait: 20_000, timeout: 20_000 },
                    )
                  case 'txfail':
                    return db.$transaction(
                      async (tx) => {
                        await tx.ledger.create({ data: { tag: `never${i}` } })
                        throw new Error(`tx ${i}`)
                      },
                      { maxWait: 20_000, timeout: 20_000 },
                    )
                  default:
                    return db.ledger.create({ data: { tag: `c${i}` } }).then((r) => Number(r.tag.slice(1)))
                }
              }),
            )
            results.forEach((r, i) => {
              const op = ops[i]
              if (op === 'fail') expect(r).toMatchObject({ status: 'rejected', reason: { code: 'P2010' } })
              else if (op === 'txfail')
                expect(r).toMatchObject({ status: 'rejected', reason: { message: `tx ${i}` } })
              else expect(r).toEqual({ status: 'fulfilled', value: i })
            })
          },
        ),
        { numRuns: 8 },
      )
      expect(await db.ledger.count({ where: { tag: { startsWith: 'never' } } })).toBe(0)
    })

    it('a deferred foreign key failing at COMMIT rejects the transaction and the connection stays clean', async () => {
      const commitFails = (client: PrismaClient) =>
        client
          .$transaction(async (tx) => {
            await tx.$executeRaw`insert into child values (1, 999)`
          })
          .catch((e: unknown) => e)
      const error = await commitFails(db)
      // Prisma raises a failed COMMIT as the adapter's error itself, on adapter-pg as here.
      const onPg = prismaOnPg(schema)
      try {
        expect(error).toEqual(await commitFails(onPg))
      } finally {
        await onPg.$disconnect()
      }
      expect(error).toMatchObject({
        name: 'DriverAdapterError',
        cause: { kind: 'ForeignKeyConstraintViolation', originalCode: '23503' },
      })
      const again = await Promise.all(
        [1, 2, 3].map(() =>
          db.$transaction(
            async (tx) => tx.$queryRaw<{ s: string }[]>`select current_setting('transaction_isolation') as s`,
          ),
        ),
      )
      expect(again).toEqual([[{ s: 'read committed' }], [{ s: 'read committed' }], [{ s: 'read committed' }]])
      expect(await db.$queryRaw`select count(*)::int as n from child`).toEqual([{ n: 0 }])
    })

    it('round-trips a 4 MB text value and creates 40 000 rows in one createMany', async () => {
      const big = 'é'.repeat(2 * 1024 * 1024)
      await db.kitchen.create({ data: { id: 1, text: big } })
      expect((await db.kitchen.findUniqueOrThrow({ where: { id: 1 } })).text).toBe(big)
      const n = 40_000
      expect(
        await db.ledger.createMany({ data: Array.from({ length: n }, (_, i) => ({ tag: `many${i}` })) }),
      ).toEqual({
        count: n,
      })
      expect(await db.ledger.count({ where: { tag: { startsWith: 'many' } } })).toBe(n)
    })

    it('refuses a raw query with more than 65535 parameters with an error', async () => {
      const count = 70_000
      const sql = `select ${Array.from({ length: count }, (_, i) => `$${i + 1}::int`).join(' + ')} as s`
      const error = await db
        .$queryRawUnsafe(sql, ...Array.from({ length: count }, () => 1))
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(Error)
      expect(await db.$queryRaw`select 1 as one`).toEqual([{ one: 1 }])
    })
  })
}
