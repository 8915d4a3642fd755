import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type Request, RequestQueue } from './request.ts'

const request = (): Request => ({ handle: () => true, fail() {} })

/** One operation on the queue; `pick` chooses which queued request `remove` and `replaceHead` use. */
type Op =
  | { kind: 'push'; times: number }
  | { kind: 'shift'; times: number }
  | { kind: 'remove'; pick: number }
  | { kind: 'removeForeign' }
  | { kind: 'replaceHead' }
  | { kind: 'takeAll' }

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('push' as const), times: fc.integer({ min: 1, max: 40 }) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('shift' as const), times: fc.integer({ min: 1, max: 40 }) }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }) },
  fc.record({ kind: fc.constant('removeForeign' as const) }),
  fc.record({ kind: fc.constant('replaceHead' as const) }),
  fc.record({ kind: fc.constant('takeAll' as const) }),
)

/** The same requests (identity, not shape) in the same order. */
function expectSame(actual: Request[], expected: Request[]) {
  expect(actual.length).toBe(expected.length)
  for (let i = 0; i < actual.length; i++) expect(actual[i]).toBe(expected[i])
}

describe('RequestQueue', () => {
  it('behaves as an array FIFO under any sequence of operations (wrapping, growing, shrinking)', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const queue = new RequestQueue()
        const model: Request[] = []
        for (const o of ops) {
          switch (o.kind) {
            case 'push':
              for (let i = 0; i < o.times; i++) {
                const r = request()
                queue.push(r)
                model.push(r)
              }
              break
            case 'shift':
              for (let i = 0; i < o.times; i++) {
                queue.shift()
                model.shift()
              }
              break
            case 'remove': {
              if (model.length === 0) break
              const r = model[o.pick % model.length]!
              expect(queue.remove(r)).toBe(true)
              model.splice(model.indexOf(r), 1)
              break
            }
            case 'removeForeign':
              expect(queue.remove(request())).toBe(false)
              break
            case 'replaceHead': {
              const r = request()
              queue.replaceHead(r)
              if (model.length > 0) model[0] = r
              break
            }
            case 'takeAll': {
              const taken = queue.takeAll()
              const expected = model.splice(0)
              expectSame(taken, expected)
              break
            }
          }
          expect(queue.count).toBe(model.length)
          expect(queue.head).toBe(model[0])
        }
        expectSame(queue.takeAll(), model)
      }),
      { numRuns: 300 },
    )
  })

  it('keeps order across a burst far larger than its retained size', () => {
    const queue = new RequestQueue()
    const all = Array.from({ length: 10_000 }, request)
    for (const r of all.slice(0, 5000)) queue.push(r)
    for (let i = 0; i < 2500; i++) queue.shift()
    for (const r of all.slice(5000)) queue.push(r)
    const seen: Request[] = []
    while (queue.head) {
      seen.push(queue.head)
      queue.shift()
    }
    expectSame(seen, all.slice(2500))
  })
})
