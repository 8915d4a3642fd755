/**
 * The connection panel when the server hands out no password (`npm start` beyond loopback): the field stays
 * empty and says where the password is; typed in, it connects.
 */
import { type RunningRelay, silentLogger, startRelay } from '@edgepg/proxy'
import { type Browser, chromium } from 'playwright'
import { afterAll, beforeAll, expect, inject, it } from 'vitest'
import { freePort } from '../../scripts/embedded-pg.ts'
import { chromiumLaunchOptions } from '../../test/chromium.ts'
import { createPlayground } from '../server.ts'

const pg = inject('pg')
const role = pg.roles.scram
const HINT = 'the password in DATABASE_URL (see the terminal)'
let relay: RunningRelay
let browser: Browser

beforeAll(async () => {
  const port = await freePort()
  const mount = await createPlayground({
    server: `${pg.host}:${pg.port}`,
    user: role.user,
    database: pg.database,
    passwordHint: HINT,
  })
  relay = await startRelay(
    {
      port,
      allow: [`${pg.host}:${pg.port}`],
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

it('leaves the password empty with a hint of where it is, and connects once it is typed', async () => {
  const context = await browser.newContext()
  try {
    const page = await context.newPage()
    await page.goto(`${relay.url}/`)
    await page.waitForSelector('body[data-ready]')
    expect(await page.inputValue('#password')).toBe('')
    expect(await page.getAttribute('#password', 'placeholder')).toBe(HINT)
    await page.fill('#password', role.password)
    await page.click('#connect')
    await page.waitForSelector('#status[data-state="connected"]')
  } finally {
    await context.close()
  }
})
