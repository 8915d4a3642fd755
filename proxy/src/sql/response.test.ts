import type { DatabaseError, FieldDescription, QueryResult } from '@edgepg/client'
import { Oid } from '@edgepg/client'
import { describe, expect, it } from 'vitest'
import { checkContentLength, readBody } from './body.ts'
import { SqlCors } from './cors.ts'
import { databaseErrorBody, formatResult, TRUNCATED } from './response.ts'
import { converterFor, parseArrayLiteral } from './values.ts'

const field = (name: string, typeOid: number): FieldDescription => ({
  name,
  tableOid: 0,
  columnId: 0,
  typeOid,
  typeSize: -1,
  typeModifier: -1,
  format: 0,
})

const result = (fields: FieldDescription[], rows: unknown[][]): QueryResult<unknown[]> => ({
  fields,
  rows,
  command: 'SELECT',
  rowCount: rows.length,
})

describe('formatResult', () => {
  const fields = [field('n', Oid.int4), field('n', Oid.bool), field('__proto__', Oid.text)]
  const rows = [
    ['1', 't', 'x'],
    [null, 'f', null],
  ]

  it('gives arrays of text with raw text output and array mode, and the fields under neon’s names', () => {
    expect(formatResult(result(fields, rows), { isRawText: true, isArrayMode: true })).toEqual({
      command: 'SELECT',
      commandTag: 'SELECT',
      rowCount: 2,
      rows,
      fields: fields.map((f) => ({
        name: f.name,
        dataTypeID: f.typeOid,
        tableID: 0,
        columnID: 0,
        dataTypeSize: -1,
        dataTypeModifier: -1,
        format: 'text',
      })),
      rowAsArray: true,
    })
  })

  it('gives objects where a later duplicate name wins, and __proto__ is a plain key', () => {
    const formatted = formatResult(result(fields, rows), { isRawText: false, isArrayMode: false })
    expect(JSON.parse(JSON.stringify(formatted.rows))).toEqual([
      { n: true, ['__proto__']: 'x' },
      { n: false, ['__proto__']: null },
    ])
    expect(Object.getPrototypeOf(formatted.rows[0])).toBe(null)
    expect(formatted.rowAsArray).toBe(false)
  })
})

describe('converterFor (no raw text output)', () => {
  it('gives json booleans, numbers and parsed json, and keeps other text', () => {
    expect(converterFor(Oid.bool)('t')).toBe(true)
    expect(converterFor(Oid.int2)('-7')).toBe(-7)
    expect(converterFor(Oid.int4)('2147483647')).toBe(2147483647)
    expect(converterFor(Oid.int8)('9007199254740993')).toBe('9007199254740993')
    expect(converterFor(Oid.float8)('1.5')).toBe(1.5)
    expect(converterFor(Oid.float4)('NaN')).toBe('NaN')
    expect(converterFor(Oid.float8)('-Infinity')).toBe('-Infinity')
    expect(converterFor(Oid.numeric)('1.10')).toBe('1.10')
    // Numbers inside json keep their digits (written back unchanged by JSON.stringify).
    expect(JSON.stringify(converterFor(Oid.jsonb)('{"a": [1, null, 1.0, 9007199254740993]}'))).toBe(
      '{"a":[1,null,1.0,9007199254740993]}',
    )
    expect(converterFor(Oid.timestamptz)('2024-01-02 03:04:05+00')).toBe('2024-01-02 03:04:05+00')
  })

  it('gives json arrays of converted elements for built-in array types', () => {
    expect(converterFor(Oid._int4)('{1,NULL,3}')).toEqual([1, null, 3])
    expect(converterFor(Oid._bool)('{{t,f},{f,t}}')).toEqual([
      [true, false],
      [false, true],
    ])
    expect(converterFor(Oid._text)('{"a,b","NULL",NULL,"q\\"\\\\"," x "}')).toEqual([
      'a,b',
      'NULL',
      null,
      'q"\\',
      ' x ',
    ])
    expect(JSON.stringify(converterFor(Oid._jsonb)('{"{\\"a\\": 1}"}'))).toBe('[{"a":1}]')
    expect(converterFor(Oid._int4)('[0:1]={7,8}')).toEqual([7, 8])
    expect(converterFor(Oid._box)('{(1,1),(0,0);(2,2),(1,1)}')).toEqual(['(1,1),(0,0)', '(2,2),(1,1)'])
    expect(converterFor(Oid._int4)('{}')).toEqual([])
  })

  it('keeps text that is not an array literal as it is', () => {
    for (const text of ['{1,2', '1,2}', '{1,,2}', '{"a}', '{1}x', '{{{{{{{1}}}}}}}', '[0:1]{1}']) {
      expect(parseArrayLiteral(text, ',', String), text).toBeUndefined()
      expect(converterFor(Oid._int4)(text)).toBe(text)
    }
  })
})

