/// <reference lib="dom" />
/**
 * `npm run screenshots`: the README's pictures of the playground, taken in Debian's headless Chromium from a
 * real page — an embedded PostgreSQL with a small demo schema, the relay serving the playground, the page
 * connecting through it — and written as PNGs to `docs/screenshots/` (or `--out DIR`). Each scene runs SQL
 * in the page as a user would and waits for what it shows.
 */
import { mkdir, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright'
import { openPage, setSql as pasteSql, startPlayground } from '../playground/test/page.ts'
import { startEmbeddedPostgres } from './embedded-pg.ts'

const args = process.argv.slice(2)
const outIndex = args.indexOf('--out')
const out =
  outIndex >= 0 && args[outIndex + 1]
    ? resolve(args[outIndex + 1]!)
    : fileURLToPath(new URL('../docs/screenshots/', import.meta.url))

/** Tables, a view and an index to browse, with rows to join and explain. */
const DEMO = `
create schema if not exists shop;
create table shop.customers (id int primary key generated always as identity, name text not null, email text unique, joined date not null default current_date);
create table shop.orders (id bigint primary key generated always as identity, customer_id int not null references shop.customers, total numeric(10, 2) not null, placed_at timestamptz not null default now(), note text);
create index orders_customer on shop.orders (customer_id);
insert into shop.customers (name, email, joined) select 'customer ' || g, 'c' || g || '@example.com', date '2026-01-01' + g % 300 from generate_series(1, 2000) g;
insert into shop.orders (customer_id, total, placed_at, note) select 1 + g % 2000, (g % 500) + 0.99, timestamptz '2026-06-01' + g * interval '1 minute', case when g % 7 = 0 then 'NULL' end from generate_series(1, 50000) g;
create view shop.big_spenders as select c.name, sum(o.total) as spent from shop.customers c join shop.orders o on o.customer_id = c.id group by c.name having sum(o.total) > 9000;
analyze;
`

/** A scene: what to do in a fresh page before the picture, at which window size. */
interface Scene {
  name: string
  width?: number
  height?: number
  theme?: 'light' | 'dark'
  act(page: Page): Promise<void>
}

const scenes: Scene[] = [
  {
    name: 'results',
    async act(page) {
      await run(
        page,
        `select c.name, count(*) as orders, sum(o.total) as spent, max(o.note) as note, null as nothing
from shop.customers c join shop.orders o on o.customer_id = c.id
group by c.name order by spent desc limit 8;
select 1 as a, 2 as a, 'NULL' as text_null, null as real_null;`,
      )
      await page.waitForSelector('#results .result:nth-child(2)')
    },
  },
  {
    name: 'error',
    async act(page) {
      await run(page, `select count(*) from shop.orders;\nselect name, totl from shop.customers;`)
      await page.waitForSelector('#error:not([hidden])')
    },
  },
  {
    name: 'plan',
    async act(page) {
      await run(
        page,
        `explain (analyze, format json)
select c.name, sum(o.total) from shop.customers c join shop.orders o on o.customer_id = c.id
where o.placed_at > now() - interval '200 days' group by c.name order by 2 desc limit 10`,
      )
      await page.waitForSelector('#results .slowest')
    },
  },
  {
    name: 'large',
    async act(page) {
      await run(
        page,
        'select g as n, md5(g::text) as hash, g % 7 = 0 as lucky from generate_series(1, 100000) g',
      )
      await page.waitForFunction(() => document.getElementById('summary')?.textContent?.includes('100000'))
    },
  },
  {
    name: 'schema',
    async act(page) {
      await run(page, 'select 1')
      await page.waitForFunction(() => document.getElementById('schema')?.textContent?.includes('customers'))
      await page.getByText('orders', { exact: true }).first().click()
    },
  },
  {
    name: 'listen',
    async act(page) {
      await run(page, 'select 1')
      await page.click('#tab-listen')
      const channel = page.locator('#listen input').first()
      await channel.fill('orders')
      await channel.press('Enter')
      await page.waitForFunction(() => document.getElementById('listen')?.textContent?.includes('orders'))
      await run(page, `select pg_notify('orders', 'order ' || g || ' placed') from generate_series(1, 3) g`)
      await page.waitForFunction(() =>
        document.getElementById('listen')?.textContent?.includes('order 3 placed'),
      )
    },
  },
  {
    name: 'sequence',
    async act(page) {
      await run(page, 'select now(); select count(*) from shop.orders')
      await page.click('#tab-sequence')
      await page.waitForSelector('#sequence svg')
    },
  },
  {
    name: 'completion',
    async act(page) {
      await run(page, 'select 1')
      await page.waitForFunction(() => document.getElementById('schema')?.textContent?.includes('customers'))
      await setSql(page, '')
      await page.keyboard.type('select name, em')
      await page.waitForSelector('.cm-tooltip-autocomplete')
      await page.keyboard.press('Escape')
      await page.keyboard.type('ail from shop.cu')
      await page.waitForSelector('.cm-tooltip-autocomplete')
    },
  },
  {
    name: 'dark',
    theme: 'dark',
    async act(page) {
      await run(page, 'select name, email, joined from shop.customers order by id limit 12')
      await page.waitForSelector('#results .grid-row')
    },
  },
  {
    name: 'narrow',
    width: 420,
    height: 900,
    async act(page) {
      await run(page, 'select id, total, placed_at from shop.orders order by id limit 5')
      await page.waitForSelector('#results .grid-row')
    },
  },
]

/** Puts `sql` in the editor with the cursor at its start (so a picture shows the start of each line). */
async function setSql(page: Page, sql: string): Promise<void> {
  await pasteSql(page, sql)
  await page.keyboard.press('ControlOrMeta+Home')
}

/** Puts `sql` in the editor and presses Run; waits until the run is over. */
async function run(page: Page, sql: string): Promise<void> {
  await setSql(page, sql)
  await page.click('#run')
  await page.waitForFunction(() => !document.getElementById('run')?.hasAttribute('disabled'))
}

const pg = await startEmbeddedPostgres()
const playground = await pg
  .admin(DEMO)
  .then(() => startPlayground({ server: pg }))
  .catch(async (error: unknown) => {
    await pg.stop()
    throw error
  })
try {
  await mkdir(out, { recursive: true })
  for (const scene of scenes) {
    const { page, problems } = await openPage(playground, {
      viewport: { width: scene.width ?? 1280, height: scene.height ?? 800 },
      deviceScaleFactor: 1,
      colorScheme: scene.theme ?? 'light',
    })
    await scene.act(page)
    // The inspector and the diagram redraw on a timer: let them catch up before the picture.
    await page.waitForTimeout(300)
    const file = join(out, `${scene.name}.png`)
    await rm(file, { force: true })
    await page.screenshot({ path: file, fullPage: scene.width !== undefined })
    await page.context().close()
    if (problems.length > 0) throw new Error(`scene ${scene.name}: ${problems.join('; ')}`)
    console.log(`screenshots: ${file}`)
  }
} finally {
  await playground.close()
  await pg.stop()
}
