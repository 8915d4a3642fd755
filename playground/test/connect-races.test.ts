/**
 * Races between the page's parts and the user's clicks: a schema refresh during a run, Connect and Disconnect
 * in one moment, a Listen while Disconnect is still ending a statement.
 */
import { describe, expect, it } from 'vitest'
import { admin } from '../../test/pg-admin.ts'
import { openPage, runFinished, runSql, startRun, usePlayground, withPage } from './page.ts'

const playground = usePlayground()

const status = (page: import('playwright').Page) =>
  page.$eval('#status', (element) => ({
    state: (element as HTMLElement).dataset.state,
    text: element.textContent,
  }))

describe('the page’s own queries and the user’s session', () => {
  it(
    'sends no catalog query into the transaction a run opens when the schema is refreshed during the run',
    withPage(playground, async (page) => {
      await runSql(page, 'select 1')
      await page.waitForSelector('#schema:not([aria-busy]) .schema-tree')
      await startRun(page, 'begin; select pg_sleep(0.5)')
      await page.waitForFunction(() => (document.getElementById('run') as HTMLButtonElement).disabled)
      await page.click('#schema-refresh')
      await runFinished(page)
      await page.waitForSelector('#schema .schema-note')
      await runSql(page, 'select 2')
      await page.waitForFunction(() =>
        [...document.querySelectorAll('#wire td')].some((cell) => cell.textContent === 'sql=select 2'),
      )
      // Between the run's answer (in a transaction) and the next run, the page sent nothing of its own.
      const lines = await page.$$eval('#wire tbody tr', (rows: HTMLTableRowElement[]) =>
        rows.map(
          (row) => `${row.cells[1]?.textContent} ${row.cells[2]?.textContent} ${row.cells[4]?.textContent}`,
        ),
      )
      const opened = lines.findIndex((line) => line.includes('status=T'))
      expect(lines.slice(opened + 1).find((line) => line.startsWith('→ F'))).toBe('→ F Query sql=select 2')
      await runSql(page, 'rollback')
      await page.waitForSelector('#schema:not([aria-busy]) .schema-tree')
    }),
  )
})

describe('connect and disconnect', () => {
  it(
    'Connect then Disconnect in one moment ends disconnected, not “connecting…” with nothing connecting',
    withPage(playground, async (page) => {
      await runSql(page, 'select 1')
      await page.evaluate(() => {
        ;(document.getElementById('connection') as HTMLFormElement).requestSubmit()
        ;(document.getElementById('disconnect') as HTMLButtonElement).click()
      })
      await page.waitForTimeout(1500)
      // Nothing is connecting (the connect was given up and its socket closed): the status must say so.
      expect(await status(page)).toEqual({ state: 'disconnected', text: 'disconnected' })
    }),
  )

  it('a Listen pressed while Disconnect is still ending a statement leaves the new session shown connected, with Disconnect', async () => {
    const { page, problems } = await openPage(playground)
    try {
      await page.click('#tab-listen')
      await runSql(page, 'select 1')
      // A statement that takes Disconnect's cancel a little while to end (it ignores the first cancels).
      await startRun(
        page,
        `do $$ declare n int := 0; begin loop begin perform pg_sleep(0.2); exception when query_canceled then n := n + 1; exit when n > 5; end; end loop; end $$`,
      )
      await page.waitForTimeout(300)
      await page.click('#disconnect')
      await page.fill('#listen-channel', 'review2')
      await page.click('#listen-button')
      await page.waitForTimeout(4000)
      const shown = await status(page)
      const disconnectDisabled = await page.$eval('#disconnect', (b) => (b as HTMLButtonElement).disabled)
      // A session is open: the LISTEN panel listens on it, and a NOTIFY reaches it.
      await admin("notify review2, 'ping-review2'")
      await page.waitForFunction(() =>
        document.getElementById('listen')?.textContent?.includes('ping-review2'),
      )
      // The status must say so, and Disconnect must be there to end it.
      expect({ state: shown.state, disconnectDisabled }).toEqual({
        state: 'connected',
        disconnectDisabled: false,
      })
      expect(problems).toEqual([])
    } finally {
      await page.context().close()
      // The statement's backend ignored the cancel and still loops (nothing else ends it): end it here.
      await admin(
        "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'edgepg playground' and query like 'do $$ declare n int%'",
      )
    }
  })
})
