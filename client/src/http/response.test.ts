// Reading the relay's answers: a result in Neon's format gives the rows, fields, command and row count the wire
// path gives for the same text values (checked against the wire's own ResultCollector), and each error answer
// becomes the DatabaseError or PgError it stands for.
import { describe, expect, it } from 'vitest'
import { DatabaseError, isDatabaseError, isPgError, type PgError } from '../errors.ts'
import { backend, stream } from '../protocol/bytes.fixture.ts'
import { BackendParser } from '../protocol/index.ts'
import { ResultCollector } from '../result.ts'
import { createTypeRegistry, type TypeOptions } from '../types/index.ts'
import { answer, fakeFetch, field, ok, result } from './fake-fetch.fixture.ts'
import { http } from './index.ts'
import { answerError } from './response.ts'

const CONNECTION = 'postgres://alice:s3cret@db.internal:5432/app'
const URL = 'https://relay.test/sql'

type NeonField = ReturnType<typeof field>

/** The result the wire path gives for the same fields and text values (a RowDescription and DataRows). */
function wire(fields: NeonField[], rows: (string | null)[][], rowMode?: 'array', types?: TypeOptions) {
  const collector = new ResultCollector(createTypeRegistry(types), undefined, { rowMode })
  const description = fields.map((f) => ({
    name: f.name,
    tableOid: f.tableID,
    columnId: f.columnID,
    typeOid: f.dataTypeID,
    typeSize: f.dataTypeSize,
    typeModifier: f.dataTypeModifier,
    format: 0,
  }))
  const bytes = stream(
    backend.rowDescription(description),
    ...rows.map((row) => backend.dataRow(row)),
    backend.commandComplete(`SELECT ${rows.length}`),
  )
  new BackendParser().parse(bytes, (message) => void collector.accept(message))
  if (collector.error) throw collector.error
  return collector.result()
}

/** The result `http().query` gives for the same fields and text values. */
async function overHttp(
  fields: NeonField[],
  rows: (string | null)[][],
  rowMode?: 'array',
  types?: TypeOptions,
) {
  const { fetch } = fakeFetch(ok(result(fields, rows)))
  return http(CONNECTION, { url: URL, fetch, ...(types ? { types } : {}) }).query('select', [], { rowMode })
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (error: unknown) => error as PgError,
  )

const FIELDS = [
  field('int4', 23, { tableID: 16384, columnID: 1, dataTypeSize: 4 }),
  field('int8', 20, { dataTypeSize: 8 }),
  field('bool', 16, { dataTypeSize: 1 }),
  field('float8', 701, { dataTypeSize: 8 }),
  field('numeric', 1700, { dataTypeModifier: 655366 }),
  field('text', 25),
  field('json', 3802),
  field('bytea', 17),
  field('timestamptz', 1184, { dataTypeSize: 8 }),
  field('interval', 1186, { dataTypeSize: 16 }),
  field('date', 1082, { dataTypeSize: 4 }),
  field('int4[]', 1007),
  field('text[]', 1009),
  field('box[]', 1020),
  field('unknown type', 99999),
  field('__proto__', 25),
]
const ROWS: (string | null)[][] = [
  [
    '-2147483648',
    '9223372036854775807',
    't',
    '-1.5e-300',
    '12.50',
    'é 😀 \u0000?',
    '{"a": [1, "b"], "ü": null}',
    '\\x00cafe',
    '2024-02-29 13:04:05.123456+05:30',
    '1 year 2 mons -3 days +04:05:06.789',
    '0044-03-15 BC',
    '{1,NULL,-3}',
    '{"a b","","NULL",NULL,"\\"q\\""}',
    '{(1,1),(0,0);(2,2),(1,1)}',
    'anything',
    'not a prototype',
  ],
  FIELDS.map(() => null),
]

