// Transactions and savepoints always end: a rollback works whatever savepoints are open, a failed rollback
// is never swallowed, and no statement after a transaction runs inside it.
import { type Client, isDatabaseError, isPgError, type Transaction } from '@edgepg/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { admin, type Opened, open, transportKind } from './helpers.ts'

let db: Opened
const table = `txsp_${transportKind}`
beforeAll(async () => {
  db = await open()
  await db.client.batchExecute(`drop table if exists ${table}; create table ${table} (n int primary key)`)
})
afterAll(async () => {
  await db.client.batchExecute(`drop table if exists ${table}`)
  await db.client.end()
})

/** Rows of the test table as another connection sees them (committed rows only). */
const committed = async () =>
  (await admin<{ n: number }>(`select n from ${table} order by n`)).map((r) => r.n)

/** Asserts `client` is outside any transaction: its status, and a write another session sees at once. */
async function expectOutsideTransaction(client: Client, marker: number) {
  expect(client.transactionStatus).toBe('idle')
  expect((await client.queryOne<{ xid: unknown }>('select txid_current_if_assigned() as xid')).xid).toBeNull()
  await client.execute(`insert into ${table} values ($1)`, [marker])
  expect(client.transactionStatus).toBe('idle')
  expect(await committed()).toContain(marker)
}

describe('transactions with savepoints end whatever is open', () => {
  it('rolls back when the body throws with a savepoint still open, and later statements run outside it', async () => {
    await db.client.query(`truncate ${table}`)
    let savepoint: Transaction | undefined
    const error = await db.client
      .transaction(async (tx) => {
        await tx.execute(`insert into ${table} values (1)`)
        savepoint = await tx.savepoint()
        await savepoint.execute(`insert into ${table} values (2)`)
        throw new Error('changed my mind')
      })
      .catch((e) => e)
    expect(error.message).toBe('changed my mind')
    expect(savepoint?.state).toBe('rolled back')
    await expect(savepoint?.query('select 1')).rejects.toThrow(/transaction is rolled back/)
    expect(await committed()).toEqual([])
    await expectOutsideTransaction(db.client, 10)
  })

  it('rolls back everything when the body returns with a savepoint still open, and says so', async () => {
    await db.client.query(`truncate ${table}`)
    const error = await db.client
      .transaction(async (tx) => {
        await tx.execute(`insert into ${table} values (1)`)
        const savepoint = await tx.savepoint()
        await savepoint.execute(`insert into ${table} values (2)`)
      })
      .catch((e) => e)
    expect(isPgError(error, 'usage')).toBe(true)
    expect(error.message).toMatch(/returned while a savepoint it opened was still open/)
    expect(await committed()).toEqual([])
    await expectOutsideTransaction(db.client, 11)
  })

  it('rolls back an outer transaction with a savepoint open, finishing the savepoint too', async () => {
    await db.client.query(`truncate ${table}`)
    const tx = await db.client.begin()
    await tx.execute(`insert into ${table} values (1)`)
    const outer = await tx.savepoint()
    const inner = await outer.savepoint()
    await inner.execute(`insert into ${table} values (2)`)
    await tx.rollback()
    expect([tx.state, outer.state, inner.state]).toEqual(['rolled back', 'rolled back', 'rolled back'])
    await expect(inner.query('select 1')).rejects.toThrow(/transaction is rolled back/)
    expect(await committed()).toEqual([])
    await expectOutsideTransaction(db.client, 12)
  })

  it('rolls back to a savepoint with a savepoint open inside it, keeping the outer work', async () => {
    await db.client.query(`truncate ${table}`)
    const tx = await db.client.begin()
    await tx.execute(`insert into ${table} values (1)`)
    const outer = await tx.savepoint()
    await outer.execute(`insert into ${table} values (2)`)
    const inner = await outer.savepoint()
    await inner.execute(`insert into ${table} values (3)`)
    await outer.rollback()
    expect([outer.state, inner.state]).toEqual(['rolled back', 'rolled back'])
    await tx.execute(`insert into ${table} values (4)`)
    await tx.commit()
    expect(await committed()).toEqual([1, 4])
    await expectOutsideTransaction(db.client, 13)
  })

  it('refuses to commit while a savepoint is open, and the transaction stays usable', async () => {
    await db.client.query(`truncate ${table}`)
    const tx = await db.client.begin()
    const savepoint = await tx.savepoint()
    await savepoint.execute(`insert into ${table} values (1)`)
    await expect(tx.commit()).rejects.toSatisfy(
      (e) =>
        isPgError(e, 'usage') && /savepoint of this transaction is still open/.test((e as Error).message),
    )
    expect(tx.state).toBe('open')
    await savepoint.commit()
    await tx.commit()
    expect(await committed()).toEqual([1])
    await expectOutsideTransaction(db.client, 14)
  })

  it('opens sibling savepoints one after another, and refuses one inside a savepoint rolled back', async () => {
    await db.client.query(`truncate ${table}`)
    await db.client.transaction(async (tx) => {
      const first = await tx.savepoint()
      await first.execute(`insert into ${table} values (1)`)
      await first.rollback()
      await expect(first.savepoint()).rejects.toThrow(/transaction is rolled back/)
      const second = await tx.savepoint()
      await second.execute(`insert into ${table} values (2)`)
      await second.commit()
      await tx.transaction(async (third) => {
        await third.execute(`insert into ${table} values (3)`)
        await third.transaction((deeper) => deeper.execute(`insert into ${table} values (4)`))
      })
    })
    expect(await committed()).toEqual([2, 3, 4])
    await expectOutsideTransaction(db.client, 15)
  })

  it('refuses a second savepoint while a sibling is still open', async () => {
    const tx = await db.client.begin()
    await tx.savepoint()
    await expect(tx.savepoint()).rejects.toThrow(/savepoint of this transaction is still open/)
    await tx.rollback()
    await expectOutsideTransaction(db.client, 16)
  })

  it('counts a savepoint opened but not awaited as open, so the commit refuses and rolls back', async () => {
    await db.client.query(`truncate ${table}`)
    let opening: Promise<Transaction> | undefined
    const error = await db.client
      .transaction(async (tx) => {
        await tx.execute(`insert into ${table} values (1)`)
        opening = tx.savepoint()
      })
      .catch((e) => e)
    expect(isPgError(error, 'usage')).toBe(true)
    const savepoint = await opening!
    expect(savepoint.state).toBe('rolled back')
    await expect(savepoint.execute(`insert into ${table} values (2)`)).rejects.toThrow(
      /transaction is rolled back/,
    )
    expect(await committed()).toEqual([])
    await expectOutsideTransaction(db.client, 17)
  })

  it('commits a statement the body started without awaiting it, and refuses one issued after it returned', async () => {
    await db.client.query(`truncate ${table}`)
    let late: Promise<unknown> | undefined
    let inFlight: Promise<number> | undefined
    await db.client.transaction(async (tx) => {
      inFlight = tx.execute(`insert into ${table} values (1)`)
      // Settled to a value at once, so its rejection is never unhandled while the commit is in flight.
      late = new Promise((resolve) => setTimeout(resolve, 0))
        .then(() => tx.execute(`insert into ${table} values (2)`))
        .catch((e: unknown) => e)
    })
    expect(await inFlight).toBe(1)
    expect(await late).toSatisfy(
      (e) => isPgError(e, 'usage') && /transaction is committed/.test((e as Error).message),
    )
    expect(await committed()).toEqual([1])
    await expectOutsideTransaction(db.client, 18)
  })

  it('rolls back to a savepoint whose body swallowed a failed statement, and the outer transaction goes on', async () => {
    await db.client.query(`truncate ${table}`)
    await db.client.transaction(async (tx) => {
      await tx.execute(`insert into ${table} values (1)`)
      const error = await tx
        .transaction(async (savepoint) => {
          await savepoint.execute(`insert into ${table} values (2)`)
          await savepoint.query('select 1/0').catch(() => {})
        })
        .catch((e) => e)
      expect(isDatabaseError(error, '25P02')).toBe(true)
      await tx.execute(`insert into ${table} values (3)`)
    })
    expect(await committed()).toEqual([1, 3])
    await expectOutsideTransaction(db.client, 19)
  })

  it('ends a transaction whose commit the server refuses as rolled back, with the server error', async () => {
    const deferred = `${table}_deferred`
    await db.client.batchExecute(
      `drop table if exists ${deferred}; create table ${deferred} (n int unique deferrable initially deferred)`,
    )
    const tx = await db.client.begin()
    await tx.execute(`insert into ${deferred} values (1), (1)`)
    await expect(tx.commit()).rejects.toSatisfy((e) => isDatabaseError(e, '23505'))
    expect(tx.state).toBe('rolled back')
    await db.client.query(`drop table ${deferred}`)
    await expectOutsideTransaction(db.client, 20)
  })
})

