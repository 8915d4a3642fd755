/**
 * Adversarial differential probes of raw results: odd values of every supported type through $queryRaw on
 * @edgepg/prisma and on @prisma/adapter-pg, under UTC and under a non-UTC session TimeZone (timestamptz
 * excluded there: reading it as its instant is a documented difference), and with bytea_output = escape.
 */

import { inspect } from 'node:util'
import { createPool } from '@edgepg/client'
import { PrismaPg } from '@prisma/adapter-pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PrismaEdgePg } from '../src/index.ts'
import { createSchema, dropSchema, PrismaClient, server, transport, url } from './helpers.ts'

async function outcome(run: () => Promise<unknown>): Promise<unknown> {
  try {
    return { rows: await run() }
  } catch (error) {
    const e = error as {
      code?: string
      meta?: { driverAdapterError?: { cause?: unknown } }
      message?: string
    }
    return { error: { code: e.code, cause: e.meta?.driverAdapterError?.cause ?? e.message } }
  }
}

const EXPRESSIONS = [
  `'[0:1]={5,6}'::int[]`,
  `'[2:3]={a,b}'::text[]`,
  `array['a', 'b']::"char"[]`,
  `array[' a ', 'b']::char(3)[]`,
  `array['NULL', null, 'null']::text[]`,
  `'{"a b", "c\\"d", "e\\\\f"}'::varchar[]`,
  `array[1e-7::float8, '-0'::float8]`,
  `'-0'::float8`,
  `'1e-7'::float4`,
  `'3.4028235e38'::float4`,
  `'24:00:00'::time`,
  `'allballs'::time`,
  `'12:00:00.123456-03:30'::timetz`,
  `array['12:00:00']::time[]`,
  `'1'::bit`,
  `B'101'::varbit`,
  `9223372036854775807::int8`,
  `(10::numeric ^ 130)`,
  `'1e-130'::numeric`,
  `'Infinity'::numeric`,
  `array['Infinity', '-Infinity']::numeric[]`,
  `'{"a": 12345678901234567890, "b": 1.0000000000000000001}'::jsonb`,
  `'{"a": 12345678901234567890}'::json`,
  `'"\\u0000"'::json`,
  `'[]'::jsonb`,
  `array[]::int[]`,
  `'{}'::text[]`,
  `'infinity'::date`,
  `array['infinity', '-infinity']::timestamp[]`,
  `'0044-03-15 BC'::date`,
  `'0044-03-15 12:00 BC'::timestamp`,
  `'294276-12-31 23:59:59'::timestamp`,
  `'10000-01-01'::timestamp`,
  `'2024-02-29'::date`,
  `'<a>&lt;</a>'::xml`,
  `'::ffff:1.2.3.4/128'::inet`,
  `'abc'::bytea`,
  `'\\x'::bytea`,
  `array[null]::bytea[]`,
  `array['\\x00'::bytea, '\\xdeadbeef']`,
  `'a'::name`,
  `12::int2`,
  `array[42]::oid[]`,
  `4294967295::oid`,
  `true`,
  `array[true, false]`,
  `'{t,f}'::bool[]`,
  `''::text`,
  `'é😀'::varchar`,
  `'00000000-0000-0000-0000-00000000000A'::uuid`,
  `'$1,000.00'::money`,
  `gen_random_uuid() is not null`,
  `'(1,2)'::point`,
  `1::int as "v", 2`,
]

function pgClient(schema: string, extra = '') {
  const { user, password } = server.roles.scram
  return new PrismaClient({
    adapter: new PrismaPg(
      {
        host: server.host,
        port: server.port,
        user,
        password,
        database: server.database,
        options: `-c search_path=${schema}${extra}`,
      },
      { schema },
    ),
  })
}

function edgeClient(schema: string, extra = '') {
  return new PrismaClient({
    adapter: new PrismaEdgePg(
      createPool(`${url(schema)}${encodeURIComponent(extra)}`, {
        transport: transport('tcp'),
        types: { raw: true },
        max: 2,
      }),
      { schema },
    ),
  })
}

describe('adversarial raw values: edgepg vs pg', () => {
  const schema = 'prisma_adv_raw'
  const settings = [
    '',
    ' -c TimeZone=America/St_Johns',
    ' -c bytea_output=escape -c IntervalStyle=iso_8601 -c DateStyle=ISO,DMY',
  ]
  const clients: [PrismaClient, PrismaClient][] = []
  beforeAll(async () => {
    await createSchema(schema)
    for (const s of settings) clients.push([edgeClient(schema, s), pgClient(schema, s)])
  })
  afterAll(async () => {
    await Promise.all(clients.flat().map((c) => c.$disconnect()))
    await dropSchema(schema)
  })

  for (const [i, s] of settings.entries()) {
    it(`gives the same raw values as pg with session settings '${s}'`, async () => {
      const [edge, onPg] = clients[i]!
      const diffs = []
      for (const expression of EXPRESSIONS) {
        const sql = `select ${expression} as value`
        const limit = (name: string, p: Promise<unknown>) =>
          Promise.race([p, new Promise((r) => setTimeout(() => r(`${name} did not settle in 3 s`), 3000))])
        const a = await limit(
          'edgepg',
          outcome(() => edge.$queryRawUnsafe(sql)),
        )
        const b = await limit(
          'pg',
          outcome(() => onPg.$queryRawUnsafe(sql)),
        )
        if (typeof a === 'string' || typeof b === 'string') console.log(expression, a, b)
        try {
          expect(a).toEqual(b)
        } catch {
          diffs.push({ expression, edge: a, pg: b })
        }
      }
      if (diffs.length) console.log(inspect(diffs, { depth: 8 }))
      expect(diffs).toEqual([])
    })
  }
})
