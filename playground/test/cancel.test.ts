/**
 * Cancel right after Run, while a query the page sent itself (the schema browser's catalog read after a DDL
 * run, slow on a large catalog) may still run: the user's statement is the one cancelled, never the read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { admin } from '../../test/pg-admin.ts'
import { runFinished, runSql, setSql, usePlayground, withPage } from './page.ts'

const playground = usePlayground()
const SCHEMAS = 3

beforeAll(async () => {
  for (let s = 0; s < SCHEMAS; s++)
    await admin(`create schema if not exists cancel_big_${s};
      do $$ begin for i in 1..500 loop
        execute format('create table if not exists cancel_big_${s}.t%s (id int primary key, a text default ''x'', b int, c date, d jsonb)', i);
      end loop; end $$`)
}, 300_000)

afterAll(async () => {
  for (let s = 0; s < SCHEMAS; s++) await admin(`drop schema if exists cancel_big_${s} cascade`)
}, 300_000)

describe('Cancel', () => {
  it(
    'pressed just after Run cancels the statement, not the schema browser’s read still on the wire',
    withPage(playground, async (page) => {
      await runSql(page, 'select 1')
      await page.waitForSelector('#schema:not([aria-busy])', { timeout: 20_000 })
      // A DDL run (Run statement on the first line): the schema browser reads the catalog again once it ends.
      await setSql(page, 'create temp table cancel_tmp ();\nselect pg_sleep(4)')
      await page.keyboard.press('ControlOrMeta+Home')
      await page.keyboard.press('Shift+Enter')
      await runFinished(page)
      // At once, the second line with Run statement, then Cancel as soon as it is enabled (the user changed
      // their mind), while the catalog read runs.
      await page.keyboard.press('ControlOrMeta+End')
      await page.keyboard.press('Shift+Enter')
      await page.click('#cancel')
      await runFinished(page)
      // The user's statement is the one cancelled (57014); the schema browser read its catalog.
      expect(await page.textContent('#error .sqlstate')).toBe('57014')
      expect(await page.textContent('#error .message')).toBe('canceling statement due to user request')
      await page.waitForSelector('#schema:not([aria-busy]) .schema-tree')
      expect(await page.$('#schema .schema-error')).toBeNull()
    }),
    40_000,
  )
})
