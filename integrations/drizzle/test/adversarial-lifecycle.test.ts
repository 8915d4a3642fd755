/**
 * Adversarial: every Drizzle promise on edgepg settles — an exhausted pool, a pool ended under an open
 * transaction, a statement timeout, a big result — and each failure is Drizzle's own error with a cause.
 */
import { sql } from 'drizzle-orm'
import { DrizzleQueryError } from 'drizzle-orm/errors'
import { beforeAll, describe, expect, it } from 'vitest'
import { drizzle } from '../src/index.ts'
import { createSchema, pool, TRANSPORTS } from './helpers.ts'
import { tables } from './schema.ts'

describe.each(TRANSPORTS)('adversarial drizzle lifecycle over %s', (kind) => {
  const schemaName = `drizzle_adv_life_${kind}`
  const t = tables(schemaName)
  beforeAll(async () => {
    await createSchema(schemaName)
  })

  it('a transaction waiting on an exhausted pool rejects at acquireTimeout, and the holder still commits', async () => {
    const db = drizzle(pool(kind, { max: 1, acquireTimeout: 200 }), { schema: t })
    try {
      let release!: () => void
      const held = new Promise<void>((resolve) => {
        release = resolve
      })
      const holder = db.transaction(async (tx) => {
        await tx.insert(t.ledger).values({ tag: 'holder' })
        await held
      })
      const waiter = db.transaction(async () => 'never')
      await expect(waiter).rejects.toMatchObject({ kind: 'timeout' })
      const query = await db
        .select()
        .from(t.ledger)
        .catch((error: unknown) => error)
      expect(query).toBeInstanceOf(DrizzleQueryError)
      expect((query as DrizzleQueryError).cause).toMatchObject({ kind: 'timeout' })
      release()
      await holder
      expect(db.$client.stats).toMatchObject({ leased: 0, waiting: 0 })
    } finally {
      await db.$client.end()
    }
  })

  it('a transaction open when its pool is ended with a timeout rejects instead of hanging', async () => {
    const db = drizzle(pool(kind, { max: 1 }), { schema: t })
    let entered!: () => void
    const inside = new Promise<void>((resolve) => {
      entered = resolve
    })
    const run = db.transaction(async (tx) => {
      await tx.insert(t.ledger).values({ tag: 'cut' })
      entered()
      await tx.execute(sql`select pg_sleep(5)`)
    })
    await inside
    const ended = db.$client.end({ timeout: 100 })
    await expect(run).rejects.toThrow()
    await ended
    expect(db.$client.stats).toMatchObject({ size: 0, leased: 0 })
  })

  it('a statement timeout set local in a transaction rejects with DrizzleQueryError 57014 and the lease comes back clean', async () => {
    const db = drizzle(pool(kind, { max: 1 }), { schema: t })
    try {
      const error = await db
        .transaction(async (tx) => {
          await tx.execute(sql`set local statement_timeout = 50`)
          await tx.execute(sql`select pg_sleep(2)`)
        })
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(DrizzleQueryError)
      expect((error as DrizzleQueryError).cause).toMatchObject({ code: '57014' })
      const shown = await db.execute<{ statement_timeout: string }>(sql`show statement_timeout`)
      expect(shown.rows[0]!.statement_timeout).toBe('0')
      expect(db.$client.stats).toMatchObject({ leased: 0 })
    } finally {
      await db.$client.end()
    }
  })

  it('selects 100,000 rows through Drizzle, mapped as it maps one', async () => {
    const db = drizzle(pool(kind, { max: 1 }), { schema: t })
    try {
      const rows = await db
        .select({ n: sql<number>`n`.mapWith(Number), s: sql<string>`'row ' || n` })
        .from(sql`generate_series(1, 100000) as n`)
      expect(rows).toHaveLength(100_000)
      expect(rows[99_999]).toEqual({ n: 100_000, s: 'row 100000' })
    } finally {
      await db.$client.end()
    }
  })

  it('a begin run outside db.transaction() never leaves the next caller inside a transaction', async () => {
    const db = drizzle(pool(kind, { max: 1 }), { schema: t })
    try {
      const error = await db.execute(sql`begin`).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(DrizzleQueryError)
      expect(String((error as DrizzleQueryError).cause)).toMatch(/left a transaction open/)
      // savepoint outside a transaction block fails with 25P01: the next caller is not inside one.
      const next = await db.execute(sql`savepoint probe`).catch((e: unknown) => e)
      expect((next as DrizzleQueryError).cause).toMatchObject({ code: '25P01' })
      const lease = await db.$client.connect()
      await drizzle(lease).execute(sql`begin`)
      lease.release()
      const after = await db.execute(sql`savepoint probe`).catch((e: unknown) => e)
      expect((after as DrizzleQueryError).cause).toMatchObject({ code: '25P01' })
      expect(db.$client.stats).toMatchObject({ leased: 0, waiting: 0 })
    } finally {
      await db.$client.end()
    }
  })
})
