/**
 * EXPLAIN (FORMAT JSON) as numbers the plan tree draws: every node with its label, its measurements, its
 * inclusive and exclusive time (or cost, without ANALYZE) and the slowest node. Pure: no DOM, so it is tested
 * in Node against real plans.
 *
 * Time accounting (ANALYZE): a node's "Actual Total Time" is per loop, so its inclusive time is that × loops;
 * inside a parallel section (under Gather / Gather Merge) the numbers are summed over the processes, so they
 * are divided by the number of processes to stay comparable with the Gather's wall-clock time. A node's
 * exclusive time is its inclusive time minus what it spent in the nodes it ran. Most children run inside
 * their parent, but an InitPlan runs inside the node that first reads its value (found by its name in the
 * node's expressions) and a CTE inside the CTE Scans that read it: their time is taken from those nodes.
 * Each node's inclusive time is subtracted exactly once, so the exclusive times add up to the root's.
 */

/** One node of a plan, as drawn. */
export interface PlanNode {
  /** Position in pre-order (the root is 0). */
  index: number
  depth: number
  /** `Node Type`, with the prefixes text EXPLAIN shows (`Parallel Seq Scan`, `Partial HashAggregate`). */
  title: string
  /** What it works on: `on public.t t1`, `using t_pkey`, `Left`, `CTE c`… (may be empty). */
  detail: string
  /** `Subplan Name` (`InitPlan 1`, `SubPlan 2`, `CTE c`), when it is one. */
  subplan: string | undefined
  /** Conditions and counters worth a line under the node (filters, keys, buffers, workers, removed rows). */
  notes: string[]
  startupCost: number
  totalCost: number
  planRows: number
  /** With ANALYZE. */
  actual:
    | {
        /** Per loop, ms; undefined with TIMING OFF. */
        totalMs: number | undefined
        /** Per loop (PostgreSQL 18 gives a fraction). */
        rows: number
        loops: number
      }
    | undefined
  /** Processes the node's numbers are summed over (1 outside a parallel section). */
  processes: number
  /** Time spent in this node and everything it ran, ms (undefined without timing). */
  inclusiveMs: number | undefined
  /** Time spent in this node itself, ms (undefined without timing; can dip below 0 by rounding). */
  exclusiveMs: number | undefined
  /** Total cost minus the children's total cost (never below 0). */
  exclusiveCost: number
  /** This node's part of the whole (exclusive time, or exclusive cost without timing), 0…1. */
  share: number
  children: PlanNode[]
  /** The node as PostgreSQL gave it. */
  raw: Readonly<Record<string, unknown>>
}

/** One statement's plan (EXPLAIN gives several when rules rewrite the statement). */
export interface PlanTree {
  root: PlanNode
  /** Every node in pre-order (`nodes[n].index === n`). */
  nodes: PlanNode[]
  /** `'time'` with ANALYZE and timing, `'cost'` otherwise. */
  measure: 'time' | 'cost'
  /** The node with the highest exclusive time (first in pre-order on a tie); only when measured by time. */
  slowest: PlanNode | undefined
  /** The node with the highest exclusive cost (first in pre-order on a tie). */
  costliest: PlanNode
  planningMs: number | undefined
  executionMs: number | undefined
  /** Lines about the whole statement: triggers, JIT, serialization, planning buffers. */
  notes: string[]
}

/** Every plan of one EXPLAIN (FORMAT JSON) result. */
export interface PlanModel {
  plans: PlanTree[]
}

type Raw = Readonly<Record<string, unknown>>

/** A query result as far as telling a plan apart needs it (`QueryResult` fits). */
export interface ResultShape {
  fields: readonly { name: string; typeOid: number }[]
  rows: readonly unknown[]
}

/** The `json` type's OID: EXPLAIN (FORMAT JSON) returns its one column as json. */
const JSON_OID = 114

/**
 * The plan in an EXPLAIN (FORMAT JSON) result (one `json` column named `QUERY PLAN`, one row; object or
 * array rows, the value decoded or as text), or undefined for any other result.
 */
export function explainJsonOf(result: ResultShape): unknown {
  const [field, ...others] = result.fields
  if (field === undefined || others.length > 0 || result.rows.length !== 1) return undefined
  if (field.name !== 'QUERY PLAN' || field.typeOid !== JSON_OID) return undefined
  const row = result.rows[0]
  const value = Array.isArray(row) ? row[0] : isRecord(row) ? row['QUERY PLAN'] : undefined
  return value === null ? undefined : value
}

const isRecord = (value: unknown): value is Raw =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

const describe = (value: unknown): string =>
  Array.isArray(value)
    ? 'an array'
    : value === null
      ? 'null'
      : typeof value === 'string'
        ? `the text ${JSON.stringify(value.slice(0, 40))}`
        : typeof value

