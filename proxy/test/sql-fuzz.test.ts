// A seeded fuzz of POST /sql through fetch against a relay running as a child process (so an exit would be
// seen): random methods, Neon headers, connection strings, tokens, origins and bodies (valid statements of
// every kind, batches, random JSON, junk bytes, bodies over the limit), some aborted mid-request. The relay
// never exits, never answers 500, answers /healthz after every batch, and gives every pooled connection back.
// A long run:
//   EDGEPG_SQL_FUZZ_BATCHES=300 npx vitest run --config vitest.workspace.ts --project relay sql-fuzz
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pg, pgAddress, pgUrl, sleep } from './helpers.ts'
import { type RelayProcess, startRelayProcess } from './relay-process.ts'

const BATCHES = Number(process.env.EDGEPG_SQL_FUZZ_BATCHES ?? 12)
const PER_BATCH = 10
const SEED = Number(process.env.EDGEPG_SQL_FUZZ_SEED ?? 0x5917)
const ORIGIN = 'https://app.example.com'

let relay: RelayProcess
beforeAll(async () => {
  relay = await startRelayProcess([
    '--allow',
    pgAddress,
    '--allow-missing-origin',
    'always',
    '--origin',
    ORIGIN,
    '--sql-max-request-bytes',
    '4096',
    '--sql-max-response-bytes',
    '20000',
    '--sql-timeout',
    '2000',
    '--sql-pool-max-per-key',
    '2',
    '--sql-pool-acquire-timeout',
    '1500',
  ])
})
afterAll(() => relay.stop())

// --- generators -------------------------------------------------------------------------------------------

const mostly = <T>(usual: fc.Arbitrary<T>, odd: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 19, arbitrary: usual }, { weight: 1, arbitrary: odd })
const printable = fc.stringMatching(/^[\x21-\x7e][\x20-\x7e]{0,30}[\x21-\x7e]$/)
const app = { application_name: 'sql-fuzz' }
const connectionString = mostly(
  fc.constant(pgUrl(pg.roles.scram, app)),
  fc.oneof(
    fc.constant(pgUrl({ user: pg.roles.scram.user, password: 'wrong' }, app)),
    fc.constant(pgUrl(pg.roles.trust, app)),
    fc.constant(pgUrl(pg.roles.md5, app)),
    fc.constant(pgUrl().replace(/\/[^/?]+$/, '/nowhere')),
    fc.constant(pgUrl().replace(pgAddress, '127.0.0.1:1')),
    fc.constant(pgUrl().replace(pgAddress, '[::1]:5432')),
    fc.constant(`${pgUrl()}?options=-c%20search_path%3Dx`),
    fc.constant(`${pgUrl()}?sslmode=require`),
    fc.constant(`${pgUrl()}?host=10.0.0.1`),
    fc.constant(`${pgUrl()}?extra_float_digits=0`),
    printable.map((text) => `postgres://${text}`),
    printable,
  ),
)
const flag = mostly(fc.constantFrom(undefined, 'true', 'false'), fc.constantFrom('TRUE', 'yes', ''))
const statements = fc.constantFrom(
  'select 1 as n',
  'select $1::text as t',
  'select $1::int',
  'select $1::int[]',
  'select $1::jsonb',
  'select $1::bytea',
  'selec',
  '',
  ';',
  'select 1; select 2',
  'begin',
  'commit',
  'rollback',
  'listen fuzz',
  'notify fuzz',
  'set search_path = x',
  "select set_config('work_mem', '1MB', false)",
  "select repeat('x', 30000)",
  'select * from generate_series(1, 3000)',
  'select pg_sleep(0.05)',
  'copy (select 1) to stdout',
  'copy pg_catalog.pg_am from stdin',
  'select \u0000',
  "select 'é😀' as u",
  'prepare p as select 1',
  'deallocate all',
  'select pg_advisory_lock(77)',
  'discard all',
  'create temporary table t (x int)',
  'show all',
  'select 1 as a, 2 as a',
  'select 1/0',
)
const params = mostly<unknown[]>(
  fc.constant([]),
  fc.array(fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constant('\\x00ff')), { maxLength: 3 }),
)
const query = fc.record({ query: statements, params }, { requiredKeys: ['query'] })
const body = fc.oneof(
  { weight: 6, arbitrary: query.map((q) => JSON.stringify(q)) },
  { weight: 3, arbitrary: fc.array(query, { maxLength: 4 }).map((queries) => JSON.stringify({ queries })) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 60 }) },
  { weight: 1, arbitrary: fc.integer({ min: 4000, max: 9000 }).map((n) => `{"query":"${'x'.repeat(n)}"}`) },
  {
    weight: 1,
    arbitrary: fc.constant(`{"query":"select 1","params":${'['.repeat(3000)}${']'.repeat(3000)}}`),
  },
)
const anyRequest = fc.record({
  method: mostly(fc.constant('POST'), fc.constantFrom('GET', 'PUT', 'DELETE', 'OPTIONS', 'PATCH')),
  connectionString: mostly(connectionString, fc.constant(undefined)),
  raw: flag,
  array: flag,
  isolation: mostly(
    fc.constantFrom(undefined, 'Serializable', 'ReadCommitted', 'RepeatableRead'),
    fc.constantFrom('serializable', 'Chaos'),
  ),
  readOnly: flag,
  deferrable: flag,
  contentType: fc.constantFrom(
    undefined,
    'application/json',
    'text/plain;charset=UTF-8',
    'multipart/form-data',
  ),
  authorization: fc.constantFrom(undefined, undefined, 'Bearer x.y.z', 'Basic eDp5'),
  origin: fc.constantFrom(undefined, undefined, ORIGIN, 'https://evil.example.com', 'null'),
  body,
  abortAfter: mostly(fc.constant(undefined), fc.integer({ min: 0, max: 60 })),
})