describe('databaseErrorBody', () => {
  it('gives message and every field present, position and line as strings, absent ones left out', () => {
    const error = {
      message: 'syntax error at or near "selec"',
      severity: 'ERROR',
      code: '42601',
      position: 1,
      file: 'scan.l',
      line: 1244,
      routine: 'scanner_yyerror',
      detail: undefined,
    } as unknown as DatabaseError
    expect(databaseErrorBody(error)).toEqual({
      message: 'syntax error at or near "selec"',
      severity: 'ERROR',
      code: '42601',
      position: '1',
      file: 'scan.l',
      line: '1244',
      routine: 'scanner_yyerror',
    })
  })

  it('cuts long fields of an error larger than the response limit until it fits, keeping the rest', () => {
    const error = {
      message: 'boom',
      severity: 'ERROR',
      severityNonLocalized: 'ERROR',
      code: 'P0001',
      detail: 'd'.repeat(20_000_000),
      hint: '\u0000'.repeat(3_000_000),
    } as unknown as DatabaseError
    const body = databaseErrorBody(error, 1024 * 1024)
    expect(new TextEncoder().encode(JSON.stringify(body)).length).toBeLessThanOrEqual(1024 * 1024)
    expect(body).toMatchObject({
      message: 'boom',
      code: 'P0001',
      severity: 'ERROR',
      severityNonLocalized: 'ERROR',
    })
    expect(body.detail!.endsWith(TRUNCATED)).toBe(true)
    expect(body.hint!.endsWith(TRUNCATED)).toBe(true)
    // Under the limit nothing is cut.
    expect(
      databaseErrorBody({ ...error, detail: 'short', hint: undefined } as DatabaseError, 1024).detail,
    ).toBe('short')
  })
})

describe('SqlCors', () => {
  const cors = new SqlCors(['https://app.example.com'])

  it('echoes a listed origin exactly, with Vary: Origin, and never a wildcard', () => {
    expect(cors.headers('https://app.example.com')).toEqual({
      'access-control-allow-origin': 'https://app.example.com',
      vary: 'Origin',
    })
    for (const origin of [undefined, 'https://evil.example.com', 'null', 'https://app.example.com.evil.io'])
      expect(cors.headers(origin)).toEqual({ vary: 'Origin' })
  })

  it('allows POST and the neon headers in a preflight', () => {
    expect(cors.preflightHeaders('https://app.example.com')).toMatchObject({
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers':
        'authorization, content-type, neon-connection-string, neon-raw-text-output, neon-array-mode, ' +
        'neon-batch-isolation-level, neon-batch-read-only, neon-batch-deferrable',
      'access-control-max-age': '7200',
    })
  })
})

describe('readBody', () => {
  const stream = (...chunks: string[]) =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk))
        controller.close()
      },
    })

  it('refuses an announced length over the limit before reading, and a stream that grows past it', async () => {
    expect(checkContentLength('11', 10)).toMatchObject({ ok: false, status: 413 })
    expect(checkContentLength('10', 10)).toBeUndefined()
    expect(await readBody(stream('12345', '678901'), 10)).toEqual({
      ok: false,
      status: 413,
      message: "the request body is larger than the relay's limit of 10 bytes (sqlMaxRequestBytes)",
    })
    expect(await readBody(stream('12345', '67890'), 10)).toEqual({ ok: true, text: '1234567890' })
  })

  it('refuses a body that is not utf-8', async () => {
    const bad = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array([0x7b, 0xff, 0x7d]))
        controller.close()
      },
    })
    expect(await readBody(bad, 10)).toMatchObject({
      ok: false,
      status: 400,
      message: 'the request body is not valid utf-8',
    })
  })
})