describe('a result', () => {
  it('has the rows, fields, command and row count the wire path gives for the same text', async () => {
    const got = await overHttp(FIELDS, ROWS)
    const expected = wire(FIELDS, ROWS)
    expect(got).toEqual(expected)
    expect(got.fields[0]).toEqual({
      name: 'int4',
      tableOid: 16384,
      columnId: 1,
      typeOid: 23,
      typeSize: 4,
      typeModifier: -1,
      format: 0,
    })
    expect(Object.getPrototypeOf(got.rows[0])).toBe(Object.getPrototypeOf(expected.rows[0]))
    expect(got.rows[0]!.int8).toBe(9223372036854775807n)
    expect(got.rows[0]!.timestamptz).toEqual(new Date('2024-02-29T07:34:05.123Z'))
    expect(Object.keys(got.rows[0]!)).toContain('__proto__')
    expect(got.command).toBe('SELECT')
    expect(got.rowCount).toBe(2)
  })

  it("has array rows in rowMode 'array', every value kept when names repeat", async () => {
    const fields = [field('n', 23), field('n', 25)]
    const rows = [['1', 'one']]
    const got = await overHttp(fields, rows, 'array')
    expect(got.rows).toEqual([[1, 'one']])
    expect(got).toEqual(wire(fields, rows, 'array'))
  })

  it('decodes with the types option: custom parsers, dates as text, raw text', async () => {
    const options: TypeOptions[] = [
      { parsers: { 1700: Number, 23: (text) => `int ${text}` } },
      { dates: 'string' },
      { raw: true },
      { raw: true, parsers: { 16: (text) => text === 't' } },
    ]
    for (const types of options) {
      const got = await overHttp(FIELDS, ROWS, undefined, types)
      expect(got, JSON.stringify(types)).toEqual(wire(FIELDS, ROWS, undefined, types))
    }
    const parsed = await overHttp(FIELDS, ROWS, undefined, { parsers: { 1700: Number } })
    expect(parsed.rows[0]!.numeric).toBe(12.5)
  })

  it('that does not decode rejects with the encode error the wire path gives', async () => {
    const fields = [field('n', 23)]
    const error = await failure(overHttp(fields, [['12x']]))
    expect(isPgError(error, 'encode')).toBe(true)
    expect(error.message).toBe('expected an integer in text format, found "12x"')
    const collector = new ResultCollector(createTypeRegistry())
    const bytes = stream(backend.rowDescription(wireFields(fields)), backend.dataRow(['12x']))
    new BackendParser().parse(bytes, (message) => void collector.accept(message))
    expect(collector.error?.message).toBe(error.message)
  })

  it("whose custom parser throws rejects with the wire path's encode error", async () => {
    const types = {
      parsers: {
        23: () => {
          throw new Error('no')
        },
      },
    }
    const error = await failure(overHttp([field('n', 23)], [['1']], undefined, types))
    expect(isPgError(error, 'encode')).toBe(true)
    expect(error.message).toBe('could not decode a column: Error: no')
  })

  it('keeps command and row count as the relay gives them', async () => {
    const cases: [string, number | null][] = [
      ['INSERT', 5],
      ['CREATE TABLE', null],
      ['', null],
    ]
    for (const [command, rowCount] of cases) {
      const { fetch } = fakeFetch(ok(result([], [], command, rowCount)))
      const got = await http(CONNECTION, { url: URL, fetch }).query('x')
      expect(got).toEqual({ rows: [], fields: [], command, rowCount })
    }
    const { fetch } = fakeFetch(ok({ command: 'SET', rows: [], fields: [] }))
    expect((await http(CONNECTION, { url: URL, fetch }).query('set x = 1')).rowCount).toBeNull()
  })

  it('reads a null tableID and columnID (a column that is not a table column) as 0, as the wire gives it', async () => {
    const { fetch } = fakeFetch(
      ok(result([field('n', 23, { tableID: null, columnID: null } as never)], [['1']])),
    )
    const got = await http(CONNECTION, { url: URL, fetch }).query('select 1 as n')
    expect(got.fields).toEqual(wireFields([field('n', 23)]))
  })

  it('that is not in the format asked for rejects with kind protocol, saying what was expected', async () => {
    const good = result([field('n', 23)], [['1']])
    const cases: [unknown, string][] = [
      [[], "expected a result object in the relay's answer, found an array"],
      [{ ...good, fields: null }, "expected fields as an array in the relay's answer, found null"],
      [{ ...good, rows: {} }, "expected rows as an array in the relay's answer, found object"],
      [{ ...good, command: 1 }, "expected command as a string in the relay's answer, found number"],
      [{ ...good, rowCount: '1' }, "expected rowCount as a whole number in the relay's answer, found string"],
      [
        { ...good, rows: [{ n: '1' }] },
        "expected each row as an array (Neon-Array-Mode) in the relay's answer, found object",
      ],
      [
        { ...good, rows: [[1]] },
        "expected every value as text or null (Neon-Raw-Text-Output) in the relay's answer, found number",
      ],
      [
        { ...good, rows: [['1', '2']] },
        "expected rows of 1 values (one per field) in the relay's answer, found 2",
      ],
      [
        { ...good, fields: [{ name: 'n' }] },
        "expected tableID as a whole number in the relay's answer, found undefined",
      ],
      [
        { ...good, fields: [{ dataTypeID: 23 }] },
        "expected a field with a name in the relay's answer, found object",
      ],
    ]
    for (const [json, message] of cases) {
      const { fetch } = fakeFetch(ok(json))
      const error = await failure(http(CONNECTION, { url: URL, fetch }).query('select'))
      expect(isPgError(error, 'protocol'), message).toBe(true)
      expect(error.message).toBe(message)
    }
  })
})

