/**
 * What a run says besides its rows (Chromium, a real relay, the test PostgreSQL): the server's notices and
 * warnings, the statements a later error rolled back, the transaction the session is in — and the page
 * served only under the names it was started for.
 */
import { request } from 'node:http'
import { describe, expect, it } from 'vitest'
import { createPlayground } from '../server.ts'
import { editorSelection, runFinished, runSql, startRun, usePlayground, withPage } from './page.ts'

const playground = usePlayground()

const text = (page: import('playwright').Page, selector: string) =>
  page.$eval(selector, (element) => element.textContent ?? '')

describe('a run says', () => {
  it(
    'the NOTICE and WARNING messages it raised, above its results, and counts a flood instead of drawing it',
    withPage(playground, async (page) => {
      await runSql(
        page,
        "do $$ begin raise notice 'x <b>1</b>'; raise warning 'careful' using hint = 'h'; end $$",
      )
      expect(await page.$$eval('#notices li', (items) => items.map((item) => item.textContent))).toEqual([
        'NOTICE: x <b>1</b>',
        'WARNING: carefulHINT: h',
      ])
      expect(await page.$$eval('#notices b', (bold) => bold.length)).toBe(0)
      await runSql(page, "do $$ begin for i in 1..1000 loop raise notice 'n%', i; end loop; end $$")
      expect(await page.$$eval('#notices li', (items) => items.length)).toBe(100)
      expect(await text(page, '#notices .notice-more')).toBe('900 more not shown (1000 in all)')
      await runSql(page, 'select 1')
      expect(await page.isHidden('#notices')).toBe(true)
    }),
  )

  it(
    'that the statements before an error were rolled back with it, and which ones a COMMIT kept',
    withPage(playground, async (page) => {
      await runSql(
        page,
        'create table messages_rolled (a int); insert into messages_rolled values (1); select 1/0',
      )
      expect(await text(page, '#error .undone-note')).toBe(
        'Rolled back: the 2 statements above ran in one transaction with the failing one (a run is one simple query), so their effects were undone.',
      )
      expect(await page.$$eval('#results > .undone', (sections) => sections.length)).toBe(2)
      await runSql(page, 'select * from messages_rolled')
      expect(await text(page, '#error .sqlstate')).toBe('42P01')

      await runSql(
        page,
        'begin; create table messages_kept (a int); commit; insert into messages_kept values (1); select 1/0',
      )
      expect(await text(page, '#error .undone-note')).toBe(
        'Rolled back: the statement above ran in one transaction with the failing one (a run is one simple query), so its effect was undone.',
      )
      expect(await page.$$eval('#results > .undone', (sections) => sections.length)).toBe(1)
      expect(await runSql(page, 'select count(*) from messages_kept')).toMatch(/^1 statement/)
      expect(await text(page, '#results .grid-row .cell[data-column="0"]')).toBe('0')
      await runSql(page, 'drop table messages_kept')
    }),
  )

  it(
    'the transaction the session is in, as psql prompts do, and that an aborted one needs ROLLBACK',
    withPage(playground, async (page) => {
      await runSql(page, 'begin; select 1')
      expect(await text(page, '#status')).toMatch(/ · in a transaction$/)
      await runSql(page, 'select 1/0')
      expect(await text(page, '#status')).toMatch(/ · transaction aborted: ROLLBACK to go on$/)
      expect(await text(page, '#error .undone-note')).toBe(
        'The transaction is aborted: commands are ignored until ROLLBACK, which undoes what it did.',
      )
      await runSql(page, 'rollback')
      expect(await text(page, '#status')).toMatch(/^connected to \S+ as \S+$/)
    }),
  )
})

