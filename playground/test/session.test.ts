/**
 * The page's one session, as its parts share it (Chromium, a real relay, the test PostgreSQL): parts that ask
 * for it at once get one connection; the user's run goes out alone (the schema browser reads after it); a
 * cancel's own short connection is not read as part of the session's wire.
 */
import type { Page } from 'playwright'
import { describe, expect, inject, it } from 'vitest'
import { admin, waitFor } from '../../test/pg-admin.ts'
import { inspectorSettled, openPage, runSql, startRun, usePlayground } from './page.ts'

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
})