/**
 * Reads EXPLAIN (FORMAT JSON) output: the decoded value (an array of `{ "Plan": … }`) or its JSON text.
 * Throws an `Error` saying what it expected and found when the value is not a plan.
 */
export function planModel(json: unknown): PlanModel {
  let value = json
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value)
    } catch {
      throw new Error(`expected EXPLAIN (FORMAT JSON) output, found text that is not JSON`)
    }
  }
  if (!Array.isArray(value) || value.length === 0)
    throw new Error(`expected EXPLAIN (FORMAT JSON) output (an array of plans), found ${describe(value)}`)
  return {
    plans: value.map((entry, n) => {
      if (!isRecord(entry) || !isRecord(entry.Plan))
        throw new Error(`expected { "Plan": … } at plan ${n}, found ${describe(entry)}`)
      return planTree(entry)
    }),
  }
}

function planTree(entry: Raw): PlanTree {
  const nodes: PlanNode[] = []
  const root = readNode(entry.Plan as Raw, 0, 1, nodes, 'Plan')
  const measure = nodes.every((node) => node.inclusiveMs !== undefined) ? 'time' : 'cost'
  if (measure === 'time') assignExclusiveTimes(nodes)
  else for (const node of nodes) node.inclusiveMs = node.exclusiveMs = undefined
  for (const node of nodes) {
    node.exclusiveCost = Math.max(0, node.totalCost - sum(node.children.map((child) => child.totalCost)))
  }
  const weight = (node: PlanNode) => Math.max(0, measure === 'time' ? node.exclusiveMs! : node.exclusiveCost)
  const whole = sum(nodes.map(weight))
  for (const node of nodes) node.share = whole > 0 ? weight(node) / whole : 0
  const highest = (value: (node: PlanNode) => number) =>
    nodes.reduce((best, node) => (value(node) > value(best) ? node : best))
  return {
    root,
    nodes,
    measure,
    slowest: measure === 'time' ? highest((node) => node.exclusiveMs!) : undefined,
    costliest: highest((node) => node.exclusiveCost),
    planningMs: optionalNumber(entry, 'Planning Time', 'the plan'),
    executionMs: optionalNumber(entry, 'Execution Time', 'the plan'),
    notes: statementNotes(entry),
  }
}

function readNode(raw: Raw, depth: number, processes: number, nodes: PlanNode[], where: string): PlanNode {
  const type = raw['Node Type']
  if (typeof type !== 'string') throw new Error(`expected a "Node Type" in ${where}, found ${describe(type)}`)
  const place = `${where} (${type})`
  const loops = optionalNumber(raw, 'Actual Loops', place)
  const totalMs = optionalNumber(raw, 'Actual Total Time', place)
  const actual =
    loops === undefined ? undefined : { totalMs, rows: optionalNumber(raw, 'Actual Rows', place) ?? 0, loops }
  const node: PlanNode = {
    index: nodes.length,
    depth,
    title: title(raw, type),
    detail: detail(raw),
    subplan: typeof raw['Subplan Name'] === 'string' ? raw['Subplan Name'] : undefined,
    notes: nodeNotes(raw),
    startupCost: optionalNumber(raw, 'Startup Cost', place) ?? 0,
    totalCost: optionalNumber(raw, 'Total Cost', place) ?? 0,
    planRows: optionalNumber(raw, 'Plan Rows', place) ?? 0,
    actual,
    processes,
    inclusiveMs: actual?.totalMs === undefined ? undefined : (actual.totalMs * actual.loops) / processes,
    exclusiveMs: undefined,
    exclusiveCost: 0,
    share: 0,
    children: [],
    raw,
  }
  nodes.push(node)
  const children = raw.Plans ?? []
  if (!Array.isArray(children)) throw new Error(`expected "Plans" in ${place} to be an array`)
  const isGather = type === 'Gather' || type === 'Gather Merge'
  const parallel = isGather ? parallelProcesses(raw, children) : processes
  for (const child of children) {
    if (!isRecord(child))
      throw new Error(`expected plan nodes in "Plans" of ${place}, found ${describe(child)}`)
    // InitPlans of a Gather run in the leader alone; its Outer child runs in every process.
    const isParallel = isGather && child['Parent Relationship'] === 'Outer'
    node.children.push(readNode(child, depth + 1, isParallel ? parallel : processes, nodes, place))
  }
  return node
}

/** How many processes ran a Gather's section: its child's loops per Gather loop (workers + the leader). */
function parallelProcesses(gather: Raw, children: unknown[]): number {
  const outer = children.find((child) => isRecord(child) && child['Parent Relationship'] === 'Outer')
  const gatherLoops = gather['Actual Loops']
  const childLoops = isRecord(outer) ? outer['Actual Loops'] : undefined
  if (typeof gatherLoops !== 'number' || typeof childLoops !== 'number') return 1
  if (gatherLoops <= 0 || childLoops <= 0) return 1
  return Math.max(1, childLoops / gatherLoops)
}