describe('a run marks', () => {
  it(
    'the INSERT before a ROLLBACK TO SAVEPOINT as undone by the ROLLBACK its failed transaction needs',
    withPage(playground, async (page) => {
      await runSql(page, 'create table if not exists messages_savepoint (a int)')
      await runSql(
        page,
        'begin; insert into messages_savepoint values (1); savepoint s; rollback to savepoint s; select 1/0;',
      )
      const marked = await page.$$eval('#results > .undone .caption', (captions) =>
        captions.map((c) => c.textContent),
      )
      expect(marked).toEqual(['BEGIN', 'INSERT 1', 'SAVEPOINT', 'ROLLBACK'])
      expect(await text(page, '#error .undone-note')).toBe(
        'The transaction is aborted: commands are ignored until ROLLBACK, which undoes what it did, the 4 statements above included.',
      )
      await runSql(page, 'rollback')
      await runSql(page, 'drop table messages_savepoint')
    }),
  )

  it(
    'no error position in a text the user loaded while it ran (a history entry)',
    withPage(playground, async (page) => {
      await runSql(page, 'select 12345678901234567890 as long_history_entry')
      await startRun(page, 'select pg_sleep(0.5); select nosuchcolumn')
      await page.waitForFunction(() => (document.getElementById('run') as HTMLButtonElement).disabled)
      await page.click('#history li:nth-child(2) button')
      await runFinished(page)
      expect(await text(page, '#error .sqlstate')).toBe('42703')
      expect((await editorSelection(page)).text).toBe('')
    }),
  )
})

describe('the wire inspector', () => {
  it(
    'counts a flood of notices on one line, as it does DataRows',
    withPage(playground, async (page) => {
      await runSql(page, "do $$ begin for i in 1..3000 loop raise notice 'n %', i; end loop; end $$")
      await page.waitForFunction(() =>
        [...document.querySelectorAll('#wire td.type')].some(
          (cell) => cell.textContent === 'NoticeResponse × 2980 more',
        ),
      )
      const notices = await page.$$eval(
        '#wire td.type',
        (cells) => cells.filter((c) => c.textContent === 'NoticeResponse').length,
      )
      expect(notices).toBe(20)
    }),
  )
})

describe('COPY … TO STDOUT', () => {
  it(
    'shows the data as psql prints it, as text, and an error from it as any other',
    withPage(playground, async (page) => {
      expect(
        await runSql(
          page,
          "copy (select g, '<i>' || g from generate_series(1, 3) g) to stdout with (format csv)",
        ),
      ).toMatch(/^1 statement · COPY · 21 bytes · /)
      expect(await text(page, '#results .copy-out')).toBe('1,<i>1\n2,<i>2\n3,<i>3\n')
      expect(await page.$$eval('#results i', (elements) => elements.length)).toBe(0)
      await runSql(page, 'copy (select 1/0) to stdout')
      expect(await text(page, '#error .sqlstate')).toBe('22012')
    }),
  )
})

describe('the page', () => {
  it('is served only under the host names it was started for (no DNS rebinding of config.json)', async () => {
    const mount = await createPlayground(
      { server: '127.0.0.1:5432', user: 'u', password: 'secret-password', database: 'd' },
      { hosts: ['127.0.0.1:8080', 'localhost:8080'] },
    )
    const { Hono } = await import('hono')
    const app = new Hono()
    mount(app)
    const get = (host: string) => app.request('/playground/config.json', { headers: { host } })
    const allowed = await get('localhost:8080')
    expect(allowed.status).toBe(200)
    expect(await allowed.json()).toMatchObject({ password: 'secret-password' })
    for (const host of ['rebound.example:8080', '127.0.0.1:9999', '']) {
      const refused = await get(host)
      expect(refused.status, host).toBe(421)
      expect(await refused.text()).not.toContain('secret')
    }
    // The relay's own page keeps working for the names the test relay was started with (no hosts given).
    const served = await new Promise<number>((resolve, reject) => {
      const url = new URL(`${playground.relay.url}/playground/config.json`)
      request(url, { headers: { host: 'anything.example' } }, (response) => {
        response.resume()
        resolve(response.statusCode ?? 0)
      })
        .on('error', reject)
        .end()
    })
    expect(served).toBe(200)
  })
})
