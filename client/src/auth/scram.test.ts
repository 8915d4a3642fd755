import { afterEach, describe, expect, it, vi } from 'vitest'
import { isPgError } from '../errors.ts'
import { clearScramCache, startScram } from './scram.ts'

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)
const bytes = (s: string) => new TextEncoder().encode(s)

// RFC 7677 §3.
const rfc = {
  nonce: 'rOprNGfwEbeRWgbNEkqO',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinal:
    'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
}

const rfcSession = () => startScram('pencil', ['SCRAM-SHA-256'], { nonce: rfc.nonce, username: 'user' })

afterEach(() => {
  clearScramCache()
  vi.restoreAllMocks()
})

describe('SCRAM-SHA-256', () => {
  it('reproduces the RFC 7677 test vector', async () => {
    const session = rfcSession()
    expect(text(session.clientFirst)).toBe('n,,n=user,r=rOprNGfwEbeRWgbNEkqO')
    expect(text(await session.continue(bytes(rfc.serverFirst)))).toBe(rfc.clientFinal)
    await expect(session.finish(bytes(rfc.serverFinal))).resolves.toBeUndefined()
  })

  it('sends an empty user name and a fresh 24-character nonce by default, as PostgreSQL expects', () => {
    const a = text(startScram('x', ['SCRAM-SHA-256']).clientFirst)
    const b = text(startScram('x', ['SCRAM-SHA-256']).clientFirst)
    expect(a).toMatch(/^n,,n=,r=[A-Za-z0-9+/]{24}$/)
    expect(a).not.toBe(b)
  })

  it('fails the login when the server signature differs in one byte', async () => {
    const session = rfcSession()
    await session.continue(bytes(rfc.serverFirst))
    const error = await session
      .finish(bytes('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='.replace('6rri', '7rri')))
      .catch((e) => e)
    expect(isPgError(error, 'auth')).toBe(true)
    expect(error.message).toMatch(/server signature mismatch/)
  })

  it('fails with the server error when the server-final-message carries e=', async () => {
    const session = rfcSession()
    await session.continue(bytes(rfc.serverFirst))
    await expect(session.finish(bytes('e=invalid-proof'))).rejects.toThrow(/invalid-proof/)
  })

  it('refuses a server-final-message before the continue step', async () => {
    await expect(rfcSession().finish(bytes(rfc.serverFinal))).rejects.toSatisfy((e) =>
      isPgError(e, 'protocol'),
    )
  })

  const malformed: [string, string, RegExp][] = [
    [
      'a nonce that does not extend the client nonce',
      'r=someoneElse123,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
      /nonce/,
    ],
    ['a nonce equal to the client nonce', `r=${rfc.nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`, /nonce/],
    ['no salt', `r=${rfc.nonce}xyz,i=4096`, /salt/],
    ['a salt that is not base64', `r=${rfc.nonce}xyz,s=!!!,i=4096`, /base64/],
    ['zero iterations', `r=${rfc.nonce}xyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0`, /iteration count is invalid/],
    [
      'a huge iteration count',
      `r=${rfc.nonce}xyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999999999`,
      /exceeds the limit/,
    ],
    ['garbage', 'hello world', /malformed/],
  ]
  for (const [what, message, pattern] of malformed) {
    it(`rejects a server-first-message with ${what}`, async () => {
      const error = await rfcSession()
        .continue(bytes(message))
        .catch((e) => e)
      expect(isPgError(error)).toBe(true)
      expect(['auth', 'protocol']).toContain(error.kind)
      expect(error.message).toMatch(pattern)
      expect(error.message).not.toContain('pencil')
    })
  }

  it('refuses a server that offers no SCRAM-SHA-256', () => {
    expect(() => startScram('x', ['SCRAM-SHA-1'])).toThrow(/expected SCRAM-SHA-256/)
    expect(() => startScram('x', ['SCRAM-SHA-256-PLUS'])).toThrow(/channel binding/)
  })

  it('runs PBKDF2 as one deriveBits call and skips it on a second login with the same salt', async () => {
    const derive = vi.spyOn(crypto.subtle, 'deriveBits')
    await rfcSession().continue(bytes(rfc.serverFirst))
    expect(derive).toHaveBeenCalledTimes(1)
    expect(text(await rfcSession().continue(bytes(rfc.serverFirst)))).toBe(rfc.clientFinal)
    expect(derive).toHaveBeenCalledTimes(1)
    clearScramCache()
    await rfcSession().continue(bytes(rfc.serverFirst))
    expect(derive).toHaveBeenCalledTimes(2)
  })
})

describe('SCRAM-SHA-256-PLUS (channel binding)', () => {
  const data = new Uint8Array([1, 2, 3, 4])
  const both = ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256']
  const serverFirst = (nonce: string) => bytes(`r=${nonce}srv,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`)

  it('binds with tls-server-end-point when it can and the server offers PLUS (prefer and require)', async () => {
    for (const mode of ['prefer', 'require'] as const) {
      const session = startScram('pencil', both, { nonce: 'abc', channelBinding: { mode, data } })
      expect(session.mechanism).toBe('SCRAM-SHA-256-PLUS')
      expect(text(session.clientFirst)).toBe('p=tls-server-end-point,,n=,r=abc')
      const final = text(await session.continue(serverFirst('abc')))
      const expected = btoa(String.fromCharCode(...bytes('p=tls-server-end-point,,'), ...data))
      expect(final.startsWith(`c=${expected},r=abcsrv,p=`)).toBe(true)
    }
  })

  it('prefer: says y (could bind, server offered no PLUS) so a server that strips PLUS is caught', () => {
    const session = startScram('pencil', ['SCRAM-SHA-256'], {
      nonce: 'abc',
      channelBinding: { mode: 'prefer', data },
    })
    expect(session.mechanism).toBe('SCRAM-SHA-256')
    expect(text(session.clientFirst)).toBe('y,,n=,r=abc')
  })

  it('prefer without a certificate, and disable, send n and no binding', () => {
    for (const channelBinding of [{ mode: 'prefer' as const }, { mode: 'disable' as const, data }]) {
      const session = startScram('pencil', both, { nonce: 'abc', channelBinding })
      expect(session.mechanism).toBe('SCRAM-SHA-256')
      expect(text(session.clientFirst)).toBe('n,,n=,r=abc')
    }
  })

  it('require: refuses with kind auth when there is no certificate or the server offers no PLUS', () => {
    const cases = [
      [both, undefined, /no server certificate to bind to/],
      [['SCRAM-SHA-256'], data, /the server offered SCRAM-SHA-256, not SCRAM-SHA-256-PLUS/],
    ] as const
    for (const [mechanisms, cert, message] of cases) {
      let caught: unknown
      try {
        startScram('pencil', mechanisms, { channelBinding: { mode: 'require', data: cert } })
      } catch (error) {
        caught = error
      }
      expect(isPgError(caught, 'auth')).toBe(true)
      expect((caught as Error).message).toMatch(message)
    }
  })
})
