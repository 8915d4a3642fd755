/**
 * The playground's results in real headless Chromium, served by a real relay in front of the test PostgreSQL:
 * psql-style results before an error, duplicate column names, NULL, a 100,000-row virtualised grid, Cancel,
 * CSV/JSON export and copying a cell. The CSV export is also held against PostgreSQL's own COPY … CSV output.
 */
import { readFile } from 'node:fs/promises'
import fc from 'fast-check'
import type { Page } from 'playwright'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { admin, waitFor } from '../../test/pg-admin.ts'
import { toCsv } from '../src/export.ts'
import { connectNodeClient, type NodeClient } from './node-client.ts'
import { openPage, runFinished, runSql, startRun, texts, usePlayground } from './page.ts'

const playground = usePlayground()
/** One page for every test (a new page costs a SCRAM login): each test reads and empties `problems`. */
let page: Page
let problems: string[] = []

beforeAll(async () => {
  // A context that accepts downloads and may use the clipboard.
  ;({ page, problems } = await openPage(playground, {
    acceptDownloads: true,
    permissions: ['clipboard-read', 'clipboard-write'],
  }))
})

afterAll(async () => {
  await page?.context().close()
})

/** The problems since the last call (each test ends with `expect(takeProblems()).toEqual([])`). */
const takeProblems = () => problems.splice(0)

/** The data cells (not the row numbers) of result `n` (1-based), row by row. */
const cells = (page: Page, n: number) =>
  page.$$eval(`#results > .result:nth-child(${n}) .grid-row`, (rows) =>
    rows.map((row) => [...row.querySelectorAll('.cell[data-column]')].map((cell) => cell.textContent ?? '')),
  )

