/**
 * The page's one session, as its parts share it (Chromium, a real relay, the test PostgreSQL): parts that ask
 * for it at once get one connection; the user's run goes out alone (the schema browser reads after it); a
 * cancel's own short connection is not read as part of the session's wire.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { admin, waitFor } from '../../test/pg-admin.ts'
import { openPage, type Playground, runSql, startPlayground } from './schema-plan-page.ts'

const pg = inject('pg')
let playground: Playground

beforeAll(async () => {
  playground = await startPlayground()
})

afterAll(async () => {
  await playground?.close()
})

/** The inspector's lines as `direction type`, once it has drawn a line with `last` as its type. */
async function wireLines(page: import('playwright').Page): Promise<string[]> {
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
    await page.click('.cm-content')
    await page.keyboard.press('ControlOrMeta+A')
    await page.keyboard.insertText('select pg_sleep(30) /* session-cancel */')
    await page.keyboard.press('Escape')
    await page.click('#run')
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
    const lines = await wireLines(page)
    expect(lines).toContain('→ F CancelRequest')
    expect(lines.at(-1)).toBe('← B ReadyForQuery')
    expect(lines.filter((line) => line === '→ F Query').length).toBeGreaterThanOrEqual(3)
    await page.context().close()
    expect(problems).toEqual([])
  })
})
