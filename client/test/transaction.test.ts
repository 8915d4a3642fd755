import { isDatabaseError, isPgError } from '@edgepg/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Opened, open, transportKind } from './helpers.ts'

let db: Opened
const table = `tx_${transportKind}`
beforeAll(async () => {
  db = await open()
  await db.client.batchExecute(`drop table if exists ${table}; create table ${table} (n int primary key)`)
})
afterAll(async () => {
  await db.client.batchExecute(`drop table if exists ${table}`)
  await db.client.end()
})
const rows = async () =>
  (await db.client.query<{ n: number }>(`select n from ${table} order by n`)).rows.map((r) => r.n)

describe('transactions', () => {
  it('commits when the body returns and hands back its value', async () => {
    await db.client.query(`truncate ${table}`)
    const value = await db.client.transaction(async (tx) => {
      await tx.execute(`insert into ${table} values (1), (2)`)
      return tx.queryOne<{ c: bigint }>(`select count(*) as c from ${table}`)
    })
    expect(value.c).toBe(2n)
    expect(await rows()).toEqual([1, 2])
    expect(db.client.transactionStatus).toBe('idle')
  })

  it('rolls back when the body throws, and rethrows the error', async () => {
    await db.client.query(`truncate ${table}`)
    const error = await db.client
      .transaction(async (tx) => {
        await tx.execute(`insert into ${table} values (1)`)
        throw new Error('changed my mind')
      })
      .catch((e) => e)
    expect(error.message).toBe('changed my mind')
    expect(await rows()).toEqual([])
    expect(db.client.transactionStatus).toBe('idle')
  })

  it('rolls back when a statement fails, surfacing the database error', async () => {
    await db.client.query(`truncate ${table}`)
    const error = await db.client
      .transaction(async (tx) => {
        await tx.execute(`insert into ${table} values (1)`)
        await tx.execute(`insert into ${table} values (1)`)
      })
      .catch((e) => e)
    expect(isDatabaseError(error, '23505')).toBe(true)
    expect(await rows()).toEqual([])
  })

  it('nests with savepoints: an inner failure rolls back only the inner work', async () => {
    await db.client.query(`truncate ${table}`)
    await db.client.transaction(async (tx) => {
      await tx.execute(`insert into ${table} values (1)`)
      await tx
        .transaction(async (inner) => {
          await inner.execute(`insert into ${table} values (2)`)
          throw new Error('inner fails')
        })
        .catch(() => {})
      await tx.transaction(async (inner) => {
        await inner.execute(`insert into ${table} values (3)`)
      })
    })
    expect(await rows()).toEqual([1, 3])
  })

  it('applies isolation level, read only and deferrable', async () => {
    const row = await db.client.transaction(
      (tx) =>
        tx.queryOne<{ iso: string; ro: string; d: string }>(
          `select current_setting('transaction_isolation') as iso, current_setting('transaction_read_only') as ro,
                  current_setting('transaction_deferrable') as d`,
        ),
      { isolation: 'serializable', readOnly: true, deferrable: true },
    )
    expect(row).toEqual({ iso: 'serializable', ro: 'on', d: 'on' })
    const error = await db.client
      .transaction((tx) => tx.execute(`insert into ${table} values (9)`), { readOnly: true })
      .catch((e) => e)
    expect(isDatabaseError(error, '25006')).toBe(true)
  })

  it('supports explicit begin, commit and rollback, and refuses a finished transaction', async () => {
    await db.client.query(`truncate ${table}`)
    const tx = await db.client.begin()
    await tx.execute(`insert into ${table} values (5)`)
    await tx.commit()
    expect(await rows()).toEqual([5])
    await expect(tx.query('select 1')).rejects.toThrow(/transaction is committed/)
    const second = await db.client.begin({ isolation: 'repeatable read' })
    await second.execute(`insert into ${table} values (6)`)
    await second.rollback()
    expect(await rows()).toEqual([5])
    await expect(second.execute('select 1')).rejects.toThrow(/transaction is rolled back/)
  })

  it('reports a commit of a transaction the server already rolled back', async () => {
    const tx = await db.client.begin()
    await tx.query('select 1/0').catch(() => {})
    await expect(tx.commit()).rejects.toSatisfy(
      (e) => isPgError(e, 'usage') && /rolled back by the server/.test((e as Error).message),
    )
    expect(db.client.transactionStatus).toBe('idle')
  })
})
