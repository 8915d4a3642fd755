/**
 * The page's one session, as its parts share it (Chromium, a real relay, the test PostgreSQL): parts that ask
 * for it at once get one connection; the user's run goes out alone (the schema browser reads after it); a
 * cancel's own short connection is not read as part of the session's wire; a connect that hangs, a
 * Disconnect during a long statement and a history that does not fit never lock the page.
 */
import net from 'node:net'
import type { Page } from 'playwright'
import { describe, expect, inject, it } from 'vitest'
import { admin, waitFor } from '../../test/pg-admin.ts'
import { inspectorSettled, openPage, runSql, startRun, usePlayground, withPage } from './page.ts'

const pg = inject('pg')
const playground = usePlayground()

/** The inspector's lines as `direction type`. */
async function wireLines(page: Page): Promise<string[]> {
  return page.$$eval('#wire tbody tr', (rows) =>
    rows.map((row) =>
      [...row.querySelectorAll('td')]
        .map((cell) => cell.textContent ?? '')
        .slice(1, 3)
        .join(' '),
    ),
  )
}

describe('the playground session', () => {
  it('opens one connection when the LISTEN panel and Run both ask for a session at once', async () => {
    const { page, problems } = await openPage(playground)
    // A role no other playground test logs in with, so its sessions are this test's.
    await page.fill('#user', pg.roles.password.user)
    await page.fill('#password', pg.roles.password.password)
    await page.click('#tab-listen')
    await page.fill('#listen-channel', 'both at once')
    await page.evaluate(() => {
      ;(document.getElementById('listen-button') as HTMLButtonElement).click()
      ;(document.getElementById('run') as HTMLButtonElement).click()
    })
    await page.waitForSelector('#run:not([disabled])')
    await page.waitForFunction(() =>
      document.getElementById('listen-channels')?.textContent?.includes('both at once'),
    )
    const sessions = () =>
      admin(
        "select pid from pg_stat_activity where usename = $1 and application_name = 'edgepg playground'",
        [pg.roles.password.user],
      )
    expect(await sessions()).toHaveLength(1)
    await page.context().close()
    await waitFor(async () => (await sessions()).length === 0)
    expect(problems).toEqual([])
  })

  it("sends the user's first run alone: the schema browser's read goes after its answer", async () => {
    const { page, problems } = await openPage(playground)
    await runSql(page, "select 'first' as run")
    await page.waitForSelector('#schema:not([aria-busy]) .schema-tree')
    await page.waitForFunction(() => document.querySelector('#wire-count')?.textContent !== '')
    const lines = await wireLines(page)
    const login = lines.indexOf('← B ReadyForQuery')
    expect(lines.slice(login + 1, login + 6)).toEqual([
      '→ F Query',
      '← B RowDescription',
      '← B DataRow',
      '← B CommandComplete',
      '← B ReadyForQuery',
    ])
    expect(lines.slice(login + 6)).toContain('→ F Parse')
    await page.context().close()
    expect(problems).toEqual([])
  })

  it("keeps reading the session's wire after a cancel, whose CancelRequest shows on its own", async () => {
    const { page, problems } = await openPage(playground)
    await runSql(page, 'select 1')
    await startRun(page, 'select pg_sleep(30) /* session-cancel */')
    await page.waitForSelector('#cancel:not([disabled])')
    await waitFor(
      async () =>
        (
          await admin(
            "select 1 from pg_stat_activity where state = 'active' and query like '%session-cancel */'",
          )
        ).length > 0,
    )
    await page.click('#cancel')
    await page.waitForSelector('#run:not([disabled])')
    expect(await page.textContent('#error .sqlstate')).toBe('57014')
    await runSql(page, "select 'after the cancel' as next")
    await page.waitForFunction(() =>
      [...document.querySelectorAll('#wire tbody td')].some((cell) =>
        cell.textContent?.includes('after the cancel'),
      ),
    )
    // The inspector draws a burst at most every 100 ms: the Query can be drawn before the answer to it.
    await inspectorSettled(page)
    const lines = await wireLines(page)
    expect(lines).toContain('→ F CancelRequest')
    expect(lines.at(-1)).toBe('← B ReadyForQuery')
    expect(lines.filter((line) => line === '→ F Query').length).toBeGreaterThanOrEqual(3)
    await page.context().close()
    expect(problems).toEqual([])
  })

  it('gives up a connect to a relay that accepts and never answers: Connect with a fixed URL works at once', async () => {
    const silent = net.createServer((socket) => socket.on('error', () => {}))
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const { port } = silent.address() as net.AddressInfo
    const { page, problems } = await openPage(playground)
    const good = await page.inputValue('#relay-url')
    try {
      await page.fill('#relay-url', `ws://127.0.0.1:${port}/v1`)
      await page.click('#connect')
      await page.waitForSelector('#status[data-state="connecting"]')
      expect(await page.isEnabled('#disconnect')).toBe(true)
      await page.fill('#relay-url', good)
      await page.click('#connect')
      await page.waitForSelector('#status[data-state="connected"]', { timeout: 5000 })
      expect(await runSql(page, "select 'after the silent relay' as ok")).toMatch(/^1 statement/)
      // Disconnect also gives up a connect that hangs, and says so.
      await page.fill('#relay-url', `ws://127.0.0.1:${port}/v1`)
      await page.click('#connect')
      await page.waitForSelector('#status[data-state="connecting"]')
      await page.click('#disconnect')
      await page.waitForSelector('#status[data-state="disconnected"]')
      expect(problems).toEqual([])
    } finally {
      await page.context().close()
      silent.close()
    }
  })

  it('Disconnect during a long statement cancels it and ends the session at once', async () => {
    const { page, problems } = await openPage(playground)
    await runSql(page, 'select 1')
    await startRun(page, 'select pg_sleep(30) /* session-disconnect */')
    await waitFor(
      async () =>
        (
          await admin(
            "select 1 from pg_stat_activity where state = 'active' and query like '%session-disconnect */'",
          )
        ).length > 0,
    )
    const started = Date.now()
    await page.click('#disconnect')
    await page.waitForSelector('#run:not([disabled])', { timeout: 10_000 })
    expect(Date.now() - started).toBeLessThan(5000)
    expect(await page.textContent('#error .sqlstate')).toBe('57014')
    expect(await page.getAttribute('#status', 'data-state')).toBe('disconnected')
    await waitFor(
      async () =>
        (
          await admin(
            "select 1 from pg_stat_activity where query like '%session-disconnect */' and pid <> pg_backend_pid()",
          )
        ).length === 0,
    )
    await page.context().close()
    expect(problems).toEqual([])
  })

  it(
    'runs SQL too long for the history (a pasted dump) and SQL that no longer fits in localStorage',
    withPage(playground, async (page) => {
      await runSql(page, "select 'small' as kept")
      // One text past the history's own bound, then storage nearly full: neither may stop the run.
      expect(await runSql(page, `select 'dump' as tag; -- ${'x'.repeat(300_000)}`)).toMatch(/^1 statement/)
      await page.evaluate(() => {
        let chunk = 'y'.repeat(1_000_000)
        for (let i = 0; ; i++) {
          try {
            localStorage.setItem(`filler-${i}`, chunk)
          } catch {
            if (chunk.length < 1000) break
            chunk = chunk.slice(chunk.length / 2)
          }
        }
      })
      expect(await runSql(page, `select 'over the quota' as tag -- ${'z'.repeat(50_000)}`)).toMatch(
        /^1 statement/,
      )
      expect(await page.textContent('#results .grid-row .cell[data-column="0"]')).toBe('over the quota')
      const history = await page.$$eval('#history button', (items) =>
        items.map((item) => item.textContent ?? ''),
      )
      expect(history.some((entry) => entry.includes('dump'))).toBe(false)
      expect(history.some((entry) => entry.includes('small'))).toBe(true)
    }),
  )
})
