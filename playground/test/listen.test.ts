/**
 * The LISTEN/NOTIFY panel in real headless Chromium, through a real relay in front of the test PostgreSQL.
 * Notifications are sent from a node-side `@edgepg/client` connection (another backend) and from the page's
 * own Notify form (this session's backend).
 */
import type { Page } from 'playwright'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectNodeClient, type NodeClient } from './node-client.ts'
import { runFinished, runSql, startRun, texts, usePlayground, withPage } from './page.ts'

const playground = usePlayground()
let sender: NodeClient
let senderPid: number

/** A channel name only a quoted identifier keeps: spaces, upper case and a double quote. */
const CHANNEL = 'Jobs "Done" Q1'

beforeAll(async () => {
  sender = await connectNodeClient({ sslmode: 'disable' })
  senderPid = (await sender.client.queryOne<{ pid: number }>('select pg_backend_pid() as pid')).pid
})

afterAll(async () => {
  await sender?.close()
})

const notifyFromNode = (channel: string, payload: string) =>
  sender.client.query('select pg_notify($1, $2)', [channel, payload])

async function listen(page: Page, channel: string) {
  await page.fill('#listen-channel', channel)
  await page.click('#listen-button')
  await waitForStatus(page, `listening on ${channel}`)
}

const waitForStatus = (page: Page, text: string) =>
  page.waitForFunction((expected) => document.getElementById('listen-status')?.textContent === expected, text)

/** Why the panel defers a Listen, refuses a Notify, inside the editor's transaction. */
const AFTER_TRANSACTION =
  'when the editor’s transaction ends (a LISTEN inside it would take effect only at its COMMIT, and never on ROLLBACK)'
const TRANSACTION_OPEN =
  'the editor’s transaction is open, and a NOTIFY sent from here would run inside it (delivered only at its COMMIT) — COMMIT or ROLLBACK first'
const TRANSACTION_FAILED =
  'the editor’s transaction has failed, and the server refuses every command in it until ROLLBACK — ROLLBACK first'

const stateOf = (page: Page, channel: string) =>
  page.textContent(`#listen-channels li[data-channel="${channel}"] .state`)

const waitForState = (page: Page, channel: string, state: string) =>
  page.waitForFunction(
    ([name, expected]) =>
      document.querySelector(`#listen-channels li[data-channel="${name}"] .state`)?.textContent === expected,
    [channel, state],
  )

const errorText = (page: Page) =>
  page.$eval('#error', (error) => ((error as HTMLElement).hidden ? '' : (error.textContent ?? '')))

/** The wire inspector's lines: [direction, type, fields]. */
const wire = (page: Page) =>
  page.$$eval('#wire tbody tr', (trs) =>
    trs.map((tr) => [1, 2, 4].map((i) => tr.children[i]?.textContent ?? '') as [string, string, string]),
  )

/** The notifications shown, newest first: [time, channel, payload, from]. */
const rows = (page: Page) =>
  page.$$eval('#notifications li', (items) =>
    items.map((item) =>
      ['.time', '.channel', '.payload', '.from'].map((part) => item.querySelector(part)?.textContent ?? ''),
    ),
  )

const waitForPayload = (page: Page, payload: string) =>
  page.waitForFunction(
    (expected) =>
      [...document.querySelectorAll('#notifications .payload')].some((td) => td.textContent === expected),
    payload,
  )

/** This page's backend pid, as the wire inspector decoded it from BackendKeyData. */
async function pagePid(page: Page): Promise<number> {
  await page.waitForFunction(() =>
    [...document.querySelectorAll('#wire tbody tr')].some(
      (tr) => tr.children[2]?.textContent === 'BackendKeyData',
    ),
  )
  const fields = await page.$$eval('#wire tbody tr', (trs) =>
    trs
      .filter((tr) => tr.children[2]?.textContent === 'BackendKeyData')
      .map((tr) => tr.children[4]?.textContent ?? '')
      .at(-1),
  )
  return Number(/pid=(\d+)/.exec(fields ?? '')?.[1])
}

