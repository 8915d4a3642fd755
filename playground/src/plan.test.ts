/**
 * The plan model against real plans from the test PostgreSQL (EXPLAIN (ANALYZE, FORMAT JSON) of joins, an
 * InitPlan, a CTE read twice, a parallel scan, partitions, a SubPlan, a recursive CTE, VERBOSE and BUFFERS),
 * checked by computations of the test's own, and against random plan trees (fast-check).
 */
import { type Client, type Connection, connect } from '@edgepg/client'
import { nodeSocket } from '@edgepg/client/node'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { explainJsonOf, type PlanNode, type PlanTree, planModel } from './plan-model.ts'

const pg = inject('pg')
const SCHEMA = 'plan_model_test'
let client: Client
let connection: Connection
let done: Promise<void>

beforeAll(async () => {
  const role = pg.roles.scram
  ;[client, connection] = await connect(
    { host: pg.host, port: pg.port, user: role.user, password: role.password, database: pg.database },
    { transport: nodeSocket() },
  )
  connection.on('notice', () => {}) // drop … if exists, cascades
  done = connection.run()
  done.catch(() => {})
  await client.simpleQuery(`
    drop schema if exists ${SCHEMA} cascade;
    create schema ${SCHEMA};
    set search_path = ${SCHEMA};
    create table a (id int primary key, x int, g int);
    insert into a select i, i % 100, i % 7 from generate_series(1, 5000) i;
    create table b (id int primary key, a_id int references a, y text);
    insert into b select i, (i % 5000) + 1, md5(i::text) from generate_series(1, 8000) i;
    create index b_a_id on b (a_id);
    create table m (at date not null, v int) partition by range (at);
    create table m_2025 partition of m for values from ('2025-01-01') to ('2026-01-01');
    create table m_2026 partition of m for values from ('2026-01-01') to ('2027-01-01');
    insert into m select date '2025-06-01' + (i % 400), i from generate_series(1, 4000) i;
    analyze a; analyze b; analyze m;
  `)
})

afterAll(async () => {
  await client?.simpleQuery(`drop schema if exists ${SCHEMA} cascade`).catch(() => {})
  await client?.end()
  await done
})

/** EXPLAIN's JSON for `sql`, with the settings in `settings` for this one statement (a transaction). */
async function explain(options: string, sql: string, settings: string[] = []): Promise<unknown> {
  const sets = settings.map((setting) => `set local ${setting};`).join(' ')
  const results = await client.simpleQuery(`begin; ${sets} explain (${options}) ${sql}; commit`)
  const result = results.find((r) => r.command === 'EXPLAIN')!
  return explainJsonOf(result)
}

const PARALLEL = [
  'max_parallel_workers_per_gather = 2',
  'parallel_setup_cost = 0',
  'parallel_tuple_cost = 0',
  'min_parallel_table_scan_size = 0',
]

const ANALYZED: [string, string, string[]?][] = [
  ['a hash join with a sort', 'select a.g, b.y from a join b on b.a_id = a.id order by b.y limit 50'],
  [
    'an InitPlan read by a scan under the join',
    'select a.g, count(*) from a join b on b.a_id = a.id where a.x > (select avg(x) from a) group by a.g',
  ],
  [
    'a materialized CTE read twice',
    'with c as materialized (select a_id, count(*) n from b group by a_id) select count(*) from c c1 join c c2 on c1.a_id = c2.n',
  ],
  ['a parallel aggregate', "select count(*) from b where y like '%ab%'", PARALLEL],
  ['partitions with one pruned', "select sum(v) from m where at >= date '2026-01-01'"],
  [
    'a nested loop over an index',
    'select a.id, b.id from a join b on b.a_id = a.id where a.id < 40',
    ['enable_hashjoin = off', 'enable_mergejoin = off'],
  ],
  [
    'a correlated SubPlan',
    'select a.id, (select count(*) from b where b.a_id = a.id) from a where a.id < 30',
  ],
  [
    'a recursive CTE',
    'with recursive r(n) as (select 1 union all select n + 1 from r where n < 500) select sum(n) from r',
  ],
]

