/**
 * What an adversarial review found (each failed before its fix): several statements in one parameterless
 * `sql.raw` (as migrations write them) and a stream chunk size past the protocol's 32-bit row count. Over TCP
 * and through the relay.
 */
import { Kysely, sql, WithSchemaPlugin } from 'kysely'
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { EdgePgDialect } from '../src/index.ts'
import { admin, createSchema, type DB, kyselyOnPg, pool, TRANSPORTS } from './helpers.ts'

describe.each(TRANSPORTS)('kysely on edgepg over %s', (kind) => {
  const schema = `kysely_statements_${kind}`
  beforeAll(() => createSchema(schema))

  const onPool = (max = 1) => {
    const edgepg = pool(kind, { max })
    const db = new Kysely<DB>({
      dialect: new EdgePgDialect({ pool: edgepg }),
      plugins: [new WithSchemaPlugin(schema)],
    })
    onTestFinished(() => db.destroy())
    return { edgepg, db }
  }

  it('runs a parameterless multi-statement sql.raw as Kysely on pg does, with the last statement as its result', async () => {
    const { db } = onPool()
    const oracle = kyselyOnPg(schema)
    onTestFinished(() => oracle.destroy())
    const text = (suffix: string) =>
      `create table ${schema}.m1_${suffix} (x int); insert into ${schema}.m1_${suffix} values (1), (2); select x from ${schema}.m1_${suffix} order by x`
    const theirs = await sql.raw(text('pg')).execute(oracle)
    const ours = await sql.raw<{ x: number }>(text('edgepg')).execute(db)
    expect(ours.rows.map((row) => ({ ...row }))).toEqual([{ x: 1 }, { x: 2 }])
    expect(theirs).toBeDefined()
    expect(await admin(`select count(*)::int as n from ${schema}.m1_edgepg`)).toEqual([{ n: 2 }])
    // A single statement with a trailing semicolon, and one with a parameter, stay on the extended protocol.
    expect((await sql<{ n: number }>`select ${5}::int as n;`.execute(db)).rows).toEqual([{ n: 5 }])
    // Inside a transaction too: the statements run on its connection.
    await db.transaction().execute(async (trx) => {
      await sql
        .raw(`insert into ${schema}.m1_edgepg values (3); insert into ${schema}.m1_edgepg values (4)`)
        .execute(trx)
    })
    expect(await admin(`select count(*)::int as n from ${schema}.m1_edgepg`)).toEqual([{ n: 4 }])
  })

  it('refuses a stream chunkSize past the protocol row limit (2^31 - 1)', async () => {
    const { db } = onPool()
    const consume = async (chunkSize: number) => {
      for await (const _ of db.selectNoFrom(sql<number>`1`.as('x')).stream(chunkSize));
    }
    await expect(consume(2 ** 32 + 3)).rejects.toThrow(
      /chunkSize must be a positive integer up to 2147483647/,
    )
    await expect(consume(2 ** 31)).rejects.toThrow(RangeError)
    await expect(consume(2 ** 31 - 1)).resolves.toBeUndefined()
  })
})
