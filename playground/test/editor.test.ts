/**
 * The playground's editor, themes and layout in real headless Chromium (Debian's), served by a real relay in
 * front of the test PostgreSQL; plus the statement splitter checked against that PostgreSQL and the editor's
 * completion sources checked in Node.
 */
import { CompletionContext, type CompletionResult } from '@codemirror/autocomplete'
import { EditorState } from '@codemirror/state'
import { type RunningRelay, silentLogger, startRelay } from '@edgepg/proxy'
import pg from 'pg'
import { type Browser, type BrowserContextOptions, chromium, type Page } from 'playwright'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { freePort } from '../../scripts/embedded-pg.ts'
import { chromiumLaunchOptions } from '../../test/chromium.ts'
import { createPlayground } from '../server.ts'
import { sqlLanguage } from '../src/editor.ts'
import { splitStatements } from '../src/statements.ts'
import { editorSelection, editorText, setSql } from './editor-page.ts'

const server = inject('pg')
const role = server.roles.scram
let relay: RunningRelay
let browser: Browser

beforeAll(async () => {
  const port = await freePort()
  const mount = await createPlayground({
    server: `${server.host}:${server.port}`,
    user: role.user,
    password: role.password,
    database: server.database,
  })
  relay = await startRelay(
    {
      port,
      allow: [`${server.host}:${server.port}`],
      allowedOrigins: [`http://127.0.0.1:${port}`],
      allowMissingOrigin: 'never',
      shutdownGrace: 1000,
    },
    { logger: silentLogger, mount },
  )
  browser = await chromium.launch(chromiumLaunchOptions)
})

afterAll(async () => {
  await browser?.close()
  await relay?.shutdown()
})

