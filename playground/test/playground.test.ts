/**
 * The playground in real headless Chromium (Debian's), served by a real relay in front of the test PostgreSQL.
 * The page connects with `@edgepg/client` through that relay; the relay allows exactly the page's Origin.
 */
import { describe, expect, inject, it } from 'vitest'
import { CONTENT_SECURITY_POLICY } from '../server.ts'
import {
  editorSelection,
  editorText,
  inspectorSettled,
  openPage,
  runSql,
  setSql,
  texts,
  usePlayground,
  withPage,
} from './page.ts'

const pg = inject('pg')
const role = pg.roles.scram
const playground = usePlayground()

describe('playground', () => {
  it('serves the page, its script and its stylesheet with their types and a strict CSP; relay routes still win', async () => {
    const expected = {
      '/': 'text/html; charset=utf-8',
      '/playground/app.js': 'text/javascript; charset=utf-8',
      '/playground/style.css': 'text/css; charset=utf-8',
      '/playground/config.json': 'application/json; charset=utf-8',
    }
    for (const [path, type] of Object.entries(expected)) {
      const response = await fetch(`${playground.relay.url}${path}`)
      expect(response.status, path).toBe(200)
      expect(response.headers.get('content-type'), path).toBe(type)
      expect(response.headers.get('content-security-policy'), path).toBe(CONTENT_SECURITY_POLICY)
      expect(response.headers.get('x-content-type-options'), path).toBe('nosniff')
    }
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'")
    expect(CONTENT_SECURITY_POLICY).toContain("connect-src 'self' ws: wss:")
    expect(await (await fetch(`${playground.relay.url}/healthz`)).json()).toMatchObject({ status: 'ok' })
    expect((await fetch(`${playground.relay.url}/v1`)).status).toBe(426)
  })

  it(
    'loads without script errors or CSP violations and fills the connection panel with the defaults',
    withPage(playground, async (page) => {
      expect(await page.inputValue('#relay-url')).toBe(playground.relay.wsUrl)
      expect(await page.inputValue('#server')).toBe(`${pg.host}:${pg.port}`)
      expect(await page.inputValue('#user')).toBe(role.user)
      expect(await page.inputValue('#database')).toBe(pg.database)
    }),
  )

  it(
    'runs several statements and shows each result with column names, types, rows, NULL and timing',
    withPage(playground, async (page) => {
      await runSql(
        page,
        "select 1 as n, 'two' as word, null::int as nothing; select 'a' as x union all select 'b'",
      )
      expect(await page.getAttribute('#status', 'data-state')).toBe('connected')
      expect(await page.$$eval('#results .grid', (grids) => grids.length)).toBe(2)
      const first = '#results > .result:nth-child(1)'
      expect(await texts(page, `${first} .grid-head .cell:not(.rownum)`)).toEqual([
        'nint4',
        'wordtext',
        'nothingint4',
      ])
      expect(await texts(page, `${first} .grid-head .cell small`)).toEqual(['int4', 'text', 'int4'])
      expect(await texts(page, `${first} .grid-row .cell[data-column]`)).toEqual(['1', 'two', 'NULL'])
      expect(await texts(page, `${first} .grid-row .cell.null`)).toEqual(['NULL'])
      expect(await texts(page, '#results > .result:nth-child(2) .grid-row .cell[data-column]')).toEqual([
        'a',
        'b',
      ])
      expect(await texts(page, '#results .caption')).toEqual(['SELECT · 1 row', 'SELECT · 2 rows'])
      expect(await page.textContent('#summary')).toMatch(/^2 statements · 3 rows · \d+\.\d ms$/)
    }),
  )

  it('runs the query on Ctrl+Enter', async () => {
    const { page } = await openPage(playground)
    await setSql(page, "select 'from the keyboard' as how")
    await page.keyboard.press('Control+Enter')
    await page.waitForSelector('#results .grid-row .cell[data-column]')
    expect(await texts(page, '#results .grid-row .cell[data-column]')).toEqual(['from the keyboard'])
    await page.context().close()
  })

  it('shows a wrong password as SQLSTATE 28P01 and stays disconnected', async () => {
    const { page } = await openPage(playground)
    await page.fill('#password', 'not-the-password')
    await page.click('#connect')
    await page.waitForSelector('#error:not([hidden])')
    expect(await page.textContent('#error .sqlstate')).toBe('28P01')
    expect(await page.textContent('#error .message')).toContain('password authentication failed')
    expect(await page.getAttribute('#status', 'data-state')).toBe('failed')
    await page.context().close()
  })

  it('lists every message of the SCRAM login and the query in the inspector, with no password or proof', async () => {
    const { page } = await openPage(playground)
    await runSql(page, 'select 1 as n')
    await inspectorSettled(page)
    const rows = await page.$$eval('#wire tbody tr', (trs) =>
      trs.map((tr) => [...tr.children].map((td) => td.textContent ?? '')),
    )
    expect(rows.map(([, dir, type]) => `${dir} ${type}`)).toEqual(
      expect.arrayContaining([
        '→ F StartupMessage',
        '← B AuthenticationSASL',
        '→ F SASLInitialResponse',
        '← B AuthenticationSASLContinue',
        '→ F SASLResponse',
        '← B AuthenticationSASLFinal',
        '← B AuthenticationOk',
        '← B BackendKeyData',
        '← B ReadyForQuery',
        '→ F Query',
        '← B RowDescription',
        '← B DataRow',
        '← B CommandComplete',
      ]),
    )
    const types = rows.map((row) => row[2])
    expect(types.indexOf('AuthenticationSASL')).toBeLessThan(types.indexOf('SASLInitialResponse'))
    expect(types.at(-1)).toBe('ReadyForQuery')
    const query = rows.find((row) => row[2] === 'Query')
    expect(query?.[4]).toBe('sql=select 1 as n')
    expect(Number(query?.[3])).toBe(1 + 4 + 'select 1 as n'.length + 1)
    const inspector = (await page.textContent('#wire')) ?? ''
    expect(inspector).not.toContain(role.password)
    expect(inspector).not.toMatch(/p=[A-Za-z0-9+/]{20,}/) // the SCRAM client proof
    expect(inspector).toContain('[redacted')
    await page.context().close()
  })

  it('counts a long run of DataRows on one inspector line and keeps the login in view', async () => {
    const { page } = await openPage(playground)
    await runSql(page, 'select g from generate_series(1, 5000) g')
    expect(await page.textContent('#summary')).toMatch(/^1 statement · 5000 rows · /)
    await inspectorSettled(page)
    const types = await texts(page, '#wire tbody td.type')
    // The query's 5000 DataRows: 20 lines, then one that counts the rest (the schema browser's own queries
    // after the login have their DataRows too).
    const more = types.indexOf('DataRow × 4980 more')
    expect(more).toBeGreaterThan(20)
    expect(types.slice(more - 20, more)).toEqual(Array(20).fill('DataRow'))
    expect(types[more - 21]).toBe('RowDescription')
    expect(types[0]).toBe('StartupMessage')
    expect(types.at(-1)).toBe('ReadyForQuery')
    expect(await page.textContent('#wire-count')).toBe(
      `${(await page.$$eval('#wire tbody tr', (r) => r.length)) - 1 + 4980} messages`,
    )
    expect(await page.getAttribute('#results .grid', 'aria-rowcount')).toBe('5001')
    await page.context().close()
  })

  it('shows a server error with SQLSTATE, message, hint and the position marked in the SQL', async () => {
    const { page } = await openPage(playground)
    const sql = "select 1;\nselect lenght('edgepg')"
    await runSql(page, sql)
    expect(await page.isVisible('#error')).toBe(true)
    expect(await page.textContent('#error .sqlstate')).toBe('42883')
    expect(await page.textContent('#error .message')).toBe('function lenght(unknown) does not exist')
    const details = await texts(page, '#error dt, #error dd')
    expect(details).toContain('hint')
    expect(details).toContain('undefined_function')
    // PostgreSQL counts the position over the whole multi-statement text: here the `l` of `lenght`.
    expect(await page.textContent('#error mark')).toBe('l')
    expect(await page.textContent('#error pre')).toBe(sql)
    const before = await page.$eval('#error mark', (mark) => mark.previousSibling?.textContent)
    expect(before).toBe('select 1;\nselect ')
    // …and the editor selects it.
    expect(await editorSelection(page)).toEqual({ text: 'l', before: 'select ' })
    await page.context().close()
  })

  it('keeps the query history across reloads and loads an entry back into the editor', async () => {
    const { page } = await openPage(playground)
    await runSql(page, 'select 101 as first')
    await runSql(page, 'select 202 as second')
    await page.reload()
    await page.waitForSelector('body[data-ready]')
    expect(await texts(page, '#history button')).toEqual(['select 202 as second', 'select 101 as first'])
    await page.click('#history li:nth-child(2) button')
    expect(await editorText(page)).toBe('select 101 as first')
    await page.context().close()
  })
})