/** Exclusive time: inclusive minus what each node's children (and the subplans it ran) took. */
function assignExclusiveTimes(nodes: PlanNode[]): void {
  const parent = new Map<PlanNode, PlanNode>()
  for (const node of nodes) for (const child of node.children) parent.set(child, node)
  const spent = new Map<PlanNode, number>(nodes.map((node) => [node, 0]))
  const charge = (node: PlanNode, ms: number) => spent.set(node, spent.get(node)! + ms)
  for (const node of nodes) {
    const attachedTo = parent.get(node)
    if (attachedTo === undefined) continue
    let left = node.inclusiveMs!
    if (node.subplan?.startsWith('CTE ')) {
      // The CTE runs as its scans read it: charge them, in plan order, up to what each took itself.
      const name = node.subplan.slice(4)
      for (const scan of within(attachedTo, node)) {
        if (left <= 0) break
        if (scan.raw['Node Type'] !== 'CTE Scan' || scan.raw['CTE Name'] !== name) continue
        const room = Math.max(0, scan.inclusiveMs! - sum(scan.children.map((c) => c.inclusiveMs!)))
        const share = Math.min(left, Math.max(0, room - spent.get(scan)!))
        charge(scan, share)
        left -= share
      }
      charge(attachedTo, left)
    } else if (node.raw['Parent Relationship'] === 'InitPlan' && node.subplan !== undefined) {
      charge(initPlanReader(attachedTo, node) ?? attachedTo, left)
    } else {
      charge(attachedTo, left)
    }
  }
  for (const node of nodes) node.exclusiveMs = node.inclusiveMs! - spent.get(node)!
}

/** `node` and its descendants in pre-order, leaving out the subtree `skip`. */
function* within(node: PlanNode, skip: PlanNode): Generator<PlanNode> {
  if (node === skip) return
  yield node
  for (const child of node.children) yield* within(child, skip)
}

/**
 * The node whose time includes an InitPlan's: the lowest node under `attachedTo` that holds every node whose
 * expressions name it (`(InitPlan 1).col1` since PostgreSQL 17, `$0` before), or undefined when none do.
 */
function initPlanReader(attachedTo: PlanNode, initPlan: PlanNode): PlanNode | undefined {
  const name = initPlan.subplan!
  const params = /\(returns (\$\d+(?:,\$\d+)*)\)/.exec(name)?.[1]?.split(',') ?? []
  const label = /^InitPlan \d+/.exec(name)?.[0]
  const patterns = [
    ...(label === undefined ? [] : [new RegExp(`\\(${label}\\)`)]),
    ...params.map((param) => new RegExp(`\\${param}(?!\\d)`)),
  ]
  if (patterns.length === 0) return undefined
  const paths: PlanNode[][] = []
  const visit = (node: PlanNode, path: PlanNode[]) => {
    if (node === initPlan) return
    const here = [...path, node]
    if (expressions(node.raw).some((text) => patterns.some((pattern) => pattern.test(text)))) paths.push(here)
    for (const child of node.children) visit(child, here)
  }
  visit(attachedTo, [])
  if (paths.length === 0) return undefined
  let common = paths[0]!
  for (const path of paths.slice(1)) {
    let n = 0
    while (n < common.length && n < path.length && common[n] === path[n]) n++
    common = common.slice(0, n)
  }
  return common.at(-1)
}

/** A node's expression texts: every string (or string in an array) but its names. */
function expressions(raw: Raw): string[] {
  const texts: string[] = []
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'Subplan Name' || key === 'Plans') continue
    if (typeof value === 'string') texts.push(value)
    else if (Array.isArray(value)) for (const item of value) if (typeof item === 'string') texts.push(item)
  }
  return texts
}

const AGGREGATE_NAMES: Record<string, string> = {
  Hashed: 'HashAggregate',
  Sorted: 'GroupAggregate',
  Mixed: 'MixedAggregate',
}

/** The node's name as text EXPLAIN writes it. */
function title(raw: Raw, type: string): string {
  let name = type
  if (type === 'Aggregate' && typeof raw.Strategy === 'string') name = AGGREGATE_NAMES[raw.Strategy] ?? type
  if (type === 'ModifyTable' && typeof raw.Operation === 'string') name = raw.Operation
  if (raw['Partial Mode'] === 'Partial' || raw['Partial Mode'] === 'Finalize')
    name = `${raw['Partial Mode']} ${name}`
  if (raw['Parallel Aware'] === true) name = `Parallel ${name}`
  if (raw['Scan Direction'] === 'Backward') name = `${name} Backward`
  return name
}