describe('LISTEN/NOTIFY panel', () => {
  it(
    'listens on a channel with spaces, upper case and quotes; shows notifications from another backend and its own, payloads as text, newest first',
    withPage(playground, async (page) => {
      await page.click('#tab-listen')
      await listen(page, CHANNEL)
      expect(await page.textContent('#listen-channels li[data-channel] .state')).toBe('listening')

      await notifyFromNode(CHANNEL, 'from node')
      await waitForPayload(page, 'from node')
      const [fromNode] = await rows(page)
      expect(fromNode?.slice(1)).toEqual([CHANNEL, 'from node', `pid ${senderPid}`])
      expect(fromNode?.[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3}$/)

      await page.fill('#notify-channel', CHANNEL)
      await page.fill('#notify-payload', '<b>not bold</b> & <img src=x>')
      await page.click('#notify-button')
      await waitForPayload(page, '<b>not bold</b> & <img src=x>')
      const ownPid = await pagePid(page)
      expect(ownPid).not.toBe(senderPid)
      const [own, older] = await rows(page)
      expect(own?.slice(1)).toEqual([
        CHANNEL,
        '<b>not bold</b> & <img src=x>',
        `pid ${ownPid} this connection`,
      ])
      expect(older?.[2]).toBe('from node')
      expect(await page.$$eval('#notifications b, #notifications img', (found) => found.length)).toBe(0)
      expect(await page.textContent('#listen-count')).toBe('2 notifications')
    }),
  )

  it(
    'stops delivery on Unlisten: a notification sent after it never shows, a later one on a listened channel does',
    withPage(playground, async (page) => {
      await page.click('#tab-listen')
      await listen(page, 'unlisten me')
      await listen(page, 'marker')
      await notifyFromNode('unlisten me', 'before unlisten')
      await waitForPayload(page, 'before unlisten')

      await page.click('#listen-channels li[data-channel="unlisten me"] .unlisten')
      await waitForStatus(page, 'stopped listening on unlisten me')
      expect(
        await page.$$eval('#listen-channels li[data-channel]', (items) =>
          items.map((i) => i.dataset.channel),
        ),
      ).toEqual(['marker'])
      await notifyFromNode('unlisten me', 'after unlisten')
      await notifyFromNode('marker', 'marker')
      await waitForPayload(page, 'marker')
      expect((await rows(page)).map((row) => row[2])).toEqual(['marker', 'before unlisten'])
    }),
  )

  it(
    'counts notifications on the tab while another tab is shown, and clears the count when shown',
    withPage(playground, async (page) => {
      await page.click('#tab-listen')
      await listen(page, 'badge')
      await page.click('#tab-wire')
      await notifyFromNode('badge', 'one')
      await notifyFromNode('badge', 'two')
      await page.waitForFunction(
        () => document.querySelector('#tab-listen .listen-badge')?.textContent === '2',
      )
      expect(await page.isVisible('#tab-listen .listen-badge')).toBe(true)
      await page.click('#tab-listen')
      await page.waitForSelector('#tab-listen .listen-badge', { state: 'hidden' })
      expect((await rows(page)).map((row) => row[2])).toEqual(['two', 'one'])
    }),
  )

  it(
    'listens again on the new session after a reconnect, and shows the listens paused while disconnected',
    withPage(playground, async (page) => {
      await page.click('#tab-listen')
      await listen(page, CHANNEL)
      await listen(page, 'second')
      const firstPid = await pagePid(page)
      const states = () => page.$$eval('#listen-channels .state', (all) => all.map((s) => s.textContent))

      await page.click('#connect') // while connected: a new session replaces the old one
      await waitForStatus(page, `reconnected: listening again on ${CHANNEL}, second`)
      expect(await states()).toEqual(['listening', 'listening'])
      const secondPid = await pagePid(page)
      expect(secondPid).not.toBe(firstPid)
      await notifyFromNode(CHANNEL, 'after reconnect')
      await waitForPayload(page, 'after reconnect')
      await page.fill('#notify-channel', 'second')
      await page.fill('#notify-payload', 'own, after reconnect')
      await page.click('#notify-button')
      await waitForPayload(page, 'own, after reconnect')
      expect((await rows(page)).slice(0, 2).map((row) => row.slice(2))).toEqual([
        ['own, after reconnect', `pid ${secondPid} this connection`],
        ['after reconnect', `pid ${senderPid}`],
      ])

      await page.click('#disconnect')
      await waitForStatus(page, 'disconnected: 2 listens paused until the next connection')
      expect(await states()).toEqual(['paused (disconnected)', 'paused (disconnected)'])
      await page.click('#connect')
      await waitForStatus(page, `reconnected: listening again on ${CHANNEL}, second`)
      expect(await states()).toEqual(['listening', 'listening'])
    }),
  )

  it(
    "defers a Listen while the editor's transaction is open, saying why, and listens once COMMIT ends it",
    withPage(playground, async (page) => {
      await runSql(page, 'begin')
      await page.click('#tab-listen')
      await page.fill('#listen-channel', 'in a transaction')
      await page.click('#listen-button')
      await waitForStatus(page, `will listen on in a transaction ${AFTER_TRANSACTION}`)
      expect(await texts(page, '#listen-channels .state')).toEqual(['waiting for COMMIT or ROLLBACK'])
      await runSql(page, 'commit')
      await waitForStatus(page, 'listening on in a transaction')
      expect(await texts(page, '#listen-channels .state')).toEqual(['listening'])
      await notifyFromNode('in a transaction', 'after commit')
      await waitForPayload(page, 'after commit')
    }),
  )

  it(
    'does not say "listening" on a channel whose LISTEN the user’s ROLLBACK undid: a Listen clicked inside the transaction listens after the ROLLBACK',
    withPage(playground, async (page) => {
      await runSql(page, 'begin')
      await page.click('#tab-listen')
      await page.fill('#listen-channel', 'review_rb')
      await page.click('#listen-button')
      await waitForStatus(page, `will listen on review_rb ${AFTER_TRANSACTION}`)
      await runSql(page, 'rollback')
      await waitForStatus(page, 'listening on review_rb')
      await runSql(page, "notify review_rb, 'not lost'")
      await waitForPayload(page, 'not lost')
      expect(await texts(page, '#listen-channels .state')).toEqual(['listening'])
    }),
  )

  it(
    'the LISTEN/NOTIFY panel’s Notify does not abort the transaction the user has open: it refuses, saying why, and nothing is delivered at COMMIT',
    withPage(playground, async (page) => {
      await page.click('#tab-listen')
      await listen(page, 'notify in a transaction')
      await runSql(page, 'begin; select 1')
      await page.fill('#notify-channel', 'notify in a transaction')
      await page.fill('#notify-payload', 'p'.repeat(9000)) // over PostgreSQL's 8000-byte payload limit
      await page.click('#notify-button')
      await waitForStatus(
        page,
        'cannot notify notify in a transaction: a payload must be under 8000 bytes in UTF-8, found 9000',
      )
      await runSql(page, "select 'still in my transaction' as ok")
      expect(await errorText(page)).toBe('')

      await page.fill('#notify-payload', 'inside')
      await page.click('#notify-button')
      await waitForStatus(page, `not sent: ${TRANSACTION_OPEN}`)
      expect(await page.getAttribute('#listen-status', 'class')).toContain('bad')
      await runSql(page, "select 'still in my transaction' as ok")
      expect(await errorText(page)).toBe('')
      await runSql(page, 'commit')
      expect(await errorText(page)).toBe('')
      await notifyFromNode('notify in a transaction', 'after commit')
      await waitForPayload(page, 'after commit')
      expect((await rows(page)).map((row) => row[2])).toEqual(['after commit'])

      await runSql(page, 'begin; select 1/0')
      await page.click('#notify-button')
      await waitForStatus(page, `not sent: ${TRANSACTION_FAILED}`)
      await runSql(page, 'rollback')
      expect(await errorText(page)).toBe('')
    }),
  )

  it(
    'refuses a payload of 8000 bytes or more in UTF-8 and one with a NUL before sending; 7999 bytes go through',
    withPage(playground, async (page) => {
      await page.click('#tab-listen')
      await listen(page, 'payloads')
      await page.fill('#notify-channel', 'payloads')
      await page.fill('#notify-payload', 'é'.repeat(4000)) // 4000 characters, 8000 bytes
      await page.click('#notify-button')
      await waitForStatus(
        page,
        'cannot notify payloads: a payload must be under 8000 bytes in UTF-8, found 8000',
      )
      expect(await page.getAttribute('#listen-status', 'class')).toContain('bad')
      await page.$eval('#notify-payload', (field) => {
        ;(field as HTMLInputElement).value = 'a\u0000b'
      })
      await page.click('#notify-button')
      await waitForStatus(page, 'cannot notify payloads: a payload cannot contain a NUL character')
      const longest = `${'é'.repeat(3999)}a`
      await page.fill('#notify-payload', longest)
      await page.click('#notify-button')
      await waitForPayload(page, longest)
      expect(await page.textContent('#listen-count')).toBe('1 notification')
      expect((await wire(page)).filter(([, type]) => type === 'ErrorResponse')).toEqual([])
    }),
  )

  it(
    "waits for the editor's run before sending a Listen or a Notify: none goes out while the run is in flight",
    withPage(playground, async (page) => {
      await page.click('#tab-listen')
      await startRun(page, 'select pg_sleep(30)')
      await page.waitForSelector('#cancel:not([disabled])')
      await page.fill('#listen-channel', 'after the run')
      await page.click('#listen-button')
      await waitForStatus(page, 'will listen on after the run when the editor’s run finishes')
      expect(await texts(page, '#listen-channels .state')).toEqual(['waiting for the run to finish'])
      await page.click('#cancel')
      await runFinished(page)
      await waitForStatus(page, 'listening on after the run')

      await startRun(page, 'select pg_sleep(30) as second')
      await page.waitForSelector('#cancel:not([disabled])')
      await page.fill('#notify-channel', 'after the run')
      await page.fill('#notify-payload', 'sent after the run')
      await page.click('#notify-button')
      await waitForStatus(page, 'Notify waits for the editor’s run to finish…')
      await page.click('#cancel')
      await runFinished(page)
      await waitForPayload(page, 'sent after the run')

      await page.waitForFunction(() =>
        [...document.querySelectorAll('#wire tbody td')].some((td) => td.textContent?.includes('pg_notify')),
      )
      const lines = await wire(page)
      const sentAfter = (run: string, panel: string) => {
        const start = lines.findIndex(([, type, fields]) => type === 'Query' && fields.includes(run))
        const answered = lines.findIndex((line, i) => i > start && line[1] === 'ReadyForQuery')
        const sent = lines.findIndex(([dir, , fields]) => dir === '→ F' && fields.includes(panel))
        return start >= 0 && answered > start && sent > answered
      }
      expect(sentAfter('pg_sleep(30)', 'LISTEN "after the run"')).toBe(true)
      expect(sentAfter('as second', 'pg_notify')).toBe(true)
    }),
  )

  it(
    "shows a channel the editor's UNLISTEN undid as not listening, with Listen again, and one the editor LISTENed as listening: one query after each run",
    withPage(playground, async (page) => {
      await page.click('#tab-listen')
      await listen(page, 'kept')
      await listen(page, 'dropped')
      await runSql(page, 'unlisten "dropped"')
      await waitForState(page, 'dropped', 'not listening (undone in the editor)')
      expect(await stateOf(page, 'kept')).toBe('listening')
      await runSql(page, 'listen "from the editor"')
      await waitForState(page, 'from the editor', 'listening')

      await page.click('#listen-channels li[data-channel="dropped"] .listen-again')
      await waitForStatus(page, 'listening on dropped')
      expect(await stateOf(page, 'dropped')).toBe('listening')
      await notifyFromNode('dropped', 'listened again')
      await waitForPayload(page, 'listened again')

      await runSql(page, 'unlisten *')
      await page.waitForFunction(() =>
        [...document.querySelectorAll('#listen-channels .state')].every((state) =>
          state.textContent?.startsWith('not listening'),
        ),
      )
      expect(await texts(page, '#listen-channels li[data-channel] .channel')).toEqual([
        'kept',
        'dropped',
        'from the editor',
      ])
      await page.waitForFunction(
        () =>
          [...document.querySelectorAll('#wire tbody td')].filter((td) =>
            td.textContent?.includes('pg_listening_channels'),
          ).length === 3,
      )
      await page.click('#listen-channels li[data-channel="kept"] .remove')
      expect(await texts(page, '#listen-channels li[data-channel] .channel')).toEqual([
        'dropped',
        'from the editor',
      ])
    }),
  )

  it(
    "never reads the session's channels inside the editor's transaction; a LISTEN made there shows after its COMMIT",
    withPage(playground, async (page) => {
      await page.click('#tab-listen')
      await listen(page, 'shown')
      await runSql(page, 'begin; listen "in the transaction"')
      await runSql(page, 'select 1')
      expect(await texts(page, '#listen-channels li[data-channel] .channel')).toEqual(['shown'])
      await runSql(page, 'commit')
      await waitForState(page, 'in the transaction', 'listening')
      await page.waitForFunction(() => {
        const types = [...document.querySelectorAll('#wire tbody td.type')].map((td) => td.textContent)
        return types.at(-1) === 'ReadyForQuery'
      })
      const reads = (await wire(page)).filter(([, , fields]) => fields.includes('pg_listening_channels'))
      expect(reads).toHaveLength(1)
    }),
  )

  it(
    'refuses a channel name PostgreSQL would truncate, and an empty one, saying why',
    withPage(playground, async (page) => {
      await page.click('#tab-listen')
      await page.fill('#listen-channel', 'é'.repeat(32))
      await page.click('#listen-button')
      await waitForStatus(page, 'a channel name is at most 63 bytes, found 64')
      await page.fill('#listen-channel', '')
      await page.click('#listen-button')
      await waitForStatus(page, 'enter a channel name')
      expect(await page.getAttribute('#listen-status', 'class')).toContain('bad')
      expect(await page.$$eval('#listen-channels li[data-channel]', (items) => items.length)).toBe(0)
    }),
  )
})