/** Each node's inclusive time computed here: per-loop time × loops, ÷ processes under a Gather. */
function expectedInclusive(
  raw: Record<string, unknown>,
  processes = 1,
): Map<Record<string, unknown>, number> {
  const out = new Map<Record<string, unknown>, number>()
  const walk = (node: Record<string, unknown>, divisor: number) => {
    out.set(node, ((node['Actual Total Time'] as number) * (node['Actual Loops'] as number)) / divisor)
    const children = (node.Plans ?? []) as Record<string, unknown>[]
    const isGather = node['Node Type'] === 'Gather' || node['Node Type'] === 'Gather Merge'
    for (const child of children) {
      const outer = child['Parent Relationship'] === 'Outer'
      const next =
        isGather && outer && (node['Actual Loops'] as number) > 0 && (child['Actual Loops'] as number) > 0
          ? (child['Actual Loops'] as number) / (node['Actual Loops'] as number)
          : divisor
      walk(child, next)
    }
  }
  walk(raw, processes)
  return out
}

/** The most the rounding of "Actual Total Time" (to 0.001 ms per loop) can move a node's exclusive time. */
const roundingSlack = (node: PlanNode) =>
  [node, ...node.children].reduce((slack, n) => slack + (0.0005 * (n.actual?.loops ?? 0)) / n.processes, 0) +
  1e-9

function checkTimeInvariants(tree: PlanTree, raw: Record<string, unknown>) {
  expect(tree.measure).toBe('time')
  const inclusive = expectedInclusive(raw)
  for (const node of tree.nodes) expect(node.inclusiveMs).toBeCloseTo(inclusive.get(node.raw as never)!, 9)
  const total = tree.nodes.reduce((sum, node) => sum + node.exclusiveMs!, 0)
  expect(total).toBeCloseTo(inclusive.get(raw)!, 6)
  for (const node of tree.nodes) {
    expect(node.exclusiveMs!, `${node.title} ${node.detail}`).toBeGreaterThanOrEqual(-roundingSlack(node))
  }
  const max = Math.max(...tree.nodes.map((node) => node.exclusiveMs!))
  expect(tree.slowest?.exclusiveMs).toBe(max)
  expect(tree.nodes.find((node) => node.exclusiveMs === max)).toBe(tree.slowest)
  const shares = tree.nodes.reduce((sum, node) => sum + node.share, 0)
  expect(shares).toBeCloseTo(1, 9)
}