describe('playground results', () => {
  it('shows the results of the statements before an error, then the error with its position marked', async () => {
    const sql = "select 1 as n;\nselect 'two' as word union all select 'three';\nselect lenght('x')"
    const summary = await runSql(page, sql)
    expect(summary).toMatch(/^2 statements · 3 rows · \d+\.\d ms · statement 3 failed$/)
    expect(await texts(page, '#results .caption')).toEqual(['SELECT · 1 row', 'SELECT · 2 rows'])
    expect(await cells(page, 2)).toEqual([['two'], ['three']])
    expect(await page.textContent('#error .sqlstate')).toBe('42883')
    expect(await texts(page, '#error dd')).toContain('undefined_function')
    expect(await page.textContent('#error mark')).toBe('l')
    expect(await page.textContent('#error pre')).toBe(sql)
    // psql's order: the error is drawn under the results.
    const [resultsBottom, errorTop] = await page.evaluate(() => [
      document.getElementById('results')!.getBoundingClientRect().bottom,
      document.getElementById('error')!.getBoundingClientRect().top,
    ])
    expect(errorTop).toBeGreaterThanOrEqual(resultsBottom!)
    // A run that succeeds clears the error and puts it back in its place.
    expect(await runSql(page, 'select 1')).toMatch(/^1 statement · 1 row · /)
    expect(await page.isHidden('#error')).toBe(true)
    expect(takeProblems()).toEqual([])
  })

  it("shows each statement's command tag and row count, and a count line over them", async () => {
    const summary = await runSql(
      page,
      'create temp table pets (name text); insert into pets values (1), (2), (3); select * from pets; ' +
        'update pets set name = name where false; drop table pets',
    )
    expect(summary).toMatch(/^5 statements · 3 rows · \d+\.\d ms$/)
    expect(await texts(page, '#results .caption')).toEqual([
      'CREATE TABLE',
      'INSERT 3',
      'SELECT · 3 rows',
      'UPDATE 0',
      'DROP TABLE',
    ])
    expect(takeProblems()).toEqual([])
  })

  it('shows every column of a repeated name with its own value', async () => {
    await runSql(page, "select 1 as a, 2 as a, 'three' as a")
    expect(await texts(page, '#results .grid-head .cell .name')).toEqual(['a', 'a', 'a'])
    expect(await cells(page, 1)).toEqual([['1', '2', 'three']])
    expect(await page.textContent('#results')).not.toContain('rename')
    expect(takeProblems()).toEqual([])
  })

  it("shows NULL muted and italic, apart from the text 'NULL' and the empty string", async () => {
    await runSql(page, "select null::text as nothing, 'NULL' as word, '' as empty")
    expect(await cells(page, 1)).toEqual([['NULL', 'NULL', '']])
    const styles = await page.$$eval('#results .grid-row .cell[data-column]', (elements) =>
      elements.map((cell) => ({
        isNull: cell.classList.contains('null'),
        fontStyle: getComputedStyle(cell).fontStyle,
      })),
    )
    expect(styles).toEqual([
      { isNull: true, fontStyle: 'italic' },
      { isNull: false, fontStyle: 'normal' },
      { isNull: false, fontStyle: 'normal' },
    ])
    expect(takeProblems()).toEqual([])
  })

  it('shows dates as PostgreSQL writes them, int8 and numeric exactly, bytea as hex, arrays and json', async () => {
    await runSql(
      page,
      "select date '2024-02-29' as d, timestamp '2024-02-29 13:14:15.5' as ts, 9007199254740993::int8 as big, " +
        "1.50::numeric as num, '\\xdead'::bytea as bytes, array[1, null, 3] as list, " +
        "'{\"k\": [true, null]}'::jsonb as doc, 'line one\nline two' as lines",
    )
    expect(await cells(page, 1)).toEqual([
      [
        '2024-02-29',
        '2024-02-29 13:14:15.5',
        '9007199254740993',
        '1.50',
        '\\xdead',
        '[1,null,3]',
        '{"k": [true, null]}',
        'line one↵line two',
      ],
    ])
    // Numbers line up on the right, as psql aligns them; text on the left.
    const aligned = await page.$$eval('#results .grid-row .cell[data-column]', (elements) =>
      elements.map((cell) => getComputedStyle(cell).textAlign),
    )
    expect(aligned).toEqual(['start', 'start', 'right', 'right', 'start', 'start', 'start', 'start'])
    expect(takeProblems()).toEqual([])
  })

  it('draws 100,000 rows with a bounded DOM (fewer than 200 rows in it, at the top and at the bottom) and reaches the last row by scrolling', async () => {
    const summary = await runSql(page, 'select g, md5(g::text) from generate_series(1, 100000) g')
    expect(summary).toMatch(/^1 statement · 100000 rows · \d+\.\d ms$/)
    expect(await texts(page, '#results .caption')).toEqual(['SELECT · 100000 rows'])
    expect(await page.getAttribute('#results .grid', 'aria-rowcount')).toBe('100001')
    const drawn = () => page.$$eval('#results .grid-row', (rows) => rows.length)
    expect(await drawn()).toBeGreaterThan(10)
    expect(await drawn()).toBeLessThan(200)
    const headerWidths = () =>
      page.$$eval('#results .grid-head .cell', (heads) => heads.map((h) => h.getBoundingClientRect().width))
    const widthsAtTop = await headerWidths()

    await page.$eval('#results .grid', (grid) => {
      grid.scrollTop = grid.scrollHeight
    })
    await page.waitForSelector('#results .grid-row[aria-rowindex="100001"]')
    const last = await page.$$eval('#results .grid-row[aria-rowindex="100001"] .cell', (row) =>
      row.map((cell) => cell.textContent),
    )
    expect(last.slice(0, 2)).toEqual(['100000', '100000'])
    expect(last[2]).toMatch(/^[0-9a-f]{32}$/)
    // No value of the last row is cut short: the widths were measured on it too.
    const clipped = await page.$$eval('#results .grid-row[aria-rowindex="100001"] .cell', (row) =>
      row.filter((cell) => cell.scrollWidth > cell.clientWidth).map((cell) => cell.textContent),
    )
    expect(clipped).toEqual([])
    // The last row is inside the visible part of the scroll container.
    const [rowBottom, gridBottom] = await page.evaluate(() => [
      document.querySelector('#results .grid-row[aria-rowindex="100001"]')!.getBoundingClientRect().bottom,
      document.querySelector('#results .grid')!.getBoundingClientRect().bottom,
    ])
    expect(rowBottom).toBeLessThanOrEqual(gridBottom! + 1)
    expect(await drawn()).toBeLessThan(200)
    expect(await headerWidths()).toEqual(widthsAtTop)
    expect(takeProblems()).toEqual([])
  })

  it('cancels a running statement: the results before it, then 57014, and the connection still runs queries', async () => {
    expect(await page.isDisabled('#cancel')).toBe(true)
    await startRun(page, 'select 1 as before; select pg_sleep(30) /* results-cancel */')
    await page.waitForSelector('#cancel:not([disabled])')
    await waitFor(
      async () =>
        (
          await admin(
            "select 1 from pg_stat_activity where state = 'active' and query like '%results-cancel */' " +
              'and pid <> pg_backend_pid()',
          )
        ).length > 0,
    )
    await page.click('#cancel')
    const summary = await runFinished(page)
    expect(summary).toMatch(/^1 statement · 1 row · \d+\.\d ms · statement 2 failed$/)
    expect(await cells(page, 1)).toEqual([['1']])
    expect(await page.textContent('#error .sqlstate')).toBe('57014')
    expect(await page.textContent('#error .message')).toBe('canceling statement due to user request')
    expect(await page.isDisabled('#cancel')).toBe(true)
    expect(await runSql(page, "select 'still connected' as after")).toMatch(/^1 statement · 1 row · /)
    expect(await cells(page, 1)).toEqual([['still connected']])
    expect(await page.isHidden('#error')).toBe(true)
    expect(takeProblems()).toEqual([])
  })

  it('exports a result as CSV and as JSON through a download, under the CSP', async () => {
    await runSql(
      page,
      "select 1 as a, 'x,\"y\"' as b, null::text as c, '' as d, 9007199254740993::int8 as a, " +
        '\'{"n": 12345678901234567890.5}\'::json as doc; select 2 as other',
    )
    const download = async (selector: string) => {
      const [file] = await Promise.all([page.waitForEvent('download'), page.click(selector)])
      return { name: file.suggestedFilename(), text: await readFile(await file.path(), 'utf8') }
    }
    expect(await download('#results > .result:nth-child(1) .export-csv')).toEqual({
      name: 'result-1.csv',
      text: 'a,b,c,d,a,doc\r\n1,"x,""y""",,"",9007199254740993,"{""n"": 12345678901234567890.5}"\r\n',
    })
    expect(await download('#results > .result:nth-child(1) .export-json')).toEqual({
      name: 'result-1.json',
      text: '[\n  {"a":1,"b":"x,\\"y\\"","c":null,"d":"","a_2":"9007199254740993","doc":{"n": 12345678901234567890.5}}\n]\n',
    })
    expect(await download('#results > .result:nth-child(2) .export-csv')).toEqual({
      name: 'result-2.csv',
      text: 'other\r\n2\r\n',
    })
    expect(takeProblems()).toEqual([])
  })

  it('copies a clicked cell, NULL as empty text, and says so', async () => {
    await runSql(page, "select 'line one\nline two' as text, null::int as nothing")
    await page.click('#results .grid-row .cell[data-column="0"]')
    await page.waitForFunction(() => document.querySelector('#results .copied')?.textContent === 'copied')
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe('line one\nline two')
    await page.click('#results .grid-row .cell[data-column="1"]')
    await page.waitForFunction(
      () => document.querySelector('#results .copied')?.textContent === 'copied NULL as empty text',
    )
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe('')
    expect(takeProblems()).toEqual([])
  })
})

