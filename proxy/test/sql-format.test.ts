// POST /sql against a real relay and the test PostgreSQL: Neon's request and response formats, errors with
// every field, batches in one transaction (isolation, read-only, deferrable; rollback at the first error), and
// malformed requests answered 400 with what was expected.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { admin, pg, pgUrl, postSql, startTestRelay, type TestRelay } from './helpers.ts'

let relay: TestRelay
beforeAll(async () => {
  relay = await startTestRelay()
})
afterAll(() => relay.shutdown())

const RAW = { 'neon-raw-text-output': 'true', 'neon-array-mode': 'true' }

describe('one statement', () => {
  it('answers rows as arrays of text with raw text output and array mode, as neon’s driver asks', async () => {
    const answer = await postSql(
      relay,
      { query: 'select $1::int + 1 as n, $2::text as t, null::bool as b', params: ['41', 'x'] },
      { headers: RAW },
    )
    expect(answer.status).toBe(200)
    expect(answer.headers.get('content-type')).toBe('application/json')
    expect(answer.body).toEqual({
      command: 'SELECT',
      commandTag: 'SELECT',
      rowCount: 1,
      rows: [['42', 'x', null]],
      fields: [
        {
          name: 'n',
          dataTypeID: 23,
          tableID: 0,
          columnID: 0,
          dataTypeSize: 4,
          dataTypeModifier: -1,
          format: 'text',
        },
        {
          name: 't',
          dataTypeID: 25,
          tableID: 0,
          columnID: 0,
          dataTypeSize: -1,
          dataTypeModifier: -1,
          format: 'text',
        },
        {
          name: 'b',
          dataTypeID: 16,
          tableID: 0,
          columnID: 0,
          dataTypeSize: 1,
          dataTypeModifier: -1,
          format: 'text',
        },
      ],
      rowAsArray: true,
    })
  })

  it('answers objects of json values by default; a later duplicate column name wins', async () => {
    const answer = await postSql(relay, {
      query:
        "select true as b, 7::int2 as s, 8::int8 as big, 1.5::float8 as f, 'NaN'::float4 as nan, " +
        `'{"a":[1]}'::jsonb as j, array[1,null,3]::int4[] as ints, 1 as d, 2 as d, 1.10::numeric as num`,
    })
    expect(answer.status).toBe(200)
    expect(answer.body.rowAsArray).toBe(false)
    expect(answer.body.rows).toEqual([
      { b: true, s: 7, big: '8', f: 1.5, nan: 'NaN', j: { a: [1] }, ints: [1, null, 3], d: 2, num: '1.10' },
    ])
  })

  it('reads table and column ids and type modifiers of a table’s columns', async () => {
    await admin('create table if not exists sql_fields (id int primary key, name varchar(20))')
    const [table] = await admin("select 'sql_fields'::regclass::oid as oid")
    const answer = await postSql(relay, { query: 'select name, id from sql_fields' }, { headers: RAW })
    expect(
      answer.body.fields.map((f: Record<string, unknown>) => [f.tableID, f.columnID, f.dataTypeModifier]),
    ).toEqual([
      [Number(table!.oid), 2, 24],
      [Number(table!.oid), 1, -1],
    ])
    expect(answer.body).toMatchObject({ command: 'SELECT', rowCount: 0, rows: [] })
  })

  it('passes parameters as text: null, numbers, booleans, json objects, array literals, bytea hex', async () => {
    const answer = await postSql(
      relay,
      {
        query:
          'select $1::int is null as a, $2::float8 as b, $3::bool as c, $4::jsonb as d, $5::text[] as e, $6::bytea as f',
        params: [null, 2.5, true, { k: [1, 'x'] }, ['a', null, 'b "q"'], '\\x00ff'],
      },
      { headers: RAW },
    )
    expect(answer.status).toBe(200)
    expect(answer.body.rows).toEqual([
      ['t', '2.5', 't', '{"k": [1, "x"]}', '{a,NULL,"b \\"q\\""}', '\\x00ff'],
    ])
  })

  it('answers a command with its tag and count', async () => {
    await admin('create table if not exists sql_commands (n int)')
    const answer = await postSql(relay, { query: 'insert into sql_commands select generate_series(1, 3)' })
    expect(answer.body).toMatchObject({ command: 'INSERT', rowCount: 3, rows: [], fields: [] })
  })

  it('takes JSON numbers with the digits the client wrote, and gives jsonb numbers back the same way', async () => {
    // As curl or any non-JavaScript client sends them: JSON.parse alone would round both.
    const body =
      '{"query":"select $1::int8 as a, $2::numeric as b, $3::text as c, $4::jsonb as d","params":' +
      '[9007199254740993, 12345678901234567890.50, 1.0, {"id": 9007199254740993, "f": 1.0}]}'
    const raw = await postSql(relay, body, { headers: RAW })
    expect(raw.body).toMatchObject({
      rows: [['9007199254740993', '12345678901234567890.50', '1.0', '{"f": 1.0, "id": 9007199254740993}']],
    })
    const typed = await postSql(relay, body, { headers: { 'neon-array-mode': 'true' } })
    expect(typed.text).toContain('{"f":1.0,"id":9007199254740993}')
  })

  it("answers a tag's first word as command (as Neon and node-postgres do) and the whole verb as commandTag", async () => {
    const answer = await postSql(relay, { query: 'create temporary table sql_tag (n int)' })
    expect(answer.body).toMatchObject({ command: 'CREATE', commandTag: 'CREATE TABLE', rowCount: null })
  })
})

