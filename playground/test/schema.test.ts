/**
 * The schema browser in real headless Chromium: the page reads the catalog through the relay over its own
 * session and shows schemas, tables, views, columns and indexes; a click drafts a query with the names
 * quoted; DDL run in the page shows without a refresh; a failed catalog read says why in the panel.
 */
import type { Page } from 'playwright'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { admin } from '../../test/pg-admin.ts'
import { editorText, openPage, runSql, texts, usePlayground, withPage } from './page.ts'

const SCHEMA = 'schema_browser_test'
const ODD = 'odd schema'
const CAPPED = 'schema_browser_capped'

beforeAll(async () => {
  await admin(`
    drop schema if exists ${SCHEMA} cascade;
    drop schema if exists "${ODD}" cascade;
    drop schema if exists ${CAPPED} cascade;
    create schema ${SCHEMA};
    create table ${SCHEMA}.orders (id bigint primary key, customer text not null, note text, placed date default current_date);
    create index orders_customer on ${SCHEMA}.orders (customer);
    insert into ${SCHEMA}.orders select i, 'c' || i, null from generate_series(1, 250) i;
    analyze ${SCHEMA}.orders;
    create view ${SCHEMA}.big_orders as select id, customer from ${SCHEMA}.orders where id > 100;
    create schema "${ODD}";
    create table "${ODD}"."Mixed Case""Q" (id int primary key, "Label" text not null);
    insert into "${ODD}"."Mixed Case""Q" values (1, 'one');
  `)
})

afterAll(async () => {
  await admin(
    `drop schema if exists ${SCHEMA} cascade; drop schema if exists "${ODD}" cascade; drop schema if exists ${CAPPED} cascade`,
  )
})

// After the hooks above: started after the schemas are made, stopped before they are dropped.
const playground = usePlayground()

/** The table's entry in the tree, once the browser shows it. */
const relation = (schema: string, table: string) =>
  `#schema details.schema-relation[data-schema=${JSON.stringify(schema)}][data-table=${JSON.stringify(table)}]`

/** Opens a table's entry (clicking its summary beside the name, which drafts instead). */
async function expand(page: Page, schema: string, table: string) {
  const entry = relation(schema, table)
  await page.waitForSelector(entry)
  await page.click(`${entry} > summary > :is(.schema-estimate, .schema-kind)`)
  await page.waitForSelector(`${entry}[open] .schema-columns`)
}