/** Half the requests pass every header check, so that the body, the statements and aborts reach PostgreSQL. */
const request = fc.oneof(
  anyRequest,
  anyRequest.map((r) => ({
    ...r,
    method: 'POST',
    connectionString: pgUrl(pg.roles.scram, app),
    isolation: undefined,
    contentType: undefined,
    authorization: undefined,
    origin: undefined,
    raw: r.raw === 'true' ? 'true' : undefined,
    array: r.array === 'true' ? 'true' : undefined,
    readOnly: undefined,
    deferrable: undefined,
  })),
)

// --- the test ---------------------------------------------------------------------------------------------

type Request = typeof request extends fc.Arbitrary<infer R> ? R : never

/** Sends one request; the status, or 0 when it was aborted on purpose. */
async function send(r: Request): Promise<number> {
  const headers: Record<string, string> = {}
  const set = (name: string, value: string | undefined) => {
    if (value !== undefined) headers[name] = value
  }
  set('neon-connection-string', r.connectionString)
  set('neon-raw-text-output', r.raw)
  set('neon-array-mode', r.array)
  set('neon-batch-isolation-level', r.isolation)
  set('neon-batch-read-only', r.readOnly)
  set('neon-batch-deferrable', r.deferrable)
  set('content-type', r.contentType)
  set('authorization', r.authorization)
  set('origin', r.origin)
  const controller = new AbortController()
  const timer = r.abortAfter === undefined ? undefined : setTimeout(() => controller.abort(), r.abortAfter)
  try {
    const response = await fetch(`http://127.0.0.1:${relay.port}/sql`, {
      method: r.method,
      headers,
      ...(r.method === 'GET' ? {} : { body: r.body }),
      signal: controller.signal,
    })
    await response.arrayBuffer()
    return response.status
  } catch (error) {
    if (controller.signal.aborted) return 0
    throw error
  } finally {
    clearTimeout(timer)
  }
}

async function gauge(name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${relay.port}/metrics`)).text()
  return Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? Number.NaN)
}

describe('server notices and notifications of /sql sessions', () => {
  it('never reach the relay’s output (they may carry data of the request)', async () => {
    const statuses = await Promise.all(
      [
        'rollback',
        "do $$ begin raise notice 'secret-notice-text'; end $$",
        "select pg_notify('fuzz', 'x')",
      ].map((query) =>
        send({
          method: 'POST',
          connectionString: pgUrl(pg.roles.scram, app),
          raw: undefined,
          array: undefined,
          isolation: undefined,
          readOnly: undefined,
          deferrable: undefined,
          contentType: undefined,
          authorization: undefined,
          origin: undefined,
          body: JSON.stringify({ query }),
          abortAfter: undefined,
        }),
      ),
    )
    expect(statuses).toEqual([200, 200, 200])
    await sleep(100)
    expect(relay.stderr()).toBe('')
  })
})

describe('a fuzz of POST /sql', () => {
  it(
    `survives ${BATCHES * PER_BATCH} random requests (seed ${SEED}) and gives every connection back`,
    async () => {
      const seen = new Map<number, number>()
      await fc.assert(
        fc.asyncProperty(fc.array(request, { minLength: PER_BATCH, maxLength: PER_BATCH }), async (batch) => {
          for (const status of await Promise.all(batch.map(send)))
            seen.set(status, (seen.get(status) ?? 0) + 1)
          expect(relay.isAlive(), relay.stderr()).toBe(true)
          expect(await relay.health()).toBe(200)
        }),
        { seed: SEED, numRuns: BATCHES, endOnFailure: true },
      )
      if (process.env.EDGEPG_SQL_FUZZ_BATCHES) console.info(`sql fuzz statuses: ${JSON.stringify([...seen])}`)
      expect(seen.get(500) ?? 0, JSON.stringify([...seen])).toBe(0)
      expect(seen.get(200) ?? 0).toBeGreaterThan(0)
      for (const status of seen.keys())
        expect([0, 200, 204, 400, 401, 403, 413, 502, 503, 507]).toContain(status)
      // Aborted requests may still be finishing: their leases come back within the deadline.
      for (let i = 0; i < 100 && (await gauge('edgepg_relay_sql_pool_in_use')) !== 0; i++) await sleep(50)
      expect(await gauge('edgepg_relay_sql_pool_in_use')).toBe(0)
      expect(await gauge('edgepg_relay_sql_pool_waiting')).toBe(0)
      expect(relay.stderr()).toBe('')
    },
    Math.max(60_000, BATCHES * 5_000),
  )
})