describe('PostgreSQL errors', () => {
  it('are 400 with the message and every ErrorResponse field, position and line as strings', async () => {
    const answer = await postSql(relay, { query: 'select 1 frm nowhere' })
    expect(answer.status).toBe(400)
    expect(answer.body).toMatchObject({
      message: 'syntax error at or near "nowhere"',
      severity: 'ERROR',
      code: '42601',
      position: '14',
      file: expect.any(String),
      line: expect.stringMatching(/^\d+$/),
      routine: expect.any(String),
    })
    expect(answer.body).not.toHaveProperty('detail')
  })

  it('carry detail, schema, table, constraint of a constraint violation', async () => {
    await admin('create table if not exists sql_unique (id int constraint sql_unique_pk primary key)')
    await admin('insert into sql_unique values (1) on conflict do nothing')
    const answer = await postSql(relay, { query: 'insert into sql_unique values ($1)', params: [1] })
    expect(answer.status).toBe(400)
    expect(answer.body).toMatchObject({
      code: '23505',
      detail: 'Key (id)=(1) already exists.',
      schema: 'public',
      table: 'sql_unique',
      constraint: 'sql_unique_pk',
    })
  })

  it('carry where, internalQuery and internalPosition of an error inside a function', async () => {
    const answer = await postSql(relay, {
      query: "do $$ begin execute 'select 1 +'; end $$",
    })
    expect(answer.status).toBe(400)
    expect(answer.body).toMatchObject({
      code: '42601',
      internalQuery: 'select 1 +',
      internalPosition: expect.stringMatching(/^\d+$/),
      where: expect.stringContaining('PL/pgSQL'),
    })
  })

  it('a failed login is 400 with the server’s error and never pooled: 28P01, 3D000', async () => {
    const wrong = await postSql(
      relay,
      { query: 'select 1' },
      {
        connectionString: pgUrl({ user: pg.roles.scram.user, password: 'not-the-password' }),
      },
    )
    expect(wrong.status).toBe(400)
    expect(wrong.body).toMatchObject({ code: '28P01', severity: 'FATAL' })
    expect(wrong.text).not.toContain('not-the-password')
    const missing = await postSql(
      relay,
      { query: 'select 1' },
      {
        connectionString: pgUrl().replace(/\/[^/?]+$/, '/no_such_database'),
      },
    )
    expect(missing.status).toBe(400)
    expect(missing.body).toMatchObject({ code: '3D000' })
  })
})