describe('schema browser', () => {
  it(
    'shows tables and views with estimates, columns with types and NOT NULL, and indexes',
    withPage(playground, async (page) => {
      expect(await page.textContent('#schema')).toBe('not connected')
      await runSql(page, 'select 1')
      await expand(page, SCHEMA, 'orders')
      const orders = relation(SCHEMA, 'orders')
      expect(await page.textContent(`${orders} .schema-estimate`)).toBe('~250 rows')
      const columns = await page.$$eval(`${orders} .schema-column`, (items) =>
        items.map((item) => [...item.children].map((child) => child.textContent)),
      )
      expect(columns).toEqual([
        ['id', 'bigint', 'not null', 'PK'],
        ['customer', 'text', 'not null'],
        ['note', 'text', 'null'],
        ['placed', 'date', 'null', 'default CURRENT_DATE'],
      ])
      expect(await texts(page, `${orders} .index-name`)).toEqual(['orders_customer', 'orders_pkey'])
      expect(await texts(page, `${orders} .index-definition`)).toEqual([
        `CREATE INDEX orders_customer ON ${SCHEMA}.orders USING btree (customer)`,
        `CREATE UNIQUE INDEX orders_pkey ON ${SCHEMA}.orders USING btree (id)`,
      ])
      await expand(page, SCHEMA, 'big_orders')
      expect(await page.textContent(`${relation(SCHEMA, 'big_orders')} .schema-kind`)).toBe('view')
      expect(await texts(page, `${relation(SCHEMA, 'big_orders')} .column-name`)).toEqual(['id', 'customer'])
      const schemas = await page.$$eval('#schema details.schema-node', (nodes) =>
        nodes.map((node) => (node as HTMLElement).dataset.schema),
      )
      expect(schemas).toEqual(expect.arrayContaining(['public', SCHEMA, ODD]))
      expect(schemas.filter((name) => name?.startsWith('pg_') || name === 'information_schema')).toEqual([])
    }),
  )

  it(
    'drafts select * from the clicked table, quoting names that need it, and the draft runs',
    withPage(playground, async (page) => {
      await page.click('#connect')
      await page.waitForSelector(relation(SCHEMA, 'orders'))
      await page.click(`${relation(SCHEMA, 'orders')} button.schema-table`)
      expect(await editorText(page)).toBe(`select * from ${SCHEMA}.orders limit 100`)
      expect(await page.getAttribute(relation(SCHEMA, 'orders'), 'open')).toBeNull()
      await page.click(`${relation(ODD, 'Mixed Case"Q')} button.schema-table`)
      const drafted = await editorText(page)
      expect(drafted).toBe('select * from "odd schema"."Mixed Case""Q" limit 100')
      await page.click('#run')
      await page.waitForSelector('#run:not([disabled])')
      expect(await page.isVisible('#error')).toBe(false)
      expect(await page.textContent('#results')).toContain('one')
    }),
  )

  it(
    'shows a table created by a run in the page without a refresh, and one created elsewhere on refresh',
    withPage(playground, async (page) => {
      await runSql(page, `create table ${SCHEMA}.added_here (n int not null)`)
      await expand(page, SCHEMA, 'added_here')
      expect(await texts(page, `${relation(SCHEMA, 'added_here')} .schema-column > span`)).toEqual([
        'n',
        'integer',
        'not null',
      ])
      expect(await page.textContent(`${relation(SCHEMA, 'added_here')} .schema-estimate`)).toBe(
        'not analysed',
      )
      await admin(`create table ${SCHEMA}.added_elsewhere (n int)`)
      await page.click('#schema-refresh')
      await page.waitForSelector(relation(SCHEMA, 'added_elsewhere'))
      // The open entry stays open across reloads.
      expect(await page.getAttribute(relation(SCHEMA, 'added_here'), 'open')).toBe('')
    }),
  )

  it(
    "waits while the editor's transaction is open (a read would take its snapshot or fail), reads after ROLLBACK, and says when it is disconnected",
    withPage(playground, async (page) => {
      await runSql(page, 'begin; select 1/0')
      await page.waitForSelector('#schema .schema-note')
      expect(await page.textContent('#schema .schema-note')).toBe(
        'paused while a transaction is open in the editor: read again after COMMIT or ROLLBACK',
      )
      await runSql(page, 'rollback')
      await page.waitForSelector(relation(SCHEMA, 'orders'))
      await page.click('#disconnect')
      await page.waitForFunction(() => document.getElementById('schema')?.textContent === 'not connected')
    }),
  )

  it('draws at most 500 tables of a schema and says how many more there are', async () => {
    await admin(`
      create schema ${CAPPED};
      do $$ begin
        for i in 1..501 loop execute format('create table ${CAPPED}.t%s (n int)', lpad(i::text, 3, '0')); end loop;
      end $$;
    `)
    const { page, problems } = await openPage(playground)
    await page.click('#connect')
    const capped = `#schema details.schema-node[data-schema="${CAPPED}"]`
    await page.waitForSelector(capped)
    expect(await page.$$eval(`${capped} details.schema-relation`, (items) => items.length)).toBe(500)
    expect(await page.textContent(`${capped} .schema-count`)).toBe('501 relations')
    expect(await page.textContent(`${capped} .schema-more`)).toBe(
      'and 1 more not shown (the first 500 by name)',
    )
    expect(problems).toEqual([])
    await page.context().close()
    await admin(`drop schema ${CAPPED} cascade`)
  })

  it(
    'never reads inside the transaction the editor opened: BEGIN, then SET TRANSACTION ISOLATION LEVEL in the next run works (as in psql)',
    withPage(playground, async (page) => {
      await runSql(page, 'select 1')
      await page.waitForSelector('#schema:not([aria-busy]) .schema-tree')
      await runSql(page, 'begin')
      await page.click('#schema-refresh')
      await runSql(page, 'set transaction isolation level serializable')
      expect(await page.isHidden('#error')).toBe(true)
      expect(await runSql(page, 'show transaction_isolation')).toMatch(/^1 statement/)
      expect(await page.textContent('#results .grid-row .cell[data-column="0"]')).toBe('serializable')
      await runSql(page, 'rollback')
      await page.waitForSelector('#schema:not([aria-busy]) .schema-tree')
      expect(await page.$('#schema .schema-note')).toBeNull()
    }),
  )
})
