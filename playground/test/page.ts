/**
 * What the playground's Chromium tests share: a real relay serving the playground in front of the test
 * PostgreSQL, Debian's headless Chromium, a fresh page that records page and console errors (CSP violations
 * are console errors), and driving the page as a user would — the SQL editor (CodeMirror, in the open shadow
 * root of `#sql`; Playwright's CSS selectors pierce open shadow roots), Run, and waits on what it draws.
 */
import { type RunningRelay, silentLogger, startRelay } from '@edgepg/proxy'
import { type Browser, type BrowserContextOptions, chromium, type Page } from 'playwright'
import { afterAll, beforeAll, expect, inject } from 'vitest'
import { freePort } from '../../scripts/embedded-pg.ts'
import { chromiumLaunchOptions } from '../../test/chromium.ts'
import { createPlayground } from '../server.ts'

/** The PostgreSQL the playground is configured for: where it is, and the SCRAM role it fills in. */
export interface PlaygroundServer {
  host: string
  port: number
  database: string
  roles: { scram: { user: string; password: string } }
}

/** How to start the playground. */
export interface StartOptions {
  /** The server the page connects to; the test PostgreSQL (`inject('pg')`) when not given. */
  server?: PlaygroundServer
  /** Hand out no password: the page's password field shows this hint instead (`npm start` beyond loopback). */
  passwordHint?: string
}

/** The relay and the browser; `close()` stops both. */
export interface Playground {
  relay: RunningRelay
  browser: Browser
  close(): Promise<void>
}

/** Starts a relay that serves the playground (allowing exactly its Origin) and Chromium. */
export async function startPlayground(options: StartOptions = {}): Promise<Playground> {
  const server = options.server ?? inject('pg')
  const role = server.roles.scram
  const port = await freePort()
  const mount = await createPlayground({
    server: `${server.host}:${server.port}`,
    user: role.user,
    database: server.database,
    ...(options.passwordHint === undefined
      ? { password: role.password }
      : { passwordHint: options.passwordHint }),
  })
  const relay = await startRelay(
    {
      port,
      allow: [`${server.host}:${server.port}`],
      allowedOrigins: [`http://127.0.0.1:${port}`],
      allowMissingOrigin: 'never',
      shutdownGrace: 1000,
    },
    { logger: silentLogger, mount },
  )
  let browser: Browser
  try {
    browser = await chromium.launch(chromiumLaunchOptions)
  } catch (error) {
    await relay.shutdown()
    throw error
  }
  return {
    relay,
    browser,
    async close() {
      await browser.close()
      await relay.shutdown()
    },
  }
}

/**
 * The playground for one test file: started before its tests (a `beforeAll`, run after the hooks registered
 * before this call) and stopped after them (an `afterAll`). Its relay and browser are there from then on.
 */
export function usePlayground(options: StartOptions = {}): Playground {
  let started: Playground | undefined
  beforeAll(async () => {
    started = await startPlayground(options)
  })
  afterAll(async () => {
    await started?.close()
  })
  const playground = () => {
    if (started === undefined)
      throw new Error('the playground is not started yet: it starts in beforeAll, so use it in a test')
    return started
  }
  return {
    get relay() {
      return playground().relay
    },
    get browser() {
      return playground().browser
    },
    close: () => playground().close(),
  }
}

/** A page of the playground and the page errors and console errors it has had (each as one line). */
export interface OpenedPage {
  page: Page
  problems: string[]
}

/**
 * A fresh page in its own browser context (own localStorage unless `options.storageState` says otherwise)
 * with the playground loaded and ready; `problems` collects its page and console errors.
 */
export async function openPage(
  playground: Playground,
  options: BrowserContextOptions = {},
): Promise<OpenedPage> {
  const context = await playground.browser.newContext(options)
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

/**
 * A test body run on a fresh page (see `openPage`): once `body` has passed, the page must have had no page
 * error and no console error; the page is closed either way.
 */
export function withPage(
  playground: Playground,
  body: (page: Page) => Promise<void>,
  options: BrowserContextOptions = {},
): () => Promise<void> {
  return async () => {
    const { page, problems } = await openPage(playground, options)
    try {
      await body(page)
      expect(problems).toEqual([])
    } finally {
      await page.context().close()
    }
  }
}

/**
 * Replaces the editor's text with `sql` as a paste does (select all, then a paste event that CodeMirror
 * handles), so no completion list opens as it would for typed text; the cursor ends after the text.
 */
export async function setSql(page: Page, sql: string): Promise<void> {
  await page.click('.cm-content')
  await page.keyboard.press('ControlOrMeta+A')
  if (sql === '') {
    await page.keyboard.press('Delete')
    return
  }
  await page.$eval(
    '.cm-content',
    (content, text) => {
      const data = new DataTransfer()
      data.setData('text/plain', text)
      content.dispatchEvent(
        new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }),
      )
    },
    sql,
  )
}

/** Puts `sql` in the editor and clicks Run, without waiting for the run (to cancel it, say). */
export async function startRun(page: Page, sql: string): Promise<void> {
  await setSql(page, sql)
  await page.click('#run')
}

/**
 * Waits until the run started (by a click or a key) is over — Run is enabled again once the results or the
 * error are drawn — and gives the summary line.
 */
export async function runFinished(page: Page): Promise<string> {
  await page.waitForFunction(
    () => (document.getElementById('run') as HTMLButtonElement | null)?.disabled === false,
  )
  return (await page.textContent('#summary')) ?? ''
}

/** Puts `sql` in the editor, clicks Run and waits until the run is over; gives the summary line. */
export async function runSql(page: Page, sql: string): Promise<string> {
  await startRun(page, sql)
  return runFinished(page)
}

/** The editor's text, line by line as it shows it. */
export async function editorText(page: Page): Promise<string> {
  return page.$$eval('.cm-line', (lines) => lines.map((line) => line.textContent ?? '').join('\n'))
}

/**
 * What the editor selects: the selected text, and the text of its line before the selection (so a test
 * checks where it is, not only what it is).
 */
export async function editorSelection(page: Page): Promise<{ text: string; before: string }> {
  return page.evaluate(() => {
    const root = document.getElementById('sql')?.shadowRoot as
      | (ShadowRoot & { getSelection(): Selection | null })
      | null
    const selection = root?.getSelection()
    if (!selection || selection.rangeCount === 0) return { text: '', before: '' }
    const range = selection.getRangeAt(0)
    const line = (
      range.startContainer instanceof Element ? range.startContainer : range.startContainer.parentElement
    )?.closest('.cm-line')
    const before = document.createRange()
    if (line) {
      before.setStart(line, 0)
      before.setEnd(range.startContainer, range.startOffset)
    }
    return { text: range.toString(), before: line ? before.toString() : '' }
  })
}

/** The text of every element `selector` matches, in document order. */
export const texts = (page: Page, selector: string): Promise<string[]> =>
  page.$$eval(selector, (elements) => elements.map((element) => element.textContent ?? ''))

/**
 * The inspector redraws on a timer: waits until its last line is a ReadyForQuery and it shows `queries`
 * Query messages (at least one when not given).
 */
export async function inspectorSettled(page: Page, queries?: number): Promise<void> {
  await page.waitForFunction((count) => {
    const types = [...document.querySelectorAll('#wire tbody td.type')].map((td) => td.textContent)
    const sent = types.filter((type) => type === 'Query').length
    return types.at(-1) === 'ReadyForQuery' && (count === null ? sent > 0 : sent === count)
  }, queries ?? null)
}
