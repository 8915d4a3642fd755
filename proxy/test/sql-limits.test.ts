// Relay attack cases Q3 and Q4 (../shared/attack-cases.md) on POST /sql: a body over the request limit is
// 413 (announced or streamed), a result over the response limit is 507, a statement past the deadline and
// one whose client went away are cancelled on the server — and each time the backend is left idle or gone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  backendStates,
  pg,
  pgUrl,
  postSql,
  sleep,
  startTestRelay,
  type TestRelay,
  waitUntilNoneActive,
} from './helpers.ts'

let relay: TestRelay
beforeAll(async () => {
  relay = await startTestRelay({ sqlMaxRequestBytes: 1000, sqlMaxResponseBytes: 20_000, sqlTimeout: 600 })
})
afterAll(() => relay.shutdown())

const as = (app: string) => pgUrl(pg.roles.scram, { application_name: app })

/** Waits until the relay holds no pooled connection for a request (every lease given back). */
async function poolSettled() {
  for (let i = 0; i < 200 && relay.sqlBackends!.stats().inUse > 0; i++) await sleep(10)
  expect(relay.sqlBackends!.stats().inUse).toBe(0)
}

describe('Q3: the request limit', () => {
  it('refuses an announced Content-Length over it with 413, before reading or dialing', async () => {
    const dials = relay.dials.length
    const answer = await postSql(relay, { query: `select '${'x'.repeat(1000)}'` })
    expect(answer.status).toBe(413)
    expect(answer.body.message).toBe(
      "the request body is larger than the relay's limit of 1000 bytes (sqlMaxRequestBytes)",
    )
    expect(relay.dials.length).toBe(dials)
  })

  it('refuses a chunked body that grows past it with 413', async () => {
    const encoder = new TextEncoder()
    let sent = 0
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent === 0) controller.enqueue(encoder.encode('{"query":"select \''))
        else if (sent < 50) controller.enqueue(encoder.encode('x'.repeat(100)))
        else return controller.close()
        sent++
        await sleep(1)
      },
    })
    const response = await fetch(`${relay.url}/sql`, {
      method: 'POST',
      headers: { 'neon-connection-string': pgUrl() },
      body,
      duplex: 'half',
    } as RequestInit)
    expect(response.status).toBe(413)
    expect(((await response.json()) as { message: string }).message).toContain('1000 bytes')
    expect(response.headers.get('content-length')).not.toBeNull()
  })

  it('accepts a body just under it', async () => {
    const answer = await postSql(relay, { query: `select '${'x'.repeat(900)}' as x` })
    expect(answer.status).toBe(200)
  })
})

describe('Q3: the response limit', () => {
  it('answers 507 for rows past it, cancels the statement, and leaves the backend idle or gone', async () => {
    const answer = await postSql(
      relay,
      { query: "select repeat('x', 1000) from generate_series(1, 100000)" },
      { connectionString: as('q3-rows') },
    )
    expect(answer.status).toBe(507)
    expect(answer.body.message).toBe(
      "the result is larger than the relay's limit of 20000 bytes (sqlMaxResponseBytes)",
    )
    await waitUntilNoneActive('q3-rows')
    await poolSettled()
  })

  it('answers 507 for one value or one error larger than it, refused from its header, never buffered', async () => {
    for (const query of [
      "select repeat('x', 200000) as big",
      "do $$ begin raise exception 'big' using detail = repeat('d', 200000); end $$",
    ]) {
      const answer = await postSql(relay, { query }, { connectionString: as('q3-one') })
      expect(answer.status, query).toBe(507)
      expect(answer.text.length).toBeLessThan(1000)
    }
    await waitUntilNoneActive('q3-one')
    await poolSettled()
  })

  it('answers 507 when the JSON outgrows it although the row data does not', async () => {
    const name = 'c'.repeat(60)
    const answer = await postSql(
      relay,
      { query: `select 1 as ${name} from generate_series(1, 600)` },
      { connectionString: as('q3-json') },
    )
    expect(answer.status).toBe(507)
    // The same rows as arrays fit.
    const arrays = await postSql(
      relay,
      { query: `select 1 as ${name} from generate_series(1, 600)` },
      { connectionString: as('q3-json'), headers: { 'neon-array-mode': 'true' } },
    )
    expect(arrays.status).toBe(200)
    await poolSettled()
  })

  it('counts a batch’s results together', async () => {
    const part = { query: "select repeat('y', 500) from generate_series(1, 15)" }
    const one = await postSql(relay, { queries: [part] })
    expect(one.status).toBe(200)
    const three = await postSql(relay, { queries: [part, part, part] })
    expect(three.status).toBe(507)
  })
})

describe('Q4: the deadline', () => {
  it('cancels the statement on the server and answers 400 57014 naming the deadline', async () => {
    const answer = await postSql(
      relay,
      { query: 'select pg_sleep(30)' },
      { connectionString: as('q4-deadline') },
    )
    expect(answer.status).toBe(400)
    expect(answer.body).toEqual({
      message: "query cancelled: it ran past the relay's deadline of 600 ms",
      code: '57014',
      severity: 'ERROR',
    })
    await waitUntilNoneActive('q4-deadline')
    await poolSettled()
  })

  it('rolls back a batch it cuts short', async () => {
    const answer = await postSql(
      relay,
      { queries: [{ query: 'create temporary table q4_t (n int)' }, { query: 'select pg_sleep(30)' }] },
      { connectionString: as('q4-batch') },
    )
    expect(answer.body.code).toBe('57014')
    await waitUntilNoneActive('q4-batch')
    await poolSettled()
  })
})

describe('Q4: a client that goes away mid-query', () => {
  it('gets its statement cancelled on the server; the backend is idle or gone', async () => {
    const patient = await startTestRelay({ sqlTimeout: 60_000 })
    try {
      const controller = new AbortController()
      const request = postSql(
        patient,
        { query: 'select pg_sleep(30)' },
        { connectionString: as('q4-gone'), signal: controller.signal },
      ).catch((error: unknown) => error)
      for (let i = 0; i < 200 && !(await backendStates('q4-gone')).includes('active'); i++) await sleep(20)
      expect(await backendStates('q4-gone')).toContain('active')
      controller.abort()
      expect(await request).toBeInstanceOf(Error)
      await waitUntilNoneActive('q4-gone', 5000)
      for (let i = 0; i < 200 && patient.sqlBackends!.stats().inUse > 0; i++) await sleep(10)
      expect(patient.sqlBackends!.stats().inUse).toBe(0)
    } finally {
      await patient.shutdown()
    }
  })
})
