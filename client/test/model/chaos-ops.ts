/**
 * The operations of the chaos soak: each one a few requests through a pool (or a client of its own) with a
 * deadline, checking that every result it gets is its own. A rejection is fine while faults are injected,
 * as long as it is a `PgError` of an expected kind; a wrong result, an unexpected error, or a promise that
 * outlives its deadline by more than a second is a failure.
 */
import { type ConnectOptions, connect, isDatabaseError, isPgError, type Pool } from '@edgepg/client'
import { describe } from './tracker.ts'

/** Deadlines every pool and client of the soak is configured with (ms). */
export const LIMITS = { query: 1000, acquire: 1500, connect: 1500 }

/** A seeded PRNG (mulberry32): the same seed gives the same load and the same faults. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export interface OpContext {
  pool: Pool
  /** Opens a client of its own (connect options of the route). */
  connectOptions: ConnectOptions
  url: string
  table: string
  random: () => number
  token: () => string
  /** Tokens whose insert resolved: they must be in the table at the end. */
  committed: Set<string>
  /** A result that is not the operation's own: the worst failure there is. */
  misattributed: (what: string) => void
}

export interface Op {
  name: string
  /** How long the operation may take at most, by the configured timeouts. */
  deadline: number
  run(ctx: OpContext): Promise<void>
}

