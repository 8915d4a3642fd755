/**
 * The wire inspector's sequence diagram in real headless Chromium, through a real relay in front of the test
 * PostgreSQL: the SCRAM login and a query as flights of arrows, a large result as one counted arrow, and
 * pipelining the page really does (the LISTEN panel listening again on three channels after a reconnect:
 * one client flight with several queries). The grouping rules themselves are unit-tested on decoded bytes
 * in src/sequence-model.test.ts.
 */
import type { Page } from 'playwright'
import { describe, expect, it } from 'vitest'
import { runSql, usePlayground, withPage } from './page.ts'

const playground = usePlayground()

interface DrawnFlight {
  direction: 'frontend' | 'backend'
  arrows: string[]
  titles: string[]
  notes: string[]
  queries: number
  isPipelined: boolean
}

/** The diagram's flights as drawn, oldest first. */
const flights = (page: Page): Promise<DrawnFlight[]> =>
  page.$$eval('#sequence g.flight', (groups) =>
    groups.map((group) => ({
      direction: group.classList.contains('frontend') ? ('frontend' as const) : ('backend' as const),
      arrows: [...group.querySelectorAll('g.arrow > text.label')].map((t) => t.textContent ?? ''),
      titles: [...group.querySelectorAll('g.arrow > title')].map((t) => t.textContent ?? ''),
      notes: [...group.querySelectorAll('text.note > tspan.note-part')].map((t) => t.textContent ?? ''),
      queries: Number((group as SVGGElement).dataset.queries),
      isPipelined: group.classList.contains('pipelined'),
    })),
  )

/** Waits until the diagram shows a client flight with a Query of `sql` and the server's ReadyForQuery after it. */
async function queryDrawn(page: Page, sql: string) {
  await page.waitForFunction((text) => {
    const groups = [...document.querySelectorAll('#sequence g.flight')]
    const at = groups.findIndex((g) =>
      [...g.querySelectorAll('g.arrow > title')].some((t) => t.textContent?.includes(`\n${text}`)),
    )
    return (
      at >= 0 &&
      groups.slice(at + 1).some((g) => g.querySelector('g.arrow[data-type="ReadyForQuery"]') !== null)
    )
  }, sql)
}

describe('sequence diagram', () => {
  it(
    'draws the SCRAM login and a simple query as flights of arrows between client and server, counting round trips',
    withPage(playground, async (page) => {
      await runSql(page, 'select 1 as sequence_check')
      await page.click('#tab-sequence') // drawn once shown: it was hidden while the messages came
      await queryDrawn(page, 'select 1 as sequence_check')
      const drawn = await flights(page)
      expect(drawn.slice(0, 5).map((f) => [f.direction, f.arrows])).toEqual([
        ['frontend', ['StartupMessage']],
        ['backend', ['AuthenticationSASL']],
        ['frontend', ['SASLInitialResponse']],
        ['backend', ['AuthenticationSASLContinue']],
        ['frontend', ['SASLResponse']],
      ])
      const login = drawn[5]!
      expect(login.direction).toBe('backend')
      expect(login.arrows[0]).toBe('AuthenticationSASLFinal')
      expect(login.arrows).toEqual(expect.arrayContaining(['AuthenticationOk', 'BackendKeyData']))
      expect(login.arrows.some((label) => /^ParameterStatus × \d+$/.test(label))).toBe(true)
      expect(login.arrows.at(-1)).toBe('ReadyForQuery')
      expect(login.notes[0]).toBe('round trip 3')

      const query = drawn.findIndex((f) => f.titles.some((t) => t.endsWith('\nselect 1 as sequence_check')))
      expect(drawn[query]?.direction).toBe('frontend')
      expect(drawn[query]?.arrows).toContain('Query')
      const answer = drawn.slice(query + 1).find((f) => f.arrows.includes('ReadyForQuery'))
      expect(answer?.direction).toBe('backend')
      expect(answer?.arrows).toEqual(expect.arrayContaining(['RowDescription', 'DataRow', 'CommandComplete']))
      const summary = (await page.textContent('#sequence .sequence-summary')) ?? ''
      const roundTrips = Number(/^(\d+) round trips · \d+ messages in \d+ flights$/.exec(summary)?.[1])
      expect(roundTrips).toBeGreaterThanOrEqual(4)
      expect(await page.$$eval('#sequence [style]', (styled) => styled.length)).toBe(0)
    }),
  )

  it(
    'draws a 5,000-row result as one arrow DataRow × 5000',
    withPage(playground, async (page) => {
      await page.click('#tab-sequence')
      await runSql(page, 'select g as sequence_rows from generate_series(1, 5000) g')
      await queryDrawn(page, 'select g as sequence_rows from generate_series(1, 5000) g')
      const drawn = await flights(page)
      const query = drawn.findIndex((f) => f.titles.some((t) => t.includes('sequence_rows')))
      const answer = drawn.slice(query + 1).find((f) => f.arrows.includes('DataRow × 5000'))
      expect(answer?.arrows).toEqual(['RowDescription', 'DataRow × 5000', 'CommandComplete', 'ReadyForQuery'])
      expect(answer?.notes).toContain('5,000 rows')
    }),
  )

  it(
    'shows the pipelining the page does as one client flight with several queries',
    withPage(playground, async (page) => {
      await page.click('#tab-listen')
      for (const channel of ['one', 'two', 'three']) {
        await page.fill('#listen-channel', channel)
        await page.click('#listen-button')
        await page.waitForFunction(
          (name) => document.getElementById('listen-status')?.textContent === `listening on ${name}`,
          channel,
        )
      }
      // A reconnect: the panel sends its pid query and the three LISTENs at once, without waiting in between.
      await page.click('#connect')
      await page.waitForFunction(
        () =>
          document.getElementById('listen-status')?.textContent ===
          'reconnected: listening again on one, two, three',
      )
      await page.click('#tab-sequence')
      await page.waitForSelector('#sequence g.flight.pipelined')
      const pipelined = (await flights(page)).filter((f) => f.isPipelined)
      const relisten = pipelined.find((f) => f.titles.some((t) => t.endsWith('\nLISTEN "one"')))
      expect(relisten?.direction).toBe('frontend')
      expect(relisten?.queries).toBeGreaterThanOrEqual(4)
      expect(relisten?.arrows).toEqual(expect.arrayContaining(['Parse', 'Execute', 'Sync']))
      expect(relisten?.arrows.some((label) => /^Query( × \d+)?$/.test(label))).toBe(true)
      expect(relisten?.notes).toContain(`${relisten?.queries} queries in one flight`)
    }),
  )
})
