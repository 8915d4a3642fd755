/**
 * What the schema browser's and the plan tree's Chromium tests share: a real relay serving the playground in
 * front of the test PostgreSQL, Debian's Chromium, a fresh page that records page and console errors, and
 * driving the editor (CodeMirror's or the textarea) as a user would.
 */
import { type RunningRelay, silentLogger, startRelay } from '@edgepg/proxy'
import { type Browser, chromium, type Page } from 'playwright'
import { inject } from 'vitest'
import { freePort } from '../../scripts/embedded-pg.ts'
import { chromiumLaunchOptions } from '../../test/chromium.ts'
import { createPlayground } from '../server.ts'

/** The relay and the browser; `close()` stops both. */
export interface Playground {
  relay: RunningRelay
  browser: Browser
  close(): Promise<void>
}

/** Starts a relay that serves the playground (allowing exactly its Origin) and Chromium. */
export async function startPlayground(): Promise<Playground> {
  const pg = inject('pg')
  const role = pg.roles.scram
  const port = await freePort()
  const mount = await createPlayground({
    server: `${pg.host}:${pg.port}`,
    user: role.user,
    password: role.password,
    database: pg.database,
  })
  const relay = await startRelay(
    {
      port,
      allow: [`${pg.host}:${pg.port}`],
      allowedOrigins: [`http://127.0.0.1:${port}`],
      allowMissingOrigin: 'never',
      shutdownGrace: 1000,
    },
    { logger: silentLogger, mount },
  )
  const browser = await chromium.launch(chromiumLaunchOptions)
  return {
    relay,
    browser,
    async close() {
      await browser.close()
      await relay.shutdown()
    },
  }
}

/** A fresh page (own storage) with the playground loaded; `problems` collects page and console errors. */
export async function openPage(playground: Playground): Promise<{ page: Page; problems: string[] }> {
  const context = await playground.browser.newContext()
  const page = await context.newPage()
  const problems: string[] = []
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`)
  })
  await page.goto(`${playground.relay.url}/`)
  await page.waitForSelector('body[data-ready]')
  return { page, problems }
}

/** CodeMirror's content element when the page has that editor (CSS selectors pierce its shadow root). */
const hasCodeMirror = async (page: Page) => (await page.$('.cm-content')) !== null

/** Puts `sql` in the editor, clicks Run and waits until the run is over (Run is enabled again). */
export async function runSql(page: Page, sql: string): Promise<void> {
  const editor = (await hasCodeMirror(page)) ? '.cm-content' : '#sql'
  await page.focus(editor)
  await page.keyboard.press('Control+A')
  await page.keyboard.insertText(sql)
  if (editor === '.cm-content') await page.keyboard.press('Escape') // a completion list the typing opened
  await page.click('#run')
  await page.waitForSelector('#run:not([disabled])')
}

/** The editor's text. */
export async function editorText(page: Page): Promise<string> {
  if (await hasCodeMirror(page))
    return page.$$eval('.cm-line', (lines) => lines.map((line) => line.textContent ?? '').join('\n'))
  return page.inputValue('#sql')
}
