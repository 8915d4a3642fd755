/**
 * EXPLAIN (FORMAT JSON) drawn as a plan tree in real headless Chromium: nodes with times and rows, exactly
 * one slowest node (checked against the exclusive times computed here from the numbers the page shows, and
 * against the plan the server gives this test for the same query), collapsing, plain EXPLAIN by cost, and an
 * ordinary result still a grid.
 */
import type { Page } from 'playwright'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { admin } from '../../test/pg-admin.ts'
import { connectNodeClient, type NodeClient } from './node-client.ts'
import { runSql, usePlayground, withPage } from './page.ts'

const SCHEMA = 'plan_page_test'
// The scan's filter (md5 twice over 10,000 rows) takes most of the time by far, so the slowest node is the
// same in the page's run and in this test's run of the query.
const JOIN = `select c.name, count(*) from ${SCHEMA}.orders o join ${SCHEMA}.customers c on c.id = o.customer_id
  where md5(md5(o.amount::text)) like '%ab%' group by c.name`
let node: NodeClient

beforeAll(async () => {
  await admin(`
    drop schema if exists ${SCHEMA} cascade;
    create schema ${SCHEMA};
    create table ${SCHEMA}.customers (id int primary key, name text not null);
    insert into ${SCHEMA}.customers select i, 'customer ' || (i % 50) from generate_series(1, 1000) i;
    create table ${SCHEMA}.orders (id int primary key, customer_id int not null, amount numeric not null);
    insert into ${SCHEMA}.orders select i, (i % 1000) + 1, i * 1.5 from generate_series(1, 10000) i;
    analyze ${SCHEMA}.customers, ${SCHEMA}.orders;
  `)
  node = await connectNodeClient()
})

afterAll(async () => {
  await node?.close()
  await admin(`drop schema if exists ${SCHEMA} cascade`)
})

// After the hooks above: started after the tables are made, stopped before they are dropped.
const playground = usePlayground()

interface ShownNode {
  index: number
  type: string
  totalMs: number
  loops: number
  children: number[]
  isSlowest: boolean
}

/** The nodes as the page shows them: the numbers in their data attributes and their nesting. */
function shownNodes(page: Page): Promise<ShownNode[]> {
  return page.$$eval('#results .plan-node', (elements) =>
    elements.map((element) => {
      const node = element as HTMLElement
      const children = node.querySelectorAll(':scope > .plan-children > .plan-node')
      return {
        index: Number(node.dataset.index),
        type: node.dataset.nodeType ?? '',
        totalMs: Number(node.dataset.totalMs),
        loops: Number(node.dataset.loops),
        children: [...children].map((child) => Number((child as HTMLElement).dataset.index)),
        isSlowest: node.classList.contains('slowest'),
      }
    }),
  )
}

type RawNode = { 'Node Type': string; 'Actual Total Time': number; 'Actual Loops': number; Plans?: RawNode[] }

/** Pre-order node types and the index of the highest exclusive time, computed here from the server's JSON. */
function slowestOf(root: RawNode): { types: string[]; slowest: number } {
  const types: string[] = []
  let best = { index: -1, ms: Number.NEGATIVE_INFINITY }
  const visit = (node: RawNode) => {
    const index = types.push(node['Node Type']) - 1
    const own = node['Actual Total Time'] * node['Actual Loops']
    const children = (node.Plans ?? []).reduce(
      (sum, c) => sum + c['Actual Total Time'] * c['Actual Loops'],
      0,
    )
    if (own - children > best.ms) best = { index, ms: own - children }
    for (const child of node.Plans ?? []) visit(child)
  }
  visit(root)
  return { types, slowest: best.index }
}