function wireFields(fields: NeonField[]) {
  return fields.map((f) => ({
    name: f.name,
    tableOid: 0,
    columnId: 0,
    typeOid: f.dataTypeID,
    typeSize: -1,
    typeModifier: -1,
    format: 0,
  }))
}

describe('an error answer', () => {
  it('with a SQLSTATE is the DatabaseError the wire path gives, positions and lines as numbers', async () => {
    const body = {
      message: 'relation "nope" does not exist',
      severity: 'ERROR',
      code: '42P01',
      position: '15',
      internalPosition: null,
      internalQuery: null,
      detail: null,
      hint: null,
      where: null,
      schema: null,
      table: null,
      column: null,
      dataType: null,
      constraint: null,
      file: 'parse_relation.c',
      line: '1449',
      routine: 'parserOpenTable',
    }
    const { fetch } = fakeFetch(answer(400, body))
    const error = await failure(http(CONNECTION, { url: URL, fetch }).query('select * from nope'))
    expect(error).toBeInstanceOf(DatabaseError)
    expect(isDatabaseError(error, '42P01')).toBe(true)
    // The wire path's error for the same ErrorResponse (without V, which Neon's format does not carry).
    const collector = new ResultCollector(createTypeRegistry())
    const fields: [string, string][] = [
      ['S', 'ERROR'],
      ['C', '42P01'],
      ['M', 'relation "nope" does not exist'],
      ['P', '15'],
      ['F', 'parse_relation.c'],
      ['L', '1449'],
      ['R', 'parserOpenTable'],
    ]
    new BackendParser().parse(
      stream(backend.errorResponse(fields)),
      (message) => void collector.accept(message),
    )
    expect({ ...error }).toEqual({ ...collector.error })
    expect(Object.keys(error)).toEqual(Object.keys(collector.error!))
    expect(error.message).toBe('relation "nope" does not exist')
    expect((error as DatabaseError).position).toBe(15)
    expect((error as DatabaseError).line).toBe(1449)
  })

  it('keeps every field the relay sends, and drops positions that are not whole numbers', () => {
    const error = answerError(
      400,
      JSON.stringify({
        message: 'm',
        severity: 'ERREUR',
        severityNonLocalized: 'ERROR',
        code: '23505',
        detail: 'd',
        hint: 'h',
        position: 'x',
        internalPosition: '3',
        internalQuery: 'q',
        where: 'w',
        schema: 's',
        table: 't',
        column: 'c',
        dataType: 'dt',
        constraint: 'k',
        file: 'f',
        line: 12,
        routine: 'r',
      }),
    ) as DatabaseError
    expect({ ...error }).toMatchObject({
      severity: 'ERREUR',
      severityNonLocalized: 'ERROR',
      code: '23505',
      detail: 'd',
      hint: 'h',
      position: undefined,
      internalPosition: 3,
      internalQuery: 'q',
      where: 'w',
      schema: 's',
      table: 't',
      column: 'c',
      dataType: 'dt',
      constraint: 'k',
      file: 'f',
      line: 12,
      routine: 'r',
    })
  })

  it('without a SQLSTATE says what the relay answered, in a kind that says what to do', () => {
    const cases: [number, string, string, string][] = [
      [
        400,
        '{"message":"expected a Neon-Connection-String header"}',
        'config',
        'expected a Neon-Connection-String header',
      ],
      [400, '{"message":"bad","code":""}', 'config', 'bad'],
      [401, 'unauthorized', 'auth', 'unauthorized'],
      [403, 'forbidden', 'auth', 'forbidden'],
      [404, 'not found', 'io', 'not found'],
      [
        413,
        '{"message":"the request is larger than 1048576 bytes"}',
        'limit',
        'the request is larger than 1048576 bytes',
      ],
      [
        507,
        '{"message":"the response is larger than 10485760 bytes"}',
        'limit',
        'the response is larger than 10485760 bytes',
      ],
      [500, '', 'io', '(no message)'],
      [502, '{"message":"could not reach the database"}', 'io', 'could not reach the database'],
      [503, '{"message":"the pool is full"}', 'io', 'the pool is full'],
    ]
    for (const [status, body, kind, said] of cases) {
      const error = answerError(status, body)
      expect(isPgError(error, kind as never), `${status} ${body}`).toBe(true)
      expect(isDatabaseError(error)).toBe(false)
      expect(error.message).toBe(`the relay answered ${status}: ${said}`)
    }
    const long = answerError(502, 'x'.repeat(1000))
    expect(long.message).toBe(`the relay answered 502: ${'x'.repeat(300)}…`)
  })
})
