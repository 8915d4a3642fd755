/**
 * The playground's editor, themes and layout in real headless Chromium (Debian's), served by a real relay in
 * front of the test PostgreSQL; plus the statement splitter checked against that PostgreSQL and the editor's
 * completion sources checked in Node.
 */
import { CompletionContext, type CompletionResult } from '@codemirror/autocomplete'
import { EditorState } from '@codemirror/state'
import pg from 'pg'
import type { Page } from 'playwright'
import { describe, expect, inject, it } from 'vitest'
import { sqlLanguage } from '../src/editor.ts'
import { splitStatements } from '../src/statements.ts'
import {
  editorSelection,
  editorText,
  inspectorSettled,
  openPage,
  runFinished,
  runSql,
  setSql,
  usePlayground,
  withPage,
} from './page.ts'

const playground = usePlayground()

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
  it(
    'is CodeMirror, styled under the strict CSP (constructed stylesheets, no <style>), with no CSP violation',
    withPage(playground, async (page) => {
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
    }),
  )

  it(
    'runs everything on Ctrl+Enter',
    withPage(playground, async (page) => {
      await setSql(page, THREE)
      await page.keyboard.press('Control+Enter')
      await runFinished(page)
      expect(await page.textContent('#summary')).toMatch(/^3 statements · 3 rows · /)
      await inspectorSettled(page, 1)
      expect(await queriesSent(page)).toEqual([`sql=${THREE}`])
    }),
  )

  it(
    'runs only the statement under the cursor on Shift+Enter and on the Run statement button',
    withPage(playground, async (page) => {
      await setSql(page, THREE)
      await cursorAt(page, 2, 3)
      await page.keyboard.press('Shift+Enter')
      await runFinished(page)
      expect(await page.textContent('#summary')).toMatch(/^1 statement · 1 row · /)
      await inspectorSettled(page, 1)
      expect(await queriesSent(page)).toEqual(['sql=select 2 as two;'])
      expect(await editorText(page)).toBe(THREE) // nothing typed: Shift+Enter inserted no line break
      // The cursor after the last `;` belongs to the last statement.
      await page.keyboard.press('ControlOrMeta+End')
      await page.click('#run-statement')
      await inspectorSettled(page, 2)
      expect((await queriesSent(page)).at(-1)).toBe('sql=select 3 as three;')
    }),
  )

  it(
    "selects a single-statement run's error position in the whole text, past multi-byte characters",
    withPage(playground, async (page) => {
      await setSql(page, "select '😀é' as a;\nselect 'ü😀' as b, no_such_column;\nselect 3;")
      await cursorAt(page, 2, 5)
      await page.keyboard.press('Shift+Enter')
      await runFinished(page)
      expect(await page.textContent('#error .sqlstate')).toBe('42703')
      expect(await page.textContent('#error mark')).toBe('n')
      expect(await editorSelection(page)).toEqual({ text: 'n', before: "select 'ü😀' as b, " })
    }),
  )

  it(
    'completes keywords, in lower case',
    withPage(playground, async (page) => {
      await setSql(page, 'selec')
      await page.keyboard.press('Control+Space')
      await pick(page, 'select')
      await page.keyboard.insertText(' 1 fr')
      await page.keyboard.press('Control+Space')
      await pick(page, 'from')
      expect(await editorText(page)).toBe('select 1 from')
    }),
  )

  it('completes a table and a column of a table the schema browser read after a run created it', async () => {
    const { page, problems } = await openPage(playground)
    const table = `editor_completion_${process.pid}`
    await runSql(page, `create table ${table} (id int, flavour text)`)
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
      await runSql(page, `drop table ${table}`)
      await page.context().close()
    }
  })

  it('loads a history entry into the editor on a click', async () => {
    const { page } = await openPage(playground)
    await runSql(page, 'select 7 as seven')
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

  it(
    'follows the system at first, toggles with #theme, keeps the choice across reloads; the editor follows',
    withPage(
      playground,
      async (page) => {
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
      },
      { colorScheme: 'dark' },
    ),
  )

  it('shows the dark colours on a dark system before the script has run, and follows the system until a choice', async () => {
    const context = await playground.browser.newContext({ colorScheme: 'dark', javaScriptEnabled: false })
    const page = await context.newPage()
    await page.goto(`${playground.relay.url}/`)
    expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe('rgb(20, 23, 28)')
    await context.close()
    const { page: live, problems } = await openPage(playground, { colorScheme: 'dark' })
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
  it(
    'fits 1280 px (three columns) and 420 px (stacked) with a wide result, never scrolling sideways',
    withPage(playground, async (page) => {
      await runSql(
        page,
        `select ${Array.from({ length: 30 }, (_, i) => `repeat('x', 40) as wide_${i}`).join(', ')}`,
      )
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
    }),
  )
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
    const { host, port, database, roles } = inject('pg')
    const client = new pg.Client({
      host,
      port,
      user: roles.scram.user,
      password: roles.scram.password,
      database,
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