describe('plan tree', () => {
  it(
    'draws EXPLAIN ANALYZE as a tree with times and rows and marks the node with the most time of its own',
    withPage(playground, async (page) => {
      await runSql(page, `explain (analyze, format json) ${JOIN}`)
      await page.waitForSelector('#results .plan-node')
      const nodes = await shownNodes(page)
      expect(nodes.length).toBeGreaterThanOrEqual(4)
      expect(nodes.map((node) => node.index)).toEqual(nodes.map((_, n) => n))
      for (const node of nodes) {
        expect(Number.isFinite(node.totalMs) && node.loops >= 1, node.type).toBe(true)
      }
      const lines = await page.$$eval('#results .plan-node > .plan-line', (els) =>
        els.map((e) => e.textContent),
      )
      for (const line of lines) expect(line).toMatch(/\d+\.\d{3} ms.*self \d+\.\d{3} ms.*rows? × \d+ loop/)
      expect(await page.textContent('#results .plan-summary')).toMatch(
        /^planning \d+\.\d{3} ms · execution \d+\.\d{3} ms · slowest: /,
      )

      // Exclusive time from the numbers shown: the node's total minus its children's, each × loops.
      const byIndex = new Map(nodes.map((node) => [node.index, node]))
      const exclusive = nodes.map(
        (node) =>
          node.totalMs * node.loops -
          node.children.reduce((sum, c) => sum + byIndex.get(c)!.totalMs * byIndex.get(c)!.loops, 0),
      )
      const slowest = nodes.filter((node) => node.isSlowest)
      expect(slowest).toHaveLength(1)
      expect(await page.$$eval('#results .slowest', (els) => els.length)).toBe(1)
      expect(slowest[0]!.index).toBe(exclusive.indexOf(Math.max(...exclusive)))

      // The same query's plan as the server gives it to this test: the same shape, the same slowest node.
      const [result] = await node.client.simpleQuery(`explain (analyze, format json) ${JOIN}`)
      const plan = (result!.rows[0]!['QUERY PLAN'] as { Plan: RawNode }[])[0]!.Plan
      const expected = slowestOf(plan)
      expect(nodes.map((node) => node.type)).toEqual(expected.types)
      expect(slowest[0]!.index).toBe(expected.slowest)
      expect(slowest[0]!.type).toBe('Seq Scan')
    }),
  )

  it(
    'collapses and expands a node’s children',
    withPage(playground, async (page) => {
      await runSql(page, `explain (analyze, format json) ${JOIN}`)
      await page.waitForSelector('#results .plan-node')
      const visible = () =>
        page.$$eval('#results .plan-node', (els) => els.filter((e) => e.checkVisibility()).length)
      const all = await visible()
      await page.click('#results .plan-node[data-index="0"] > .plan-line > .plan-collapse')
      expect(await visible()).toBe(1)
      expect(
        await page.getAttribute('#results .plan-node[data-index="0"] .plan-collapse', 'aria-expanded'),
      ).toBe('false')
      await page.click('#results .plan-node[data-index="0"] > .plan-line > .plan-collapse')
      expect(await visible()).toBe(all)
    }),
  )

  it(
    'draws EXPLAIN without ANALYZE by estimated cost with no slowest node, and other results as grids',
    withPage(playground, async (page) => {
      await runSql(page, `explain (format json) ${JOIN}; select 'not a plan' as "QUERY PLAN"`)
      await page.waitForSelector('#results .plan-node')
      expect(await page.$$eval('#results .slowest', (els) => els.length)).toBe(0)
      expect(await page.$$eval('#results .costliest', (els) => els.length)).toBe(1)
      expect(await page.textContent('#results .plan-summary')).toContain('estimated plan (no ANALYZE)')
      const lines = await page.$$eval('#results .plan-node > .plan-line', (els) =>
        els.map((e) => e.textContent),
      )
      for (const line of lines) expect(line).toMatch(/cost \d+\.\d{2}\.\.\d+\.\d{2}.*est\. [\d,]+ rows?/)
      expect(await page.$$eval('#results .plan', (els) => els.length)).toBe(1)
      expect(await page.textContent('#results')).toContain('not a plan')
    }),
  )
})