describe('planModel on real plans', () => {
  for (const [name, sql, settings] of ANALYZED) {
    it(`keeps exclusive times at or above zero, adding up to the root's time: ${name}`, async () => {
      const json = (await explain('analyze, format json', sql, settings)) as Record<string, unknown>[]
      const model = planModel(json)
      expect(model.plans).toHaveLength(1)
      checkTimeInvariants(model.plans[0]!, json[0]!.Plan as Record<string, unknown>)
      expect(model.plans[0]!.planningMs).toBe(json[0]!['Planning Time'])
      expect(model.plans[0]!.executionMs).toBe(json[0]!['Execution Time'])
    })
  }

  it('computes each exclusive time as its time minus its children for a plan without subplans', async () => {
    const json = (await explain('analyze, format json', ANALYZED[0]![1])) as Record<string, unknown>[]
    const tree = planModel(json).plans[0]!
    const inclusive = expectedInclusive(json[0]!.Plan as Record<string, unknown>)
    for (const node of tree.nodes) {
      const own = inclusive.get(node.raw as never)!
      const children = node.children.reduce((sum, child) => sum + inclusive.get(child.raw as never)!, 0)
      expect(node.exclusiveMs).toBeCloseTo(own - children, 9)
    }
  })

  it('charges an InitPlan to the scan that reads it, not to the node it hangs from', async () => {
    const json = (await explain('analyze, format json', ANALYZED[1]![1])) as Record<string, unknown>[]
    const tree = planModel(json).plans[0]!
    const initPlan = tree.nodes.find((node) => node.subplan === 'InitPlan 1')!
    const reader = tree.nodes.find((node) => String(node.raw.Filter ?? '').includes('(InitPlan 1)'))!
    expect(reader.title).toBe('Seq Scan')
    const children = reader.children.reduce((sum, child) => sum + child.inclusiveMs!, 0)
    expect(reader.exclusiveMs).toBeCloseTo(reader.inclusiveMs! - children - initPlan.inclusiveMs!, 9)
  })

  it('charges a CTE to the CTE Scans that read it', async () => {
    const json = (await explain('analyze, format json', ANALYZED[2]![1])) as Record<string, unknown>[]
    const tree = planModel(json).plans[0]!
    const cte = tree.nodes.find((node) => node.subplan === 'CTE c')!
    const scans = tree.nodes.filter((node) => node.raw['Node Type'] === 'CTE Scan')
    expect(scans).toHaveLength(2)
    const charged = scans.reduce((sum, scan) => sum + scan.inclusiveMs! - scan.exclusiveMs!, 0)
    expect(charged).toBeCloseTo(
      Math.min(cte.inclusiveMs!, scans[0]!.inclusiveMs! + scans[1]!.inclusiveMs!),
      9,
    )
  })

  it('divides a parallel section by its processes and names the workers', async () => {
    const json = (await explain('analyze, format json', ANALYZED[3]![1], PARALLEL)) as Record<
      string,
      unknown
    >[]
    const tree = planModel(json).plans[0]!
    const gather = tree.nodes.find((node) => node.raw['Node Type'] === 'Gather')!
    const launched = gather.raw['Workers Launched'] as number
    expect(gather.notes).toContain(`Workers: ${launched} launched of 2 planned`)
    const scan = tree.nodes.find((node) => node.title === 'Parallel Seq Scan')!
    expect(scan.processes).toBe(scan.actual!.loops)
    expect(gather.processes).toBe(1)
  })

  it('shows pruned partitions on the Append', async () => {
    const json = (await explain('analyze, format json', ANALYZED[4]![1])) as Record<string, unknown>[]
    const tree = planModel(json).plans[0]!
    const scans = tree.nodes.filter((node) => node.detail.startsWith('on m_'))
    expect(scans.map((node) => node.detail)).toEqual(['on m_2026 m'])
  })

  it('names VERBOSE relations with their schema and writes BUFFERS as text EXPLAIN does', async () => {
    const json = await explain('analyze, verbose, buffers, format json', ANALYZED[0]![1])
    const tree = planModel(json).plans[0]!
    checkTimeInvariants(tree, (json as Record<string, unknown>[])[0]!.Plan as Record<string, unknown>)
    const scans = tree.nodes.filter((node) => node.raw['Node Type'] === 'Seq Scan')
    expect(scans.map((node) => node.detail).sort()).toEqual([`on ${SCHEMA}.a`, `on ${SCHEMA}.b`])
    expect(tree.nodes.some((node) => node.notes.some((note) => /^Buffers: shared hit=\d+/.test(note)))).toBe(
      true,
    )
    expect(tree.root.notes.some((note) => note.startsWith('Output: '))).toBe(true)
  })

  it('measures by cost without ANALYZE: no slowest node, the costliest by exclusive cost', async () => {
    const json = await explain('format json', ANALYZED[1]![1])
    const tree = planModel(json).plans[0]!
    expect(tree.measure).toBe('cost')
    expect(tree.slowest).toBeUndefined()
    expect(tree.nodes.every((node) => node.actual === undefined && node.exclusiveMs === undefined)).toBe(true)
    const costs = tree.nodes.map((node) =>
      Math.max(0, node.totalCost - node.children.reduce((sum, child) => sum + child.totalCost, 0)),
    )
    expect(tree.nodes.map((node) => node.exclusiveCost)).toEqual(costs)
    expect(tree.costliest.exclusiveCost).toBe(Math.max(...costs))
    expect(tree.planningMs).toBeUndefined()
  })

  it('measures by cost with TIMING OFF, keeping the actual rows and loops', async () => {
    const json = await explain('analyze, timing off, format json', ANALYZED[5]![1], ANALYZED[5]![2])
    const tree = planModel(json).plans[0]!
    expect(tree.measure).toBe('cost')
    expect(tree.slowest).toBeUndefined()
    expect(tree.nodes.some((node) => (node.actual?.loops ?? 0) > 1)).toBe(true)
  })

  it('reads the plan from its JSON text as from the decoded value, and from array rows', async () => {
    const json = await explain('analyze, format json', ANALYZED[0]![1])
    const fromText = planModel(JSON.stringify(json))
    expect(fromText.plans[0]!.nodes.map((n) => n.exclusiveMs)).toEqual(
      planModel(json).plans[0]!.nodes.map((n) => n.exclusiveMs),
    )
    const [result] = await client.simpleQuery('explain (format json) select 1', { rowMode: 'array' })
    expect(planModel(explainJsonOf(result!)).plans[0]!.root.title).toBe('Result')
  })

  it('tells a plan from other results: text EXPLAIN, a json column of another name, two rows', async () => {
    const [text] = await client.simpleQuery('explain select 1')
    expect(explainJsonOf(text!)).toBeUndefined()
    const [other] = await client.simpleQuery(`select '[{"Plan": {}}]'::json as plan`)
    expect(explainJsonOf(other!)).toBeUndefined()
    const [two] = await client.simpleQuery(`select '[]'::json as "QUERY PLAN" union all select '[]'::json`)
    expect(explainJsonOf(two!)).toBeUndefined()
    const [jsonb] = await client.simpleQuery(`select '[]'::jsonb as "QUERY PLAN"`)
    expect(explainJsonOf(jsonb!)).toBeUndefined()
  })
})

