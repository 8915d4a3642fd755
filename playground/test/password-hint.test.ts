/**
 * The connection panel when the server hands out no password (`npm start` beyond loopback): the field stays
 * empty and says where the password is; typed in, it connects.
 */
import { expect, inject, it } from 'vitest'
import { openPage, usePlayground } from './page.ts'

const role = inject('pg').roles.scram
const HINT = 'the password in DATABASE_URL (see the terminal)'
const playground = usePlayground({ passwordHint: HINT })

it('leaves the password empty with a hint of where it is, and connects once it is typed', async () => {
  const { page } = await openPage(playground)
  try {
    expect(await page.inputValue('#password')).toBe('')
    expect(await page.getAttribute('#password', 'placeholder')).toBe(HINT)
    await page.fill('#password', role.password)
    await page.click('#connect')
    await page.waitForSelector('#status[data-state="connected"]')
  } finally {
    await page.context().close()
  }
})