/** `select g + 0 as c0, …, g + (columns - 1) as c{columns - 1} from generate_series(1, rows) g` */
const wideSql = (columns: number, rows: number) =>
  `select ${Array.from({ length: columns }, (_, i) => `g + ${i} as c${i}`).join(', ')} from generate_series(1, ${rows}) g`

/** Cells (header, row numbers and values) of the results in the DOM. */
const cellCount = (page: Page) => page.$$eval('#results .grid .cell', (all) => all.length)

/**
 * Scrolls the first grid `steps` times (`scrollTop` or `scrollLeft` += `by` each time) and gives the most
 * elements one step added to the DOM (a MutationObserver over the grid): the work a step does, counted, not
 * timed. A grid that rebuilds its drawn rows adds every cell of them at each step.
 */
const mostAddedPerStep = (page: Page, axis: 'scrollTop' | 'scrollLeft', by: number, steps = 8) =>
  page.evaluate(
    async ({ axis, by, steps }) => {
      const grid = document.querySelector<HTMLElement>('#results .grid')!
      let added = 0
      const observer = new MutationObserver((records) => {
        for (const record of records)
          for (const node of record.addedNodes) if (node instanceof Element) added++
      })
      observer.observe(grid, { childList: true, subtree: true })
      let most = 0
      for (let step = 1; step <= steps; step++) {
        grid[axis] = step * by
        await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))
        observer.takeRecords().forEach((record) => {
          for (const node of record.addedNodes) if (node instanceof Element) added++
        })
        most = Math.max(most, added)
        added = 0
      }
      observer.disconnect()
      return most
    },
    { axis, by, steps },
  )

/** Waits until the grid drew for its scroll position (the draw runs in the frame after a scroll). */
const frames = (page: Page) =>
  page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))))