/** What the node works on. */
function detail(raw: Raw): string {
  const parts: string[] = []
  const text = (key: string) => (typeof raw[key] === 'string' ? (raw[key] as string) : undefined)
  if (text('Join Type') !== undefined && text('Join Type') !== 'Inner')
    parts.push(`${text('Join Type')} join`)
  if (text('Index Name') !== undefined) parts.push(`using ${text('Index Name')}`)
  const relation = text('Relation Name') ?? text('Function Name') ?? text('CTE Name')
  if (relation !== undefined) {
    const schema = text('Schema')
    const alias = text('Alias')
    parts.push(
      `on ${schema === undefined ? '' : `${schema}.`}${relation}${alias && alias !== relation ? ` ${alias}` : ''}`,
    )
  } else if (text('Alias') !== undefined) {
    parts.push(`on ${text('Alias')}`)
  }
  if (raw['Subplans Removed'] !== undefined) parts.push(`${raw['Subplans Removed']} partitions pruned`)
  return parts.join(' ')
}

const NOTE_KEYS = [
  'Hash Cond',
  'Merge Cond',
  'Join Filter',
  'Index Cond',
  'Recheck Cond',
  'Filter',
  'One-Time Filter',
  'Sort Key',
  'Group Key',
  'Cache Key',
] as const

const COUNTER_KEYS = [
  'Rows Removed by Filter',
  'Rows Removed by Join Filter',
  'Rows Removed by Index Recheck',
  'Heap Fetches',
] as const

function nodeNotes(raw: Raw): string[] {
  const notes: string[] = []
  for (const key of NOTE_KEYS) {
    const value = raw[key]
    if (typeof value === 'string') notes.push(`${key}: ${value}`)
    else if (Array.isArray(value)) notes.push(`${key}: ${value.join(', ')}`)
  }
  for (const key of COUNTER_KEYS) {
    if (typeof raw[key] === 'number' && raw[key] > 0) notes.push(`${key}: ${raw[key]}`)
  }
  if (typeof raw['Workers Planned'] === 'number') {
    const launched = raw['Workers Launched']
    notes.push(
      typeof launched === 'number'
        ? `Workers: ${launched} launched of ${raw['Workers Planned']} planned`
        : `Workers: ${raw['Workers Planned']} planned`,
    )
  }
  const buffers = bufferNote(raw)
  if (buffers !== undefined) notes.push(buffers)
  if (typeof raw['Sort Method'] === 'string') notes.push(`Sort Method: ${raw['Sort Method']}`)
  if (Array.isArray(raw.Output)) notes.push(`Output: ${raw.Output.join(', ')}`)
  return notes
}

/** `Buffers: shared hit=499 read=3`, as text EXPLAIN writes it; undefined without BUFFERS or when all 0. */
function bufferNote(raw: Raw): string | undefined {
  const groups: string[] = []
  for (const scope of ['Shared', 'Local', 'Temp']) {
    const counts = ['Hit', 'Read', 'Dirtied', 'Written']
      .map((what) => [what.toLowerCase(), raw[`${scope} ${what} Blocks`]] as const)
      .filter(([, n]) => typeof n === 'number' && n > 0)
      .map(([what, n]) => `${what}=${n}`)
    if (counts.length > 0) groups.push(`${scope.toLowerCase()} ${counts.join(' ')}`)
  }
  return groups.length === 0 ? undefined : `Buffers: ${groups.join(', ')}`
}

function statementNotes(entry: Raw): string[] {
  const notes: string[] = []
  if (isRecord(entry.Planning)) {
    const buffers = bufferNote(entry.Planning)
    if (buffers !== undefined) notes.push(`Planning ${buffers}`)
  }
  if (Array.isArray(entry.Triggers)) {
    for (const trigger of entry.Triggers) {
      if (!isRecord(trigger)) continue
      const on = typeof trigger.Relation === 'string' ? ` on ${trigger.Relation}` : ''
      notes.push(
        `Trigger ${trigger['Trigger Name']}${on}: ${formatMs(trigger.Time)} × ${trigger.Calls} calls`,
      )
    }
  }
  if (isRecord(entry.JIT) && isRecord(entry.JIT.Timing)) {
    const total = entry.JIT.Timing.Total
    notes.push(`JIT: ${entry.JIT.Functions} functions, ${formatMs(total)}`)
  }
  if (isRecord(entry.Serialization)) notes.push(`Serialization: ${formatMs(entry.Serialization.Time)}`)
  return notes
}

const formatMs = (value: unknown) => (typeof value === 'number' ? `${value.toFixed(3)} ms` : '? ms')

function optionalNumber(raw: Raw, key: string, where: string): number | undefined {
  const value = raw[key]
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new Error(`expected "${key}" in ${where} to be a number, found ${describe(value)}`)
  return value
}

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0)
