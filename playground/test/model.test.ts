/**
 * Model-based: seeded random user actions (Run, Run statement, begin/commit/rollback, errors, Cancel, Connect,
 * Disconnect, refresh, theme, Listen, Notify, history) fired inside the page a few milliseconds apart, faster
 * than Playwright clicks, then the invariants — no page error, at most one session for the page, the status
 * consistent with it, Run enabled, and a last run works.
 */
import { describe, expect, inject, it } from 'vitest'
import { admin, waitFor } from '../../test/pg-admin.ts'
import { openPage, runFinished, setSql, usePlayground } from './page.ts'

const playground = usePlayground()

const sessions = async () =>
  (
    await admin<{ n: number }>(
      "select count(*)::int as n from pg_stat_activity where application_name = 'edgepg playground' and usename = $1",
      [inject('pg').roles.md5.user],
    )
  )[0]!.n

const SQL = [
  'select 1',
  'select pg_sleep(0.2)',
  'begin; select 2',
  'rollback',
  'select 1; select 1/0',
  'commit',
]

describe('random user actions, milliseconds apart', () => {
  for (const seed of [11, 13]) {
    it(`keeps the page usable with one session at most (seed ${seed})`, async () => {
      const { page, problems } = await openPage(playground)
      try {
        await page.evaluate(
          (sql) => localStorage.setItem('edgepg.playground.history', JSON.stringify(sql)),
          SQL,
        )
        await page.reload()
        await page.waitForSelector('body[data-ready]')
        // A role of its own, so its sessions can be counted while other tests run.
        await page.fill('#user', inject('pg').roles.md5.user)
        await page.fill('#password', inject('pg').roles.md5.password)
        const done = await page.evaluate(
          async ({ seed, sql }) => {
            let s = seed >>> 0
            const random = () => {
              s = (s + 0x6d2b79f5) >>> 0
              let t = s
              t = Math.imul(t ^ (t >>> 15), t | 1)
              t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
              return ((t ^ (t >>> 14)) >>> 0) / 4294967296
            }
            const click = (id: string) => (document.getElementById(id) as HTMLButtonElement).click()
            const listen = document.getElementById('listen')!
            const input = (id: string, value: string) => {
              const element =
                listen.querySelector<HTMLInputElement>(`#${id}`) ??
                (document.getElementById(id) as HTMLInputElement)
              element.value = value
            }
            const submit = (id: string) => (document.getElementById(id) as HTMLButtonElement).click()
            const draft = (text: string) =>
              [...document.querySelectorAll<HTMLButtonElement>('#history button')]
                .find((b) => b.title === text)
                ?.click()
            const acts: [string, () => void][] = [
              ...sql.map((text): [string, () => void] => [
                `run ${text}`,
                () => {
                  draft(text)
                  click('run')
                },
              ]),
              ['cancel', () => click('cancel')],
              ['connect', () => (document.getElementById('connection') as HTMLFormElement).requestSubmit()],
              ['disconnect', () => click('disconnect')],
              ['refresh', () => click('schema-refresh')],
              ['theme', () => click('theme')],
              [
                'listen',
                () => {
                  input('listen-channel', 'm3')
                  submit('listen-button')
                },
              ],
              [
                'notify',
                () => {
                  input('notify-channel', 'm3')
                  input('notify-payload', 'p')
                  submit('notify-button')
                },
              ],
            ]
            const done: string[] = []
            for (let i = 0; i < 40; i++) {
              const [name, act] = acts[Math.floor(random() * acts.length)]!
              done.push(name)
              act()
              await new Promise((r) => setTimeout(r, Math.floor(random() * 40)))
            }
            return done
          },
          { seed, sql: SQL },
        )
        await runFinished(page)
        await page.waitForTimeout(2500)
        const state = await page.$eval(
          '#status',
          (e) => `${(e as HTMLElement).dataset.state}: ${e.textContent}`,
        )
        const open = await sessions()
        const report = JSON.stringify({ seed, done: done.join(', '), state, open, problems })
        expect(open, report).toBeLessThanOrEqual(1)
        expect(state.startsWith('connected'), report).toBe(open === 1)
        await setSql(page, 'rollback; select 1 as ok')
        await page.click('#run')
        await runFinished(page)
        expect(await page.textContent('#error'), report).toBe('')
        expect(problems, report).toEqual([])
      } finally {
        await page.context().close()
        await waitFor(async () => (await sessions()) === 0, 5000).catch(() => {})
      }
    }, 60_000)
  }
})