describe('wide results', () => {
  it('scrolls a 100-column result with only the cells in view in the DOM, reusing them, a step adding a few elements', async () => {
    await runSql(page, wideSql(100, 3000))
    expect(await page.getAttribute('#results .grid', 'aria-colcount')).toBe('101')
    // Before: every cell of every drawn row (~3,700 at the top, ~5,900 scrolled) was rebuilt at each step.
    expect(await cellCount(page)).toBeLessThan(2000)
    // The row elements drawn before a step are the ones drawn after it (their text updated in place).
    const scrollTo = async (row: number) => {
      await page.$eval(
        '#results .grid',
        (grid, top) => {
          grid.scrollTop = top
        },
        row * 24,
      )
      await page.waitForSelector(`#results .grid-row[aria-rowindex="${row + 2}"]`)
    }
    await scrollTo(100)
    await page.evaluate(() => {
      Object.assign(window, { drawnRows: [...document.querySelectorAll('#results .grid-row')] })
    })
    await scrollTo(400)
    const reused = await page.evaluate(() => {
      const before = new Set((window as unknown as { drawnRows: Element[] }).drawnRows)
      const after = [...document.querySelectorAll('#results .grid-row')]
      return after.filter((row) => before.has(row)).length / after.length
    })
    expect(reused).toBe(1)
    // A step's work, counted: before, every cell of every drawn row was built again at each step.
    // (Now about 15 down and 30 sideways: rows move to the other end and keep their cells.)
    expect(await mostAddedPerStep(page, 'scrollTop', 2000)).toBeLessThan(200)
    expect(await mostAddedPerStep(page, 'scrollLeft', 700)).toBeLessThan(400)
    expect(await cellCount(page)).toBeLessThan(2000)
    // The header shows the same columns as the rows, each right over its values.
    await frames(page)
    const lined = await page.evaluate(() => {
      const left = (cell: Element) => Math.round(cell.getBoundingClientRect().left)
      const heads = [...document.querySelectorAll<HTMLElement>('#results .grid-head .cell[data-column]')]
      const row = document.querySelector('#results .grid-row')!
      const values = [...row.querySelectorAll<HTMLElement>('.cell[data-column]')]
      return {
        heads: heads.map((cell) => [cell.dataset.column, cell.getAttribute('aria-colindex'), left(cell)]),
        values: values.map((cell) => [cell.dataset.column, cell.getAttribute('aria-colindex'), left(cell)]),
        names: heads.map((cell) => cell.querySelector('.name')?.textContent),
        texts: values.map((cell) => cell.textContent),
        index: Number(row.getAttribute('aria-rowindex')),
      }
    })
    expect(lined.heads.length).toBeGreaterThan(3)
    expect(lined.heads).toEqual(lined.values)
    expect(Number(lined.heads[0]![0])).toBeGreaterThan(0)
    expect(lined.names).toEqual(lined.heads.map(([column]) => `c${column}`))
    expect(lined.texts).toEqual(lined.heads.map(([column]) => String(lined.index - 1 + Number(column))))
    expect(takeProblems()).toEqual([])
  })

  it('keeps a 1,000-column result under 2,000 cells in the DOM and shows its last column fully at the right end', async () => {
    await runSql(page, wideSql(1000, 500))
    expect(await page.getAttribute('#results .grid', 'aria-colcount')).toBe('1001')
    // Before: 1,000 header cells and every cell of the drawn rows (~58,000) were in the DOM.
    expect(await cellCount(page)).toBeLessThan(2000)
    await page.$eval('#results .grid', (grid) => {
      grid.scrollLeft = grid.scrollWidth
      grid.scrollTop = grid.scrollHeight
    })
    const last = '#results .grid-row[aria-rowindex="501"] .cell[aria-colindex="1001"]'
    await page.waitForSelector(last)
    expect(await cellCount(page)).toBeLessThan(2000)
    const box = await page.evaluate((selector) => {
      const grid = document.querySelector<HTMLElement>('#results .grid')!
      const view = grid.getBoundingClientRect()
      const value = document.querySelector(selector)!
      const head = document.querySelector('#results .grid-head .cell[aria-colindex="1001"]')!
      const rownum = value.parentElement!.querySelector('.rownum')!.getBoundingClientRect()
      return {
        text: value.textContent,
        name: head.querySelector('.name')?.textContent,
        isClipped: value.scrollWidth > value.clientWidth,
        isInside:
          value.getBoundingClientRect().left >= rownum.right - 1 &&
          value.getBoundingClientRect().right <= view.left + grid.clientLeft + grid.clientWidth + 1,
        isRownumAtLeft: Math.round(rownum.left) === Math.round(view.left + grid.clientLeft),
        isUnderHead:
          Math.round(head.getBoundingClientRect().left) === Math.round(value.getBoundingClientRect().left),
      }
    }, last)
    expect(box).toEqual({
      text: '1499',
      name: 'c999',
      isClipped: false,
      isInside: true,
      isRownumAtLeft: true,
      isUnderHead: true,
    })
    // Copy-on-click still copies the clicked value after the columns scrolled.
    await page.click(last)
    await page.waitForFunction(() => document.querySelector('#results .copied')?.textContent === 'copied')
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe('1499')
    expect(takeProblems()).toEqual([])
  })
})

