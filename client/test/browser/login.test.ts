// The client in a real page: every login method through the relay, with the browser's WebSocket and WebCrypto.
import { connect, DatabaseError, isDatabaseError } from '@edgepg/client'
import { webSocket } from '@edgepg/client/websocket'
import { describe, expect, it } from 'vitest'
import { open, relayUrl, server, url } from './page.ts'

describe('the page', () => {
  it('is headless Chromium with a secure context, not Node', () => {
    expect(navigator.userAgent).toMatch(/HeadlessChrome/)
    // The tools tsconfig has no DOM lib (one program for Node scripts and tests), hence Reflect.get.
    expect(typeof Reflect.get(globalThis, 'document')).toBe('object')
    expect(Reflect.get(globalThis, 'isSecureContext')).toBe(true)
    expect(typeof crypto.subtle.deriveBits).toBe('function')
  })
})

const methods = [
  ['scram-sha-256', server.roles.scram],
  ['md5', server.roles.md5],
  ['password (cleartext)', server.roles.password],
] as const

describe('login through the relay', () => {
  for (const [method, role] of methods) {
    it(`logs in with ${method} and runs a query as that role`, async () => {
      const { client, done } = await open({ role })
      const row = await client.queryOne<{ user: string }>('select current_user as user')
      expect(row.user).toBe(role.user)
      await client.end()
      await done
    })
  }

  it('rejects a wrong SCRAM password with 28P01 without the password in the message', async () => {
    const error = await connect(url({ user: server.roles.scram.user, password: 'wrong-password' }), {
      transport: webSocket({ url: relayUrl }),
    }).catch((e) => e)
    expect(error).toBeInstanceOf(DatabaseError)
    expect(isDatabaseError(error, '28P01')).toBe(true)
    expect(error.message).not.toContain('wrong-password')
  })
})