/** A fresh page (own localStorage unless `options.storageState` says otherwise), loaded and ready. */
async function openPlayground(
  options: BrowserContextOptions = {},
): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext(options)
  const page = await context.newPage()
  const problems: string[] = []
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`)
  })
  await page.goto(`${relay.url}/`)
  await page.waitForSelector('body[data-ready]')
  return { page, problems }
}

/** Starts a run with `start` and waits for it to end (results or an error drawn); for a page's first run. */
async function finished(page: Page, start: () => Promise<void>) {
  await start()
  await page.waitForFunction(() => {
    const summary = document.getElementById('summary')?.textContent ?? ''
    return summary !== 'running…' && (summary !== '' || !document.getElementById('error')?.hidden)
  })
}

/** The inspector redraws on a timer: wait until it shows `queries` Query messages and ends with ReadyForQuery. */
async function inspectorSettled(page: Page, queries: number) {
  await page.waitForFunction((count) => {
    const types = [...document.querySelectorAll('#wire tbody td.type')].map((td) => td.textContent)
    return types.at(-1) === 'ReadyForQuery' && types.filter((type) => type === 'Query').length === count
  }, queries)
}

/** The `sql=` field of every Query message in the inspector. */
const queriesSent = (page: Page) =>
  page.$$eval('#wire tbody tr', (rows) =>
    rows
      .filter((row) => row.querySelector('td.type')?.textContent === 'Query')
      .map((row) => row.lastElementChild?.textContent ?? ''),
  )

/** Puts the cursor on `line` (1-based), `column` characters in. */
async function cursorAt(page: Page, line: number, column: number) {
  await page.keyboard.press('ControlOrMeta+Home')
  for (let i = 1; i < line; i++) await page.keyboard.press('ArrowDown')
  await page.keyboard.press('Home')
  for (let i = 0; i < column; i++) await page.keyboard.press('ArrowRight')
}

/** Waits for `label` in the open completion list and picks it with the mouse. */
async function pick(page: Page, label: string) {
  const option = page.locator('.cm-tooltip-autocomplete li').filter({ hasText: new RegExp(`^${label}$`) })
  await option.click()
  await page.waitForSelector('.cm-tooltip-autocomplete', { state: 'detached' })
}

const THREE = 'select 1 as one;\nselect 2 as two;\nselect 3 as three;'

describe('the editor', () => {
  it('is CodeMirror, styled under the strict CSP (constructed stylesheets, no <style>), with no CSP violation', async () => {
    const { page, problems } = await openPlayground()
    const styled = await page.evaluate(() => {
      const root = document.getElementById('sql')?.shadowRoot
      const editor = root?.querySelector('.cm-editor')
      return {
        styleElements: document.querySelectorAll('style').length,
        adopted: root?.adoptedStyleSheets.length ?? 0,
        display: editor ? getComputedStyle(editor).display : '',
        gutters: root?.querySelector('.cm-gutters')
          ? getComputedStyle(root.querySelector('.cm-gutters')!).display
          : '',
      }
    })
    expect(styled).toEqual({ styleElements: 0, adopted: 1, display: 'flex', gutters: 'flex' })
    // Typing over a selection across highlighted lines (Chromium would write style attributes) and editing.
    await page.click('.cm-content')
    await page.keyboard.press('ControlOrMeta+A')
    await page.keyboard.type("select 'typed' as how")
    expect(await editorText(page)).toBe("select 'typed' as how")
    expect(problems).toEqual([])
    await page.context().close()
  })

  it('runs everything on Ctrl+Enter', async () => {
    const { page, problems } = await openPlayground()
    await setSql(page, THREE)
    await finished(page, () => page.keyboard.press('Control+Enter'))
    expect(await page.textContent('#summary')).toMatch(/^3 statements · 3 rows · /)
    await inspectorSettled(page, 1)
    expect(await queriesSent(page)).toEqual([`sql=${THREE}`])
    expect(problems).toEqual([])
    await page.context().close()
  })

  it('runs only the statement under the cursor on Shift+Enter and on the Run statement button', async () => {
    const { page, problems } = await openPlayground()
    await setSql(page, THREE)
    await cursorAt(page, 2, 3)
    await finished(page, () => page.keyboard.press('Shift+Enter'))
    expect(await page.textContent('#summary')).toMatch(/^1 statement · 1 row · /)
    await inspectorSettled(page, 1)
    expect(await queriesSent(page)).toEqual(['sql=select 2 as two;'])
    expect(await editorText(page)).toBe(THREE) // nothing typed: Shift+Enter inserted no line break
    // The cursor after the last `;` belongs to the last statement.
    await page.keyboard.press('ControlOrMeta+End')
    await page.click('#run-statement')
    await inspectorSettled(page, 2)
    expect((await queriesSent(page)).at(-1)).toBe('sql=select 3 as three;')
    expect(problems).toEqual([])
    await page.context().close()
  })

  it("selects a single-statement run's error position in the whole text, past multi-byte characters", async () => {
    const { page, problems } = await openPlayground()
    await setSql(page, "select '😀é' as a;\nselect 'ü😀' as b, no_such_column;\nselect 3;")
    await cursorAt(page, 2, 5)
    await finished(page, () => page.keyboard.press('Shift+Enter'))
    expect(await page.textContent('#error .sqlstate')).toBe('42703')
    expect(await page.textContent('#error mark')).toBe('n')
    expect(await editorSelection(page)).toEqual({ text: 'n', before: "select 'ü😀' as b, " })
    expect(problems).toEqual([])
    await page.context().close()
  })

  it('completes keywords, in lower case', async () => {
    const { page, problems } = await openPlayground()
    await setSql(page, 'selec')
    await page.keyboard.press('Control+Space')
    await pick(page, 'select')
    await page.keyboard.insertText(' 1 fr')
    await page.keyboard.press('Control+Space')
    await pick(page, 'from')
    expect(await editorText(page)).toBe('select 1 from')
    expect(problems).toEqual([])
    await page.context().close()
  })

  it('completes a table and a column of a table the schema browser read after a run created it', async () => {
    const { page, problems } = await openPlayground()
    const table = `editor_completion_${process.pid}`
    await setSql(page, `create table ${table} (id int, flavour text)`)
    await finished(page, () => page.click('#run'))
    try {
      // The run connected and may have been DDL: the schema browser reads the catalog and fills context.schema.
      await page.waitForFunction(
        (name) => document.getElementById('schema')?.textContent?.includes(name),
        table,
      )
      await setSql(page, 'select * from editor_compl')
      await page.keyboard.press('Control+Space')
      await pick(page, table)
      await page.keyboard.insertText(` where ${table}.fla`)
      await page.keyboard.press('Control+Space')
      await pick(page, 'flavour')
      expect(await editorText(page)).toBe(`select * from ${table} where ${table}.flavour`)
      expect(problems).toEqual([])
    } finally {
      await setSql(page, `drop table ${table}`)
      await page.click('#run')
      await page.waitForFunction(() =>
        document.getElementById('summary')?.textContent?.startsWith('1 statement'),
      )
      await page.context().close()
    }
  })

  it('loads a history entry into the editor on a click', async () => {
    const { page } = await openPlayground()
    await setSql(page, 'select 7 as seven')
    await finished(page, () => page.click('#run'))
    await setSql(page, '')
    await page.click('#history li:first-child button')
    expect(await editorText(page)).toBe('select 7 as seven')
    await page.context().close()
  })
})

describe('completion sources (Node)', () => {
  const schema = { public: { orders: ['id', 'placed_at'] }, audit: { events: ['kind', 'at'] } }

  async function complete(doc: string): Promise<string[]> {
    const state = EditorState.create({
      doc,
      selection: { anchor: doc.length },
      extensions: [sqlLanguage(schema)],
    })
    const labels: string[] = []
    for (const source of state.languageDataAt<(c: CompletionContext) => Promise<CompletionResult | null>>(
      'autocomplete',
      doc.length,
    )) {
      const result = await source(new CompletionContext(state, doc.length, true))
      for (const option of result?.options ?? []) labels.push(option.label)
    }
    return labels
  }

  it('offers schemas, public tables without their schema, columns after a table, and lower-case keywords', async () => {
    const top = await complete('select * from ')
    expect(top).toEqual(expect.arrayContaining(['orders', 'audit', 'public', 'select']))
    expect(top).not.toContain('SELECT')
    expect(await complete('select * from audit.')).toEqual(['events'])
    expect(await complete('select orders.')).toEqual(expect.arrayContaining(['id', 'placed_at']))
  })
})

describe('themes', () => {
  const background = (page: Page) =>
    page.evaluate(() => ({
      body: getComputedStyle(document.body).backgroundColor,
      editor: getComputedStyle(document.getElementById('sql')!.shadowRoot!.querySelector('.cm-editor')!)
        .backgroundColor,
      keyword: getComputedStyle(
        [...document.getElementById('sql')!.shadowRoot!.querySelectorAll('.cm-line span')].find(
          (span) => span.textContent === 'select',
        )!,
      ).color,
    }))

  it('follows the system at first, toggles with #theme, keeps the choice across reloads; the editor follows', async () => {
    const { page, problems } = await openPlayground({ colorScheme: 'dark' })
    expect(await page.getAttribute('html', 'data-theme')).toBe('dark')
    await setSql(page, 'select 1')
    const dark = await background(page)
    await page.click('#theme')
    expect(await page.getAttribute('html', 'data-theme')).toBe('light')
    expect(await page.textContent('#theme')).toBe('dark')
    const light = await background(page)
    expect(light.body).not.toBe(dark.body)
    expect(light.editor).not.toBe(dark.editor)
    expect(light.keyword).not.toBe(dark.keyword)
    await page.reload()
    await page.waitForSelector('body[data-ready]')
    expect(await page.getAttribute('html', 'data-theme')).toBe('light')
    await page.click('#theme')
    await page.reload()
    await page.waitForSelector('body[data-ready]')
    expect(await page.getAttribute('html', 'data-theme')).toBe('dark')
    expect(problems).toEqual([])
    await page.context().close()
  })

  it('shows the dark colours on a dark system before the script has run, and follows the system until a choice', async () => {
    const context = await browser.newContext({ colorScheme: 'dark', javaScriptEnabled: false })
    const page = await context.newPage()
    await page.goto(`${relay.url}/`)
    expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe('rgb(20, 23, 28)')
    await context.close()
    const { page: live, problems } = await openPlayground({ colorScheme: 'dark' })
    await live.emulateMedia({ colorScheme: 'light' })
    await live.waitForFunction(() => document.documentElement.dataset.theme === 'light')
    expect(await live.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe(
      'rgb(246, 247, 249)',
    )
    expect(problems).toEqual([])
    await live.context().close()
  })
})

describe('layout', () => {
  it('fits 1280 px (three columns) and 420 px (stacked) with a wide result, never scrolling sideways', async () => {
    const { page, problems } = await openPlayground()
    await setSql(
      page,
      `select ${Array.from({ length: 30 }, (_, i) => `repeat('x', 40) as wide_${i}`).join(', ')}`,
    )
    await finished(page, () => page.click('#run'))
    const box = (selector: string) => page.$eval(selector, (e) => e.getBoundingClientRect().toJSON())
    await page.setViewportSize({ width: 1280, height: 800 })
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth)).toBe(true)
    const [side, work, tools] = await Promise.all([box('.side'), box('.work'), box('.tools')])
    expect(side.right).toBeLessThanOrEqual(work.left)
    expect(work.right).toBeLessThanOrEqual(tools.left)
    await page.setViewportSize({ width: 420, height: 800 })
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth)).toBe(true)
    const [narrowWork, narrowSide, narrowTools] = await Promise.all([
      box('.work'),
      box('.side'),
      box('.tools'),
    ])
    expect(narrowWork.bottom).toBeLessThanOrEqual(narrowSide.top)
    expect(narrowSide.bottom).toBeLessThanOrEqual(narrowTools.top)
    expect(problems).toEqual([])
    await page.context().close()
  })
})

describe('statement splitting against PostgreSQL', () => {
  const scripts = [
    `select 1; select 'a;b', E'c\\';d'; select "x;y" from (select 1 as "x;y") t`,
    'select $$;$$, $tag$ $$ ; $tag$; -- c;\nselect 2 /* ; /* ; */ */; ;;',
    `select 1 as "a""b"; select U&'d\\0061t\\+000061'; select e'\\\\'; select 'it''s'; select B'101', X'ff'`,
    'begin; create temp table t (a int); create rule r as on insert to t do also (select 1; select 2); rollback',
    'begin; create function pg_temp.f() returns int language sql begin atomic select 1; select case when true then 2 end; end; select pg_temp.f(); rollback',
    "select 'a\\'; select 2; /* only a comment */",
  ]

  it("finds as many statements as PostgreSQL's simple query returns results", async () => {
    const client = new pg.Client({
      host: server.host,
      port: server.port,
      user: role.user,
      password: role.password,
      database: server.database,
    })
    await client.connect()
    try {
      for (const sql of scripts) {
        const results = (await client.query(sql)) as unknown
        const count = Array.isArray(results) ? results.length : 1
        expect(splitStatements(sql).length, sql).toBe(count)
      }
    } finally {
      await client.end()
    }
  })
})
