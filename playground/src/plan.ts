/**
 * EXPLAIN (FORMAT JSON) as a plan tree: the results view asks every result whether it is a JSON plan; when
 * it is, {@link planView} returns the tree to show in place of the grid. The numbers come from
 * `plan-model.ts`; everything goes into the DOM as text nodes.
 */
import type { QueryResult } from '@edgepg/client'
import { tag } from './dom.ts'
import { explainJsonOf, type PlanModel, type PlanNode, type PlanTree, planModel } from './plan-model.ts'

/**
 * The plan tree for an EXPLAIN (FORMAT JSON) result, or undefined for any other result (the grid shows it).
 * Each node shows its time and rows (with ANALYZE) or its estimated cost and rows; the node with the highest
 * exclusive time has the class `slowest` (`costliest`, by exclusive cost, without timing).
 */
export function planView(result: QueryResult): HTMLElement | undefined {
  const json = explainJsonOf(result)
  if (json === undefined) return undefined
  let model: PlanModel
  try {
    model = planModel(json)
  } catch {
    return undefined
  }
  const view = tag('div', { className: 'plan' })
  for (const tree of model.plans) view.append(treeView(tree))
  return view
}

function treeView(tree: PlanTree): HTMLElement {
  const highlighted = tree.measure === 'time' ? tree.slowest : tree.costliest
  const summary: string[] = []
  if (tree.planningMs !== undefined) summary.push(`planning ${ms(tree.planningMs)}`)
  if (tree.executionMs !== undefined) summary.push(`execution ${ms(tree.executionMs)}`)
  if (tree.measure === 'cost') {
    summary.push(
      tree.root.actual === undefined
        ? 'estimated plan (no ANALYZE): costs in planner units'
        : 'no timing (TIMING OFF): shares by estimated cost',
    )
  }
  if (highlighted !== undefined) {
    const amount =
      tree.measure === 'time' ? ms(highlighted.exclusiveMs!) : `cost ${highlighted.exclusiveCost.toFixed(2)}`
    summary.push(
      `${tree.measure === 'time' ? 'slowest' : 'costliest'}: ${label(highlighted)} (${amount} itself, ${percent(highlighted.share)})`,
    )
  }
  const section = tag(
    'div',
    { className: 'plan-statement' },
    tag('p', { className: 'plan-summary' }, summary.join(' · ')),
  )
  if (tree.notes.length > 0) {
    section.append(
      tag('ul', { className: 'plan-statement-notes' }, ...tree.notes.map((note) => tag('li', {}, note))),
    )
  }
  section.append(nodeView(tree.root, tree, highlighted))
  return section
}

function nodeView(node: PlanNode, tree: PlanTree, highlighted: PlanNode | undefined): HTMLElement {
  const element = tag('div', { className: 'plan-node' })
  if (node === highlighted) element.classList.add(tree.measure === 'time' ? 'slowest' : 'costliest')
  const isNeverRun = node.actual !== undefined && node.actual.loops === 0
  if (isNeverRun) element.classList.add('never')
  element.dataset.index = String(node.index)
  element.dataset.nodeType = String(node.raw['Node Type'])
  if (node.actual !== undefined) {
    element.dataset.loops = String(node.actual.loops)
    element.dataset.rows = String(node.actual.rows)
    if (node.actual.totalMs !== undefined) element.dataset.totalMs = String(node.actual.totalMs)
  }
  if (node.exclusiveMs !== undefined) element.dataset.exclusiveMs = String(node.exclusiveMs)

  const line = tag('div', { className: 'plan-line' })
  const children = tag('div', { className: 'plan-children' })
  if (node.children.length > 0) {
    const toggle = tag('button', { type: 'button', className: 'plan-collapse', title: 'collapse' }, '▾')
    toggle.setAttribute('aria-expanded', 'true')
    toggle.addEventListener('click', () => {
      const isOpen = children.hidden
      children.hidden = !isOpen
      toggle.setAttribute('aria-expanded', String(isOpen))
      toggle.textContent = isOpen ? '▾' : '▸'
      toggle.title = isOpen ? 'collapse' : 'expand'
    })
    line.append(toggle)
  } else {
    line.append(tag('span', { className: 'plan-collapse plan-leaf' }))
  }
  if (node.subplan !== undefined) line.append(tag('span', { className: 'plan-subplan' }, node.subplan))
  line.append(tag('span', { className: 'plan-title' }, node.title))
  if (node.detail !== '') line.append(tag('span', { className: 'plan-detail' }, node.detail))
  line.append(numbers(node, isNeverRun))
  const bar = tag('span', { className: 'plan-bar', title: `${percent(node.share)} of the whole` })
  const fill = tag('span', { className: 'plan-bar-fill' })
  fill.style.width = `${(node.share * 100).toFixed(1)}%`
  bar.append(fill)
  line.append(bar)
  element.append(line)
  if (node.notes.length > 0) {
    element.append(tag('ul', { className: 'plan-notes' }, ...node.notes.map((note) => tag('li', {}, note))))
  }
  if (node.children.length > 0) {
    children.append(...node.children.map((child) => nodeView(child, tree, highlighted)))
    element.append(children)
  }
  return element
}

function numbers(node: PlanNode, isNeverRun: boolean): HTMLElement {
  const box = tag('span', { className: 'plan-numbers' })
  const cost = `cost ${node.startupCost.toFixed(2)}..${node.totalCost.toFixed(2)}`
  if (isNeverRun) {
    box.append(tag('span', { className: 'plan-rows' }, 'never executed'))
  } else if (node.actual !== undefined) {
    if (node.inclusiveMs !== undefined) {
      box.append(
        tag('span', { className: 'plan-time', title: 'time in this node and below' }, ms(node.inclusiveMs)),
        tag(
          'span',
          { className: 'plan-self', title: 'time in this node itself' },
          `self ${ms(Math.max(0, node.exclusiveMs!))}`,
        ),
      )
    }
    const loops = node.actual.loops === 1 ? '1 loop' : `${count(node.actual.loops)} loops`
    box.append(
      tag('span', { className: 'plan-rows' }, `${rows(node.actual.rows)} × ${loops}`),
      tag('span', { className: 'plan-estimate', title: cost }, `est. ${count(node.planRows)}`),
    )
    if (node.processes > 1)
      box.append(tag('span', { className: 'plan-processes' }, `÷ ${count(node.processes)} processes`))
  } else {
    box.append(
      tag('span', { className: 'plan-cost' }, cost),
      tag('span', { className: 'plan-estimate' }, `est. ${rows(node.planRows)}`),
    )
  }
  return box
}

const label = (node: PlanNode) => (node.detail === '' ? node.title : `${node.title} ${node.detail}`)
const ms = (value: number) => `${value.toFixed(3)} ms`
const percent = (share: number) => `${(share * 100).toFixed(share < 0.1 ? 1 : 0)}%`
const rows = (value: number) => `${count(value)} ${value === 1 ? 'row' : 'rows'}`
const count = (value: number) =>
  value.toLocaleString('en-US', { maximumFractionDigits: Number.isInteger(value) ? 0 : 2 })
