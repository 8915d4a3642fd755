/**
 * The LISTEN/NOTIFY panel in real headless Chromium, through a real relay in front of the test PostgreSQL.
 * Notifications are sent from a node-side `@edgepg/client` connection (another backend) and from the page's
 * own Notify form (this session's backend).
 */
import type { Page } from 'playwright'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectNodeClient, type NodeClient } from './node-client.ts'
import { runSql, usePlayground, withPage } from './page.ts'

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
    "says a LISTEN inside the editor's open transaction takes effect at COMMIT, and it does",
    withPage(playground, async (page) => {
      await runSql(page, 'begin')
      await page.click('#tab-listen')
      await page.fill('#listen-channel', 'in a transaction')
      await page.click('#listen-button')
      await waitForStatus(page, 'listening on in a transaction once the open transaction commits')
      await runSql(page, 'commit')
      await notifyFromNode('in a transaction', 'after commit')
      await waitForPayload(page, 'after commit')
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