describe('planModel on bad input', () => {
  it('says what it expected and found', () => {
    expect(() => planModel('not json')).toThrow(
      'expected EXPLAIN (FORMAT JSON) output, found text that is not JSON',
    )
    expect(() => planModel({})).toThrow(
      'expected EXPLAIN (FORMAT JSON) output (an array of plans), found object',
    )
    expect(() => planModel([])).toThrow('found an array')
    expect(() => planModel([{ Plan: { 'Node Type': 1 } }])).toThrow(
      'expected a "Node Type" in Plan, found number',
    )
    expect(() => planModel([{ Plan: { 'Node Type': 'Result', 'Total Cost': '1' } }])).toThrow(
      'expected "Total Cost" in Plan (Result) to be a number, found the text "1"',
    )
  })

  it('throws only its own errors for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        try {
          planModel(value)
        } catch (error) {
          expect((error as Error).message).toMatch(/^expected /)
        }
      }),
    )
  })
})

/** One random analysed node with `children`: InitPlans read by name, CTEs read by CTE Scans. */
const rawNode = (children: fc.Arbitrary<Record<string, unknown>[]>) =>
  fc
    .record({
      type: fc.constantFrom('Seq Scan', 'Hash Join', 'Sort', 'Gather', 'CTE Scan', 'Result'),
      total: fc.double({ min: 0, max: 1000, noNaN: true }),
      loops: fc.integer({ min: 0, max: 5 }),
      relationship: fc.constantFrom('Outer', 'Inner', 'InitPlan', 'SubPlan'),
      subplan: fc.constantFrom(undefined, 'InitPlan 1', 'InitPlan 2', 'CTE c', 'SubPlan 1'),
      filter: fc.constantFrom(undefined, '(x > (InitPlan 1).col1)', '(y = (InitPlan 2).col1)'),
      cte: fc.constantFrom(undefined, 'c'),
      children,
    })
    .map((n) => ({
      'Node Type': n.type,
      'Parent Relationship': n.relationship,
      ...(n.subplan === undefined ? {} : { 'Subplan Name': n.subplan }),
      ...(n.filter === undefined ? {} : { Filter: n.filter }),
      ...(n.cte === undefined ? {} : { 'CTE Name': n.cte }),
      'Startup Cost': 0,
      'Total Cost': n.total,
      'Plan Rows': 1,
      'Actual Total Time': n.total,
      'Actual Rows': 1,
      'Actual Loops': n.loops,
      Plans: n.children,
    }))

const rawPlan = fc.letrec<{ node: Record<string, unknown> }>((tie) => ({
  node: fc.oneof(
    { maxDepth: 5, depthIdentifier: 'plan' },
    rawNode(fc.constant([])),
    rawNode(fc.array(tie('node'), { maxLength: 3, depthIdentifier: 'plan' })),
  ),
}))

describe('planModel on random plan trees', () => {
  it('gives exclusive times that add up to the root, the slowest as their maximum, shares adding to 1', () => {
    fc.assert(
      fc.property(rawPlan.node, (root) => {
        const tree = planModel([{ Plan: root }]).plans[0]!
        const rootTime = tree.root.inclusiveMs!
        const total = tree.nodes.reduce((sum, node) => sum + node.exclusiveMs!, 0)
        expect(Math.abs(total - rootTime)).toBeLessThanOrEqual(1e-9 * Math.max(1, tree.nodes.length * 5000))
        const max = Math.max(...tree.nodes.map((node) => node.exclusiveMs!))
        expect(tree.slowest!.exclusiveMs).toBe(max)
        const shares = tree.nodes.reduce((sum, node) => sum + node.share, 0)
        expect(shares === 0 || Math.abs(shares - 1) < 1e-9).toBe(true)
        expect(tree.nodes.map((node) => node.index)).toEqual(tree.nodes.map((_, n) => n))
      }),
    )
  })
})
