/**
 * Adversarial probes of @edgepg/prisma transactions and scripts: nested savepoints three deep (one rolled
 * back after an error aborted it), timestamptz instants under random session time zones, executeScript with
 * quotes, semicolons, dollar quoting, an unfinished transaction and COPY.
 */
import { createPool } from '@edgepg/client'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PrismaEdgePg } from '../src/index.ts'
import {
  createSchema,
  dropSchema,
  PrismaClient,
  pool,
  prisma,
  TRANSPORTS,
  transport,
  url,
} from './helpers.ts'

type Tx = Omit<PrismaClient, '$connect' | '$disconnect' | '$on' | '$use' | '$extends'>
// biome-ignore lint/suspicious/noExplicitAny: Prisma 7 types tx without $transaction, but it runs nested ones as savepoints
const nested = <T>(tx: Tx, body: (inner: Tx) => Promise<T>) => (tx as any).$transaction(body) as Promise<T>

for (const kind of TRANSPORTS) {
  describe(`adversarial transactions over ${kind}`, () => {
    const schema = `prisma_adv_tx_${kind}`
    let db: PrismaClient
    beforeAll(async () => {
      await createSchema(schema)
      db = prisma(kind, schema, { max: 3 })
    })
    afterAll(async () => {
      await db?.$disconnect()
      await dropSchema(schema)
    })

    it('rolls back a savepoint whose work failed in the database, keeping the outer and a committed inner', async () => {
      await db.$transaction(async (tx) => {
        await tx.ledger.create({ data: { tag: 'sp-outer' } })
        await nested(tx, async (a) => {
          await a.ledger.create({ data: { tag: 'sp-a' } })
          await expect(
            nested(a, async (b) => {
              await b.ledger.create({ data: { tag: 'sp-b' } })
              await b.$executeRaw`select 1/0`
            }),
          ).rejects.toMatchObject({ code: 'P2010' })
          await a.ledger.create({ data: { tag: 'sp-a2' } })
        })
        await tx.ledger.create({ data: { tag: 'sp-outer2' } })
      })
      const tags = await db.ledger.findMany({ where: { tag: { startsWith: 'sp-' } }, orderBy: { id: 'asc' } })
      expect(tags.map((t) => t.tag)).toEqual(['sp-outer', 'sp-a', 'sp-a2', 'sp-outer2'])
    })

    it('reads back timestamptz instants written under random session time zones', async () => {
      const zones = [
        'Asia/Kolkata',
        'America/St_Johns',
        'Pacific/Chatham',
        'Europe/Amsterdam',
        'Asia/Kathmandu',
        'UTC',
      ]
      const clients = zones.map(
        (zone) =>
          new PrismaClient({
            adapter: new PrismaEdgePg(
              createPool(`${url(schema)}${encodeURIComponent(` -c TimeZone=${zone}`)}`, {
                transport: transport(kind),
                types: { raw: true },
                max: 1,
              }),
              { schema },
            ),
          }),
      )
      try {
        await fc.assert(
          fc.asyncProperty(
            fc.integer({ min: 0, max: zones.length - 1 }),
            fc.integer({ min: 0, max: zones.length - 1 }),
            fc.date({
              min: new Date('0050-01-01T00:00:00Z'),
              max: new Date('9999-12-31T00:00:00Z'),
              noInvalidDate: true,
            }),
            async (w, r, instant) => {
              await clients[w]!.kitchen.upsert({
                where: { id: 7 },
                create: { id: 7, timestamptz: instant, stamps: [instant] },
                update: { timestamptz: instant, stamps: [instant] },
              })
              const read = await clients[r]!.kitchen.findUniqueOrThrow({
                where: { id: 7 },
                select: { timestamptz: true, stamps: true },
              })
              expect(read).toEqual({ timestamptz: instant, stamps: [instant] })
              const raw = await clients[r]!.$queryRaw<
                { t: Date }[]
              >`select timestamptz as t from kitchen where id = 7`
              expect(raw).toEqual([{ t: instant }])
            },
          ),
          { numRuns: 40 },
        )
      } finally {
        await Promise.all(clients.map((c) => c.$disconnect()))
      }
    })

    it('runs scripts with quotes, semicolons and dollar quoting; settles on an unfinished transaction and COPY', async () => {
      const p = pool(kind, schema, { max: 1 })
      const adapter = await new PrismaEdgePg(p, { schema }).connect()
      try {
        await adapter.executeScript(`
          insert into ledger (tag) values ('semi;colon'), ('it''s'), (E'back\\\\slash');
          create function adv_f() returns text language plpgsql as $body$ begin return 'a;b'; end $body$;
          insert into ledger (tag) values (adv_f());
          -- a comment; with a semicolon
          /* block; comment */ insert into ledger (tag) values ($$dollar; 'quoted'$$);
        `)
        const rows = await adapter.queryRaw({
          sql: `select tag from ledger where tag in ('semi;colon', 'it''s', 'back\\slash', 'a;b', 'dollar; ''quoted''') order by tag`,
          args: [],
          argTypes: [],
        })
        expect(rows.rows.map((r) => r[0]).sort()).toEqual(
          ['semi;colon', "it's", 'back\\slash', 'a;b', "dollar; 'quoted'"].sort(),
        )
        await adapter.executeScript(`begin; insert into ledger (tag) values ('unfinished')`)
        const copy = await adapter.executeScript(`copy ledger (tag) from stdin`).then(
          () => 'resolved',
          (e: Error) => `rejected: ${e.message}`,
        )
        expect(copy).toMatch(/^rejected/)
        const after = await adapter.queryRaw({
          sql: `select count(*)::int as n from ledger where tag = 'unfinished'`,
          args: [],
          argTypes: [],
        })
        expect(after.rows).toEqual([[0]])
        expect(p.stats.leased).toBe(0)
      } finally {
        await adapter.dispose()
      }
    })
  })
}
