import { type DatabaseError, isDatabaseError, isPgError } from '@edgepg/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Opened, open } from './helpers.ts'

let db: Opened
beforeAll(async () => {
  db = await open()
})
afterAll(async () => {
  await db.client.end()
  await db.done
})

describe('query', () => {
  it('returns rows, fields, command and row count', async () => {
    const result = await db.client.query('select n, n * 2 as double from generate_series(1, 3) as n')
    expect(result.rows).toEqual([
      { n: 1, double: 2 },
      { n: 2, double: 4 },
      { n: 3, double: 6 },
    ])
    expect(result.fields.map((f) => f.name)).toEqual(['n', 'double'])
    expect(result.fields[0]?.typeOid).toBe(23)
    expect(result.command).toBe('SELECT')
    expect(result.rowCount).toBe(3)
  })

  it('binds parameters as values, never as SQL', async () => {
    const row = await db.client.queryOne<{ a: number; b: string }>('select $1::int + 1 as a, $2::text as b', [
      41,
      'x',
    ])
    expect(row).toEqual({ a: 42, b: 'x' })
  })

  it('reports row counts for insert, update and delete and null for DDL', async () => {
    await db.client.batchExecute('drop table if exists q_counts; create temp table q_counts (n int)')
    const created = await db.client.query('create temp table q_other (n int)')
    expect(created.rowCount).toBeNull()
    expect(created.command).toBe('CREATE TABLE')
    const inserted = await db.client.query('insert into q_counts select generate_series(1, 5)')
    expect(inserted).toMatchObject({ command: 'INSERT', rowCount: 5 })
    expect(await db.client.execute('update q_counts set n = n + 1 where n > 2')).toBe(3)
    expect(await db.client.execute('delete from q_counts')).toBe(5)
  })

  it('queryOne rejects with kind row-count on zero or two rows', async () => {
    await expect(db.client.queryOne('select 1 where false')).rejects.toSatisfy((e) =>
      isPgError(e, 'row-count'),
    )
    await expect(db.client.queryOne('select generate_series(1, 2)')).rejects.toThrow(
      /2 rows, expected exactly one/,
    )
  })

  it('queryOpt returns null for no row and rejects on two', async () => {
    expect(await db.client.queryOpt('select 1 where false')).toBeNull()
    expect(await db.client.queryOpt('select 5 as n')).toEqual({ n: 5 })
    await expect(db.client.queryOpt('select generate_series(1, 2)')).rejects.toSatisfy((e) =>
      isPgError(e, 'row-count'),
    )
  })

  it('handles an empty query string', async () => {
    const result = await db.client.query('')
    expect(result.rows).toEqual([])
    expect(result.command).toBe('')
  })

  it('rejects a SQL error with a DatabaseError carrying every field, and stays usable', async () => {
    const error = await db.client.query('select * from no_such_table').catch((e) => e)
    expect(isDatabaseError(error, '42P01')).toBe(true)
    expect(error.severity).toBe('ERROR')
    expect(error.message).toMatch(/no_such_table/)
    expect(error.position).toBe(15)
    expect(error.routine).toBeTruthy()
    expect(error.file).toBeTruthy()
    expect(typeof error.line).toBe('number')
    expect((await db.client.queryOne<{ ok: boolean }>('select true as ok')).ok).toBe(true)
  })

  it('gives constraint errors their schema, table and constraint names', async () => {
    await db.client.batchExecute('create temp table q_unique (id int constraint q_unique_pk primary key)')
    await db.client.query('insert into q_unique values (1)')
    const error = await db.client.query('insert into q_unique values (1)').catch((e) => e)
    expect(error).toMatchObject({ code: '23505', table: 'q_unique', constraint: 'q_unique_pk' })
    expect(error.detail).toMatch(/already exists/)
  })

  it('runs several statements with simpleQuery and returns one result each', async () => {
    const results = await db.client.simpleQuery(
      'select 1 as a; select 2 as b, 3 as c; set search_path = public',
    )
    expect(results.map((r) => r.rows)).toEqual([[{ a: 1 }], [{ b: 2, c: 3 }], []])
    expect(results.map((r) => r.command)).toEqual(['SELECT', 'SELECT', 'SET'])
  })

  it('rejects a simpleQuery whose second statement fails and keeps the connection usable', async () => {
    await expect(db.client.simpleQuery('select 1; select 1/0; select 3')).rejects.toSatisfy((e) =>
      isDatabaseError(e, '22012'),
    )
    expect((await db.client.queryOne<{ n: number }>('select 4 as n')).n).toBe(4)
  })

  it('gives the results before a failing statement on the error, not enumerable, and none after it', async () => {
    const error = await db.client
      .simpleQuery("select 1 as a; select 'x' as b, 2 as c; select 1/0; select 3", { rowMode: 'array' })
      .catch((e: unknown) => e)
    expect(isDatabaseError(error, '22012')).toBe(true)
    const results = (error as DatabaseError).results
    expect(results?.map((r) => r.rows)).toEqual([[[1]], [['x', 2]]])
    expect(Object.keys(error as object)).not.toContain('results')
    const first = await db.client.simpleQuery('select 1/0').catch((e: DatabaseError) => e.results)
    expect(first).toEqual([])
  })

  it('reuses a prepared statement with different parameters and binary results', async () => {
    const statement = await db.client.prepare('select $1::int8 as big, $2::text as label, now() as at')
    expect(statement.params).toEqual([20, 25])
    expect(statement.fields.map((f) => f.format)).toEqual([1, 1, 1])
    for (const n of [1n, 2n, 9007199254740993n]) {
      const row = await db.client.queryOne<{ big: bigint; label: string; at: Date }>(statement, [n, `n=${n}`])
      expect(row.big).toBe(n)
      expect(row.label).toBe(`n=${n}`)
      expect(row.at).toBeInstanceOf(Date)
    }
    await db.client.closeStatement(statement)
    await expect(db.client.query(statement, [1, 'x'])).rejects.toSatisfy((e) => isDatabaseError(e, '26000'))
  })

  it('rejects a prepared statement given the wrong number of parameters, before sending', async () => {
    const statement = await db.client.prepare('select $1::int as n')
    await expect(db.client.query(statement, [])).rejects.toSatisfy((e) => isPgError(e, 'usage'))
  })

  it('reports a prepare error with its SQLSTATE', async () => {
    await expect(db.client.prepare('selec 1')).rejects.toSatisfy((e) => isDatabaseError(e, '42601'))
  })

  it('turns tagged-template values into parameters', async () => {
    const name = "Robert'); drop table students; --"
    const rows = await db.client.sql<{
      name: string
      n: number
    }>`select ${name}::text as name, ${3}::int as n`
    expect(rows).toEqual([{ name, n: 3 }])
  })

  it('refuses COPY FROM STDIN through query and stays usable', async () => {
    await db.client.batchExecute('create temp table q_copy (n int)')
    await expect(db.client.query('copy q_copy from stdin')).rejects.toThrow(
      /COPY FROM STDIN is not supported/,
    )
    expect((await db.client.queryOne<{ n: number }>('select 1 as n')).n).toBe(1)
  })

  it('tracks the transaction status from ReadyForQuery', async () => {
    expect(db.client.transactionStatus).toBe('idle')
    await db.client.query('begin')
    expect(db.client.transactionStatus).toBe('transaction')
    await db.client.query('select 1/0').catch(() => {})
    expect(db.client.transactionStatus).toBe('failed')
    await db.client.query('rollback')
    expect(db.client.transactionStatus).toBe('idle')
  })
})
