/**
 * A model-based test of the pipelined query path and `batch`: random groups of queries, batches, prepared
 * statements, reads and aborted requests, each group issued in one tick (pipelined, in order on the server),
 * against a model of a key-value table. Small statement caches make every group evict and re-prepare; a size of 0 runs every statement unnamed.
 */
import { isDatabaseError, isPgError, type Statement } from '@edgepg/client'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { admin, open, transportKind } from './helpers.ts'

const table = `advb_model_${transportKind}`
afterAll(() => admin(`drop table if exists ${table}`))

/** Keys the model tracks; aborted requests write keys of their own (≥ ABORTED_KEYS), each once. */
const KEYS = 12
const ABORTED_KEYS = 1000

type Write = { kind: 'insert' | 'upsert' | 'delete'; k: number; v: number; variant: number }
type Op =
  | { kind: 'query'; write: Write }
  | { kind: 'batch'; writes: Write[] }
  | { kind: 'prepared'; k: number; v: number }
  | { kind: 'read'; k: number; variant: number }
  | { kind: 'aborted'; when: 'before' | 'after'; asBatch: boolean }

const write: fc.Arbitrary<Write> = fc.record({
  kind: fc.constantFrom('insert' as const, 'upsert' as const, 'delete' as const),
  k: fc.integer({ min: 0, max: KEYS - 1 }),
  v: fc.integer({ min: -1000, max: 1000 }),
  variant: fc.integer({ min: 0, max: 4 }),
})

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('query' as const), write }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('batch' as const),
      writes: fc.array(write, { minLength: 1, maxLength: 5 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('prepared' as const),
      k: fc.integer({ min: 0, max: KEYS - 1 }),
      v: fc.integer({ min: -1000, max: 1000 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('read' as const),
      k: fc.integer({ min: 0, max: KEYS - 1 }),
      variant: fc.integer({ min: 0, max: 2 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('aborted' as const),
      when: fc.constantFrom('before' as const, 'after' as const),
      asBatch: fc.boolean(),
    }),
  },
)

/** The SQL of a write; `variant` changes only a comment, so each is its own cached statement. */
function sqlOf(w: Write): [string, unknown[]] {
  const tag = `/* ${w.kind} ${w.variant} */`
  switch (w.kind) {
    case 'insert':
      return [`insert into ${table} values ($1, $2) ${tag}`, [w.k, w.v]]
    case 'upsert':
      return [
        `insert into ${table} values ($1, $2) on conflict (k) do update set v = excluded.v ${tag}`,
        [w.k, w.v],
      ]
    case 'delete':
      return [`delete from ${table} where k = $1 ${tag}`, [w.k]]
  }
}

/** Applies `w` to `model`: the row count it reports, or 'duplicate' when the insert violates the key. */
function apply(model: Map<number, number>, w: Write): number | 'duplicate' {
  switch (w.kind) {
    case 'insert':
      if (model.has(w.k)) return 'duplicate'
      model.set(w.k, w.v)
      return 1
    case 'upsert':
      model.set(w.k, w.v)
      return 1
    case 'delete':
      return model.delete(w.k) ? 1 : 0
  }
}

describe('the pipelined query path and batch against a model', () => {
  it('every promise settles with the model answer and the table ends as the model', async () => {
    let nextAbortedKey = ABORTED_KEYS
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(0, 1, 2, 100),
        fc.array(fc.array(op, { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 4 }),
        async (statementCacheSize, groups) => {
          const { client } = await open({ statementCacheSize })
          try {
            await client.batchExecute(
              `drop table if exists ${table}; create table ${table} (k int primary key, v int not null)`,
            )
            const prepared: Statement = await client.prepare(
              `insert into ${table} values ($1, $2) on conflict (k) do update set v = excluded.v`,
            )
            const model = new Map<number, number>()
            /** Aborted writes: a key that must be present if the call resolved. */
            const resolvedAborted: number[] = []
            for (const group of groups) {
              const checks: Promise<void>[] = []
              for (const o of group) {
                switch (o.kind) {
                  case 'query': {
                    const expected = apply(model, o.write)
                    const [text, params] = sqlOf(o.write)
                    checks.push(
                      client.query(text, params).then(
                        (r) => expect(r.rowCount).toBe(expected),
                        (e: unknown) => {
                          if (expected !== 'duplicate' || !isDatabaseError(e, '23505')) throw e
                        },
                      ),
                    )
                    break
                  }
                  case 'batch': {
                    const trial = new Map(model)
                    const counts = o.writes.map((w) => apply(trial, w))
                    const isValid = !counts.includes('duplicate')
                    if (isValid) for (const [k, v] of trial) model.set(k, v)
                    if (isValid) for (const k of [...model.keys()]) if (!trial.has(k)) model.delete(k)
                    checks.push(
                      client.batch(o.writes.map(sqlOf)).then(
                        (rs) => {
                          expect(isValid).toBe(true)
                          expect(rs.map((r) => r.rowCount)).toEqual(counts)
                        },
                        (e: unknown) => {
                          if (isValid || !isDatabaseError(e, '23505')) throw e
                        },
                      ),
                    )
                    break
                  }
                  case 'prepared':
                    model.set(o.k, o.v)
                    checks.push(
                      (o.k % 2 === 0
                        ? client.query(prepared, [o.k, o.v])
                        : client.batch([[prepared, [o.k, o.v]]]).then((rs) => rs[0]!)
                      ).then((r) => expect(r.rowCount).toBe(1)),
                    )
                    break
                  case 'read': {
                    const v = model.get(o.k)
                    checks.push(
                      client
                        .query(`select v from ${table} where k = $1 /* read ${o.variant} */`, [o.k])
                        .then((r) => expect(r.rows).toEqual(v === undefined ? [] : [{ v }])),
                    )
                    break
                  }
                  case 'aborted': {
                    const k = nextAbortedKey++
                    const controller = new AbortController()
                    if (o.when === 'before') controller.abort()
                    const text = `insert into ${table} values ($1, 0) /* aborted */`
                    const call = o.asBatch
                      ? client.batch([[text, [k]]], { signal: controller.signal })
                      : client.query(text, [k], { signal: controller.signal })
                    if (o.when === 'after') controller.abort()
                    checks.push(
                      call.then(
                        () => {
                          expect(o.when).toBe('after')
                          resolvedAborted.push(k)
                        },
                        (e: unknown) => {
                          if (!isPgError(e, 'aborted') && !isDatabaseError(e, '57014')) throw e
                        },
                      ),
                    )
                    break
                  }
                }
              }
              const settled = await Promise.allSettled(checks)
              for (const s of settled) if (s.status === 'rejected') throw s.reason
            }
            const rows = (await client.query(`select k, v from ${table} where k < $1 order by k`, [KEYS]))
              .rows as { k: number; v: number }[]
            expect(rows).toEqual([...model].sort((a, b) => a[0] - b[0]).map(([k, v]) => ({ k, v })))
            const present = new Set(
              (
                (await client.query(`select k from ${table} where k >= $1`, [ABORTED_KEYS])).rows as {
                  k: number
                }[]
              ).map((r) => r.k),
            )
            for (const k of resolvedAborted) expect(present.has(k)).toBe(true)
            expect(client.isClosed).toBe(false)
          } finally {
            await client.end()
          }
        },
      ),
      { numRuns: 30 },
    )
  })
})