describe('EXPLAIN in the results', () => {
  it('shows an EXPLAIN (FORMAT JSON) result as the plan, with a toggle to its raw rows and back', async () => {
    await runSql(
      page,
      'select 1 as first; explain (analyze, format json) select count(*) from generate_series(1, 10)',
    )
    const second = '#results > .result:nth-child(2)'
    expect(await page.$$eval('#results > .result:nth-child(1) .grid', (grids) => grids.length)).toBe(1)
    expect(await page.$$eval(`${second} .grid`, (grids) => grids.length)).toBe(0)
    expect(await page.isVisible(`${second} .plan`)).toBe(true)
    await page.click(`${second} .plan-toggle`)
    expect(await page.$$eval(`${second} .plan`, (plans) => plans.length)).toBe(0)
    expect(await texts(page, `${second} .grid-head .cell .name`)).toEqual(['QUERY PLAN'])
    expect(await page.$$eval(`${second} .grid-row`, (rows) => rows.length)).toBe(1)
    expect(await page.textContent(`${second} .plan-toggle`)).toBe('plan')
    await page.click(`${second} .plan-toggle`)
    expect(await page.isVisible(`${second} .plan`)).toBe(true)
    expect(await page.textContent(`${second} .plan-toggle`)).toBe('rows')
    expect(takeProblems()).toEqual([])
  })
})

describe('CSV export against PostgreSQL', () => {
  let node: NodeClient

  beforeAll(async () => {
    node = await connectNodeClient({}, { types: { dates: 'string' } })
  })

  afterAll(async () => {
    await node?.close()
  })

  const literal = (text: string) => `'${text.replaceAll("'", "''")}'`
  const identifier = (name: string) => `"${name.replaceAll('"', '""')}"`
  const text = fc.string({
    unit: fc.oneof(
      fc.constantFrom(',', '"', '\r', '\n', ' ', '\\', '.', '\\.', "'", 'NULL'),
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }).filter((s) => !s.includes('\0')),
    ),
    maxLength: 10,
  })
  const column = fc.oneof(
    fc.constant({ type: 'text', value: text }),
    fc.constant({ type: 'int4', value: fc.integer().map(String) }),
    fc.constant({ type: 'int8', value: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String) }),
    fc.constant({
      type: 'numeric',
      value: fc
        .tuple(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.integer({ min: 0, max: 12 }))
        .map(([digits, scale]) => `${digits}e-${scale}`),
    }),
  )
  const table = fc.array(
    fc.record({
      name: text.filter((name) => name !== '' && new TextEncoder().encode(name).length < 60),
      column,
    }),
    { minLength: 1, maxLength: 4 },
  )

  it('writes what COPY (…) TO STDOUT WITH (FORMAT csv, HEADER) writes for the same rows (LF line ends)', async () => {
    await fc.assert(
      fc.asyncProperty(
        table.chain((columns) =>
          fc.record({
            columns: fc.constant(columns),
            rows: fc.array(fc.tuple(...columns.map(({ column }) => fc.option(column.value, { nil: null }))), {
              maxLength: 5,
            }),
          }),
        ),
        async ({ columns, rows }) => {
          const select = (values: (string | null)[]) =>
            `select ${columns
              .map(
                ({ name, column }, i) =>
                  `${values[i] === null ? 'null' : literal(values[i]!)}::${column.type} as ${identifier(name)}`,
              )
              .join(', ')}`
          const sql =
            rows.length === 0
              ? `${select(columns.map(() => null))} where false`
              : rows.map((row) => select(row)).join(' union all ')
          const [result] = await node.client.simpleQuery(sql, { rowMode: 'array' })
          const ours = toCsv(result as unknown as { fields: { name: string }[]; rows: unknown[][] }, {
            lineEnd: '\n',
          })
          const copied = await new Response(
            await node.client.copyOut(`copy (${sql}) to stdout with (format csv, header)`),
          ).text()
          expect(ours).toBe(copied)
        },
      ),
      { numRuns: 60 },
    )
  })
})