describe('batches', () => {
  it('run in one transaction and answer { results }', async () => {
    const answer = await postSql(
      relay,
      {
        queries: [
          { query: 'select txid_current() as x', params: [] },
          { query: 'select txid_current() as x, $1::text as t', params: ['b'] },
        ],
      },
      { headers: RAW },
    )
    expect(answer.status).toBe(200)
    const [first, second] = answer.body.results
    expect(first.rows[0][0]).toBe(second.rows[0][0])
    expect(second.rows[0][1]).toBe('b')
  })

  it('honour the isolation, read-only and deferrable headers', async () => {
    const settings = (headers: Record<string, string>) =>
      postSql(
        relay,
        {
          queries: [
            {
              query:
                "select current_setting('transaction_isolation') as i, current_setting('transaction_read_only') as r, " +
                "current_setting('transaction_deferrable') as d",
            },
          ],
        },
        { headers: { ...RAW, ...headers } },
      ).then((a) => a.body.results[0].rows[0])
    expect(
      await settings({
        'neon-batch-isolation-level': 'Serializable',
        'neon-batch-read-only': 'true',
        'neon-batch-deferrable': 'true',
      }),
    ).toEqual(['serializable', 'on', 'on'])
    expect(
      await settings({ 'neon-batch-isolation-level': 'RepeatableRead', 'neon-batch-read-only': 'false' }),
    ).toEqual(['repeatable read', 'off', 'off'])
    expect(await settings({})).toEqual(['read committed', 'off', 'off'])
    const readOnly = await postSql(
      relay,
      { queries: [{ query: 'create temporary table sql_ro (n int)' }] },
      { headers: { 'neon-batch-read-only': 'true' } },
    )
    expect(readOnly.body).toMatchObject({ code: '25006' })
  })

  it('roll back every earlier statement at the first error and answer that error', async () => {
    await admin('create table if not exists sql_batch (n int primary key)')
    await admin('delete from sql_batch')
    const answer = await postSql(relay, {
      queries: [
        { query: 'insert into sql_batch values (1)' },
        { query: 'insert into sql_batch values (2)' },
        { query: 'insert into sql_batch values (1)' },
        { query: 'insert into sql_batch values (3)' },
      ],
    })
    expect(answer.status).toBe(400)
    expect(answer.body).toMatchObject({ code: '23505', table: 'sql_batch' })
    expect(await admin('select n from sql_batch')).toEqual([])
    const next = await postSql(relay, { queries: [{ query: 'insert into sql_batch values (4)' }] })
    expect(next.status).toBe(200)
    expect(await admin('select n from sql_batch')).toEqual([{ n: 4 }])
  })
})

describe('malformed requests', () => {
  it('are 400 with a message saying what was expected and found, and dial nothing', async () => {
    const dials = relay.dials.length
    const cases: [Parameters<typeof postSql>[1], Parameters<typeof postSql>[2], string][] = [
      ['{"query":', {}, 'the body is not valid json'],
      [{ queries: 'select 1' }, {}, '"queries" must be an array, found a string'],
      [
        { query: 'select 1' },
        { headers: { 'neon-connection-string': undefined } },
        'missing header neon-connection-string',
      ],
      [{ query: 'select 1' }, { connectionString: 'host=127.0.0.1 user=x' }, 'expected postgres://'],
      [
        { query: 'select 1' },
        { headers: { 'neon-raw-text-output': '1' } },
        'header neon-raw-text-output: expected true or false, found "1"',
      ],
      [
        { query: 'select 1' },
        { headers: { 'content-type': 'application/x-www-form-urlencoded' } },
        'expected content-type application/json',
      ],
    ]
    for (const [body, options, message] of cases) {
      const answer = await postSql(relay, body, options)
      expect(answer.status, message).toBe(400)
      expect(answer.body.message).toContain(message)
    }
    expect(relay.dials.length).toBe(dials)
  })

  it('another method is 400 naming POST', async () => {
    const response = await fetch(`${relay.url}/sql`)
    expect(response.status).toBe(400)
    expect(await response.json()).toEqual({ message: 'expected POST /sql, found GET' })
    expect(response.headers.get('allow')).toBe('POST, OPTIONS')
  })
})

describe('sql: false', () => {
  it('makes /sql an unknown path', async () => {
    const off = await startTestRelay({ sql: false })
    try {
      const answer = await postSql(off, { query: 'select 1' })
      expect(answer).toMatchObject({ status: 404, text: 'not found' })
      expect(off.sqlBackends).toBeUndefined()
    } finally {
      await off.shutdown()
    }
  })
})

describe('shutdown', () => {
  it('answers the /sql requests in flight within shutdownGrace before closing', async () => {
    const draining = await startTestRelay({ shutdownGrace: 5000 })
    const pending = postSql(draining, { query: 'select pg_sleep(0.5), 42 as n' }, { headers: RAW })
    // The request is running (its backend is busy) when shutdown begins.
    while (draining.sqlBackends!.stats().inUse === 0) await new Promise((r) => setTimeout(r, 10))
    const stopped = draining.shutdown()
    const answer = await pending
    expect(answer.status).toBe(200)
    expect(answer.body).toMatchObject({ rows: [['', '42']] })
    await stopped
  })
})
