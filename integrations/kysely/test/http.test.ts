/** The Kysely dialect over edgepg's HTTP client, against a relay on a real port serving `POST /sql`. */
import { DatabaseError } from '@edgepg/client'
import { http } from '@edgepg/client/http'
import { type RunningRelay, silentLogger, startRelay } from '@edgepg/proxy'
import { Kysely, sql, WithSchemaPlugin } from 'kysely'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { EdgePgHttpDialect, HTTP_TRANSACTION_MESSAGE } from '../src/http.ts'
import { admin, createSchema, type DB, expectCrudWithReturning, server, url } from './helpers.ts'

const schema = 'kysely_http'
let relay: RunningRelay
let db: Kysely<DB>

beforeAll(async () => {
  await createSchema(schema)
  relay = await startRelay(
    { port: 0, allow: [`${server.host}:${server.port}`], allowMissingOrigin: 'always', shutdownGrace: 1000 },
    { logger: silentLogger },
  )
  db = new Kysely<DB>({
    dialect: new EdgePgHttpDialect({ http: http(url(), { url: `${relay.url}/sql` }) }),
    plugins: [new WithSchemaPlugin(schema)],
  })
})
afterAll(async () => {
  await db?.destroy()
  await relay?.shutdown()
})
beforeEach(async () => {
  await admin(`truncate ${schema}.pet, ${schema}.person, ${schema}.ledger restart identity cascade`)
})

describe('kysely on edgepg over http', () => {
  it('inserts, selects, updates and deletes with returning', async () => {
    await expectCrudWithReturning(db)
  })

  it('reports numAffectedRows for insert, update and delete, and none for a select', async () => {
    const insert = await db
      .insertInto('person')
      .values(['a', 'b', 'c'].map((name) => ({ name, email: `${name}@example.com` })))
      .executeTakeFirst()
    expect(insert.numInsertedOrUpdatedRows).toBe(3n)
    const update = await db.updateTable('person').set({ name: 'z' }).where('id', '>', 1).executeTakeFirst()
    expect(update.numUpdatedRows).toBe(2n)
    const remove = await db.deleteFrom('person').where('id', '=', 3).executeTakeFirst()
    expect(remove.numDeletedRows).toBe(1n)
    const select = await sql`select 1 as one`.execute(db)
    expect(select).toEqual({ rows: [{ one: 1 }] })
  })

  it('rejects db.transaction() with an error naming the pool dialect and http.transaction, and runs nothing', async () => {
    await expect(
      db.transaction().execute(async (tx) => {
        await tx.insertInto('ledger').values({ tag: 'never' }).execute()
      }),
    ).rejects.toThrow(HTTP_TRANSACTION_MESSAGE)
    expect(HTTP_TRANSACTION_MESSAGE).toMatch(/EdgePgDialect.*http\.transaction\(\[\.\.\.\]\)/)
    await expect(db.startTransaction().execute()).rejects.toThrow(HTTP_TRANSACTION_MESSAGE)
    expect(await admin(`select count(*)::int as n from ${schema}.ledger`)).toEqual([{ n: 0 }])
  })

  it('surfaces a unique violation as edgepg’s DatabaseError with SQLSTATE 23505', async () => {
    await db.insertInto('person').values({ name: 'ada', email: 'ada@example.com' }).execute()
    const error = await db
      .insertInto('person')
      .values({ name: 'eve', email: 'ada@example.com' })
      .execute()
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DatabaseError)
    expect(error).toMatchObject({ code: '23505', constraint: 'person_email_key' })
  })

  it('streams a result as chunks of chunkSize rows (the whole result arrives first)', async () => {
    const chunks: number[] = []
    let total = 0
    const stream = sql<{ n: number }>`select n from generate_series(1, 25) n`.compile(db)
    const connection = db.getExecutor()
    await connection.provideConnection(async (c) => {
      for await (const chunk of c.streamQuery<{ n: number }>(stream, 10)) {
        chunks.push(chunk.rows.length)
        for (const row of chunk.rows) total += row.n
      }
    })
    expect({ chunks, total }).toEqual({ chunks: [10, 10, 5], total: 325 })
    await db
      .insertInto('person')
      .values(['a', 'b', 'c'].map((name) => ({ name, email: `${name}@example.com` })))
      .execute()
    const ids: number[] = []
    for await (const row of db.selectFrom('person').select('id').orderBy('id').stream(2)) ids.push(row.id)
    expect(ids).toEqual([1, 2, 3])
  })

  it('refuses a dialect config without an http client, saying what it expected', () => {
    expect(() => new EdgePgHttpDialect({} as never)).toThrow(
      'EdgePgHttpDialect expects { http }, a client made by http() from @edgepg/client/http; found undefined',
    )
  })
})