const own = (ctx: OpContext, what: string, actual: unknown, expected: unknown) => {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    ctx.misattributed(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`)
  }
}

const { query: Q, acquire: A, connect: C } = LIMITS

/** The operations, with weights. */
export const OPS: { op: Op; weight: number }[] = [
  {
    weight: 6,
    op: {
      name: 'pool.query pipelined',
      deadline: A + Q,
      async run(ctx) {
        const count = 1 + Math.floor(ctx.random() * 8)
        const tokens = Array.from({ length: count }, ctx.token)
        const results = await Promise.allSettled(
          tokens.map((t) => ctx.pool.query<{ token: string }>('select $1::text as token', [t])),
        )
        let failure: unknown
        for (const [i, result] of results.entries()) {
          if (result.status === 'fulfilled') own(ctx, 'pool.query', result.value.rows, [{ token: tokens[i] }])
          else failure ??= result.reason
        }
        if (failure !== undefined) throw failure
      },
    },
  },
  {
    weight: 2,
    op: {
      name: 'pool.query insert',
      deadline: A + Q,
      async run(ctx) {
        const t = ctx.token()
        const { rows } = await ctx.pool.query(
          `insert into ${ctx.table} (token) values ($1) returning token`,
          [t],
        )
        own(ctx, 'insert', rows, [{ token: t }])
        ctx.committed.add(t)
      },
    },
  },
  {
    weight: 2,
    op: {
      name: 'pool.transaction',
      deadline: A + 5 * Q,
      async run(ctx) {
        const tokens = [ctx.token(), ctx.token()]
        const seen = await ctx.pool.transaction(async (tx) => {
          for (const t of tokens) await tx.query(`insert into ${ctx.table} (token) values ($1)`, [t])
          const { rows } = await tx.query<{ token: string }>(
            `select token from ${ctx.table} where token = any($1) order by token`,
            [tokens],
          )
          return rows.map((r) => r.token)
        })
        own(ctx, 'transaction read-back', seen, [...tokens].sort())
        for (const t of tokens) ctx.committed.add(t)
      },
    },
  },
  {
    weight: 2,
    op: {
      name: 'stream',
      deadline: A + 5 * Q,
      async run(ctx) {
        const t = ctx.token()
        const rows = 1 + Math.floor(ctx.random() * 6)
        const client = await ctx.pool.connect()
        try {
          const seen: string[] = []
          const stream = client.queryRaw<{ v: string }>(
            `select $1::text || ':' || i as v from generate_series(1, $2::int) i`,
            [t, rows],
            { batchSize: 2 },
          )
          for await (const row of stream) seen.push(row.v)
          own(
            ctx,
            'stream',
            seen,
            Array.from({ length: rows }, (_, i) => `${t}:${i + 1}`),
          )
        } finally {
          client.release()
        }
      },
    },
  },
  {
    weight: 1,
    op: {
      name: 'copy out',
      deadline: A + Q,
      async run(ctx) {
        const t = ctx.token()
        const client = await ctx.pool.connect()
        try {
          const stream = await client.copyOut(
            `copy (select '${t}:' || i from generate_series(1, 3) i) to stdout`,
          )
          const decoder = new TextDecoder()
          let text = ''
          for await (const chunk of stream) text += decoder.decode(chunk, { stream: true })
          own(ctx, 'copy out', text, `${t}:1\n${t}:2\n${t}:3\n`)
        } finally {
          client.release()
        }
      },
    },
  },
  {
    weight: 1,
    op: {
      name: 'copy in',
      deadline: A + Q,
      async run(ctx) {
        const tokens = [ctx.token(), ctx.token()]
        const client = await ctx.pool.connect()
        try {
          const n = await client.copyIn(
            `copy ${ctx.table} (token) from stdin`,
            tokens.map((t) => `${t}\n`),
          )
          own(ctx, 'copy in row count', n, 2)
          for (const t of tokens) ctx.committed.add(t)
        } finally {
          client.release()
        }
      },
    },
  },
  {
    weight: 1,
    op: {
      name: 'prepare',
      deadline: A + 3 * Q,
      async run(ctx) {
        const t = ctx.token()
        const client = await ctx.pool.connect()
        try {
          const statement = await client.prepare('select $1::text as token, 5 as n')
          const { rows } = await client.query(statement, [t])
          own(ctx, 'prepared query', rows, [{ token: t, n: 5 }])
          await client.closeStatement(statement)
        } finally {
          client.release()
        }
      },
    },
  },
  {
    weight: 1,
    op: {
      name: 'failing query',
      deadline: A + Q,
      async run(ctx) {
        const error = await ctx.pool.query('select 1 / (length($1) - length($1))', ['x']).then(
          () => undefined,
          (e: unknown) => e,
        )
        if (error === undefined) ctx.misattributed('failing query: resolved, expected 22012')
        else if (!(isDatabaseError(error) && error.code === '22012')) throw error
      },
    },
  },
  {
    weight: 1,
    op: {
      name: 'aborted query',
      // The cancel may wait for its grace (5 s) before the request is abandoned.
      deadline: A + 5000 + Q,
      async run(ctx) {
        const t = ctx.token()
        const controller = new AbortController()
        setTimeout(() => controller.abort(), Math.floor(ctx.random() * 40))
        const result = await ctx.pool
          .query<{ token: string }>('select pg_sleep(0.05), $1::text as token', [t], {
            signal: controller.signal,
          })
          .catch((error: unknown) => {
            if (isDatabaseError(error) && error.code === '57014') return undefined
            throw error
          })
        if (result)
          own(
            ctx,
            'aborted query (finished first)',
            result.rows.map((r) => r.token),
            [t],
          )
      },
    },
  },
  {
    weight: 1,
    op: {
      name: 'client of its own',
      // connect, one query, and end(), which gives up on a silent server after a grace period.
      deadline: C + Q + 3000,
      async run(ctx) {
        const t = ctx.token()
        const [client, connection] = await connect(ctx.url, ctx.connectOptions)
        connection.run().catch(() => {})
        try {
          const { rows } = await client.query<{ token: string }>('select $1::text as token', [t])
          own(ctx, 'own client', rows, [{ token: t }])
        } finally {
          await client.end()
        }
      },
    },
  },
]

/** Picks an operation by weight. */
export function pick(random: () => number): Op {
  const total = OPS.reduce((sum, o) => sum + o.weight, 0)
  let x = random() * total
  for (const { op, weight } of OPS) {
    x -= weight
    if (x < 0) return op
  }
  return OPS[0]!.op
}

/** Kinds a rejection may have while faults are injected. */
const EXPECTED_KINDS = new Set(['timeout', 'closed', 'io', 'aborted'])
/** SQLSTATEs a rejection may carry: cancelled, and the server noticing a cut connection mid-message. */
const EXPECTED_CODES = new Set(['57014', '08P01', '08006'])

/** Why `error` is not an acceptable rejection under faults, or undefined when it is. */
export function unexpected(error: unknown): string | undefined {
  if (!isPgError(error)) return `not a PgError: ${describe(error)}`
  if (isDatabaseError(error)) return EXPECTED_CODES.has(error.code) ? undefined : describe(error)
  return EXPECTED_KINDS.has(error.kind) ? undefined : describe(error)
}
