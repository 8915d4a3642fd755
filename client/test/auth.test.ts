import { connect, DatabaseError, isDatabaseError, isPgError } from '@edgepg/client'
import { describe, expect, it } from 'vitest'
import { admin, open, server, transport, transportKind, unhandledRejections, url } from './helpers.ts'

const methods = [
  ['scram-sha-256', server.roles.scram],
  ['md5', server.roles.md5],
  ['password (cleartext)', server.roles.password],
] as const

describe('authentication', () => {
  for (const [method, role] of methods) {
    it(`logs in with ${method} and runs a query as that role`, async () => {
      const { client, done } = await open({ role })
      const row = await client.queryOne<{ user: string }>('select current_user as user')
      expect(row.user).toBe(role.user)
      await client.end()
      await done
    })

    it(`rejects a wrong ${method} password with 28P01 and leaves no unhandled rejection`, async () => {
      let caught: unknown
      const unhandled = await unhandledRejections(async () => {
        caught = await connect(url({ user: role.user, password: 'wrong-password' }), {
          transport: transport(),
        }).catch((e) => e)
      })
      expect(caught).toBeInstanceOf(DatabaseError)
      expect(isDatabaseError(caught, '28P01')).toBe(true)
      expect((caught as Error).message).not.toContain('wrong-password')
      expect(unhandled).toEqual([])
    })
  }

  it('logs in with trust and no password', async () => {
    const { client } = await open({ role: server.roles.trust })
    expect((await client.queryOne<{ u: string }>('select current_user as u')).u).toBe(server.roles.trust.user)
    await client.end()
  })

  it('fails with kind auth when the server asks for a password and none was given', async () => {
    const error = await connect(url({ user: server.roles.scram.user, password: '' }), {
      transport: transport(),
    }).catch((e) => e)
    expect(isPgError(error, 'auth')).toBe(true)
    expect(error.message).toMatch(/no password was given/)
  })

  it('rejects an unknown role with the server error 28P01 or 28000', async () => {
    const error = await connect(url({ user: 'nobody_here', password: 'x' }), {
      transport: transport(),
    }).catch((e) => e)
    expect(isDatabaseError(error)).toBe(true)
    expect(['28P01', '28000']).toContain(error.code)
  })

  it('applies SASLprep so a password with non-ASCII spaces still matches the stored verifier', async () => {
    await admin(`drop role if exists edgepg_saslprep_${transportKind}`)
    // The verifier is built from 'pass word'; the client types U+00A0 (no-break space), which SASLprep maps
    // to a plain space. Without SASLprep the proof would not match.
    await admin(`create role edgepg_saslprep_${transportKind} login password 'pass word'`)
    await admin(`grant all on database ${server.database} to edgepg_saslprep_${transportKind}`)
    const { client } = await open({
      role: { user: `edgepg_saslprep_${transportKind}`, password: 'pass\u00A0word' },
    })
    expect((await client.queryOne<{ n: number }>('select 1 as n')).n).toBe(1)
    await client.end()
  })

  it('reports the server parameters and the backend key after startup', async () => {
    const { client, connection } = await open()
    expect(connection.parameters.get('server_version')).toMatch(/^18\./)
    expect(connection.parameters.get('client_encoding')).toBe('UTF8')
    expect(connection.processId).toBeGreaterThan(0)
    const row = await client.queryOne<{ pid: number }>('select pg_backend_pid() as pid')
    expect(row.pid).toBe(connection.processId)
    await client.end()
  })

  it('negotiates protocol 3.2 with PostgreSQL 18 when asked', async () => {
    const { client, connection } = await open({ protocolVersion: '3.2' })
    expect((await client.queryOne<{ n: number }>('select 7 as n')).n).toBe(7)
    expect(connection.processId).toBeGreaterThan(0)
    await client.end()
  })
})