describe('a rollback that fails is reported, never swallowed', () => {
  it("throws the body's error with the failed savepoint rollback attached as suppressed", async () => {
    await db.client.query(`truncate ${table}`)
    const body = new Error('savepoint body fails')
    const outer = await db.client
      .transaction(async (tx) => {
        const error = await tx
          .transaction(async (savepoint) => {
            // The body ends the savepoint behind the driver's back: ROLLBACK TO SAVEPOINT then fails (3B001).
            await savepoint.query('release savepoint edgepg_savepoint_1')
            throw body
          })
          .catch((e) => e)
        expect(error).toBe(body)
        expect(isDatabaseError(error.suppressed, '3B001')).toBe(true)
      })
      .catch((e) => e)
    // The failed ROLLBACK TO SAVEPOINT aborted the outer transaction, so the server refuses its commit.
    expect(outer.message).toMatch(/rolled back by the server/)
    await expectOutsideTransaction(db.client, 21)
  })

  it("throws the body's error with the failed rollback attached when the connection dies in the body", async () => {
    const victim = await open()
    const body = await victim.client
      .transaction(async (tx) => {
        await tx.query('select pg_terminate_backend(pg_backend_pid())')
      })
      .catch((e) => e)
    expect(isDatabaseError(body, '57P01')).toBe(true)
    expect(isPgError(body.suppressed, 'closed')).toBe(true)
    await expect(victim.client.query('select 1')).rejects.toSatisfy((e) => isPgError(e, 'closed'))
  })
})
