import { type AddressInfo, createServer } from 'node:net'
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

/**
 * A fake server for downgrade attempts: answers SSLRequest with N, then answers the startup message with
 * `reply`, and records every byte the client sends.
 */
async function downgrading(reply: Uint8Array) {
  const received: Buffer[] = []
  let closed!: () => void
  const isClosed = new Promise<void>((resolve) => {
    closed = resolve
  })
  const fake = createServer((socket) => {
    socket.on('error', () => {})
    socket.on('close', () => closed())
    socket.on('data', (chunk: Buffer) => {
      const isSslRequest = chunk.length === 8 && chunk.readInt32BE(4) === 80877103
      if (isSslRequest) return void socket.write(new Uint8Array([0x4e]))
      received.push(chunk)
      if (received.length === 1) socket.write(reply)
    })
  })
  await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve))
  const port = (fake.address() as AddressInfo).port
  return {
    target: (query: string) => `${url({ user: 'victim', password: SECRET }, '127.0.0.1', port)}?${query}`,
    /** Everything the client sent after SSLRequest, once it has closed the connection. */
    async bytes() {
      await isClosed
      return Buffer.concat(received)
    },
    close: () => new Promise<void>((resolve) => fake.close(() => resolve())),
  }
}

const SECRET = 'harvest-me-7'
const authRequest = (code: number, extra: number[] = []) =>
  new Uint8Array([0x52, 0, 0, 0, 8 + extra.length, 0, 0, 0, code, ...extra])
/** AuthenticationSASL offering `mechanisms`. */
const saslRequest = (mechanisms: string[]) => {
  const body = Buffer.concat([
    Buffer.from([0, 0, 0, 10]),
    ...mechanisms.map((m) => Buffer.from(`${m}\0`)),
    Buffer.from([0]),
  ])
  const header = Buffer.alloc(5)
  header.write('R')
  header.writeInt32BE(body.length + 4, 1)
  return new Uint8Array(Buffer.concat([header, body]))
}

/** Asserts that `bytes` is exactly one startup message: nothing after it, no password in it. */
function onlyTheStartupMessage(bytes: Buffer) {
  expect(bytes.length).toBeGreaterThan(8)
  expect(bytes.readInt32BE(0)).toBe(bytes.length)
  expect(bytes.includes(Buffer.from(SECRET))).toBe(false)
}

describe('require_auth (libpq): the client refuses methods the user did not allow', () => {
  const cases = [
    ['a cleartext password', authRequest(3), /asked for a cleartext password/],
    ['an md5 password', authRequest(5, [1, 2, 3, 4]), /asked for an md5 password/],
    ['no authentication', authRequest(0), /accepted the login without authentication/],
  ] as const
  for (const [what, reply, message] of cases) {
    it(`require_auth=scram-sha-256: a server that asks for ${what} gets an auth error and never the password`, async () => {
      const fake = await downgrading(reply)
      try {
        const error = await connect(fake.target('require_auth=scram-sha-256'), {
          transport: transport(),
          connectTimeout: 5000,
        }).catch((e: unknown) => e)
        expect(isPgError(error, 'auth')).toBe(true)
        expect((error as Error).message).toMatch(message)
        expect((error as Error).message).toMatch(/requirement "scram-sha-256" failed/)
        onlyTheStartupMessage(await fake.bytes())
      } finally {
        await fake.close()
      }
    })
  }

  it('channel_binding=require: a server that offers SCRAM without PLUS gets an auth error and no SCRAM message', async () => {
    const fake = await downgrading(saslRequest(['SCRAM-SHA-256']))
    try {
      const error = await connect(fake.target('sslmode=prefer&channel_binding=require'), {
        transport: transport(),
        connectTimeout: 5000,
      }).catch((e: unknown) => e)
      expect(isPgError(error, 'auth')).toBe(true)
      expect((error as Error).message).toMatch(
        /channel_binding=require, but this connection has no server certificate/,
      )
      onlyTheStartupMessage(await fake.bytes())
    } finally {
      await fake.close()
    }
  })

  const roles = [
    ['scram-sha-256', server.roles.scram],
    ['md5', server.roles.md5],
    ['password', server.roles.password],
    ['none', server.roles.trust],
  ] as const
  for (const [method, role] of roles) {
    it(`require_auth=${method} logs in the ${method} role, and every other requirement refuses it`, async () => {
      const db = await open({ url: `${url(role)}?require_auth=${method}` })
      expect((await db.client.queryOne<{ u: string }>('select current_user as u')).u).toBe(role.user)
      await db.client.end()
      for (const [other] of roles.filter(([m]) => m !== method)) {
        const error = await connect(`${url(role)}?require_auth=${other}`, { transport: transport() }).catch(
          (e: unknown) => e,
        )
        expect(isPgError(error, 'auth')).toBe(true)
        expect((error as Error).message).toMatch(new RegExp(`requirement "${other}" failed`))
      }
    })
  }

  it('negation: require_auth=!password,!md5 refuses the password and md5 roles and admits SCRAM', async () => {
    for (const role of [server.roles.password, server.roles.md5]) {
      const error = await connect(`${url(role)}?require_auth=!password,!md5`, {
        transport: transport(),
      }).catch((e: unknown) => e)
      expect(isPgError(error, 'auth')).toBe(true)
    }
    const db = await open({ url: `${url()}?require_auth=!password,!md5` })
    await db.client.end()
  })

  it('requireAuth as a connect option overrides the connection string', async () => {
    const error = await connect(`${url(server.roles.md5)}?require_auth=md5`, {
      transport: transport(),
      requireAuth: ['scram-sha-256'],
    }).catch((e: unknown) => e)
    expect(isPgError(error, 'auth')).toBe(true)
    expect((error as Error).message).toMatch(
      /requirement "scram-sha-256" failed: the server asked for an md5 password/,
    )
  })
})

describe('channel_binding', () => {
  if (transportKind === 'tcp') {
    it('channel_binding=require logs in with SCRAM-SHA-256-PLUS over TLS (the server checks the binding)', async () => {
      const db = await open({ url: `${url()}?sslmode=require&channel_binding=require` })
      expect((await db.client.queryOne<{ n: number }>('select 1 as n')).n).toBe(1)
      await db.client.end()
    })

    it('channel_binding=require refuses the md5, password and trust roles over TLS', async () => {
      for (const role of [server.roles.md5, server.roles.password, server.roles.trust]) {
        const error = await connect(`${url(role)}?sslmode=require&channel_binding=require`, {
          transport: transport(),
        }).catch((e: unknown) => e)
        expect(isPgError(error, 'auth')).toBe(true)
        expect((error as Error).message).toMatch(/channel_binding=require, but the server .*cannot bind/)
      }
    })

    it('channelBinding: require as a connect option, with pipelineConnect: scram', async () => {
      const db = await open({
        url: `${url()}?sslmode=require`,
        channelBinding: 'require',
        pipelineConnect: 'scram',
      })
      expect((await db.client.queryOne<{ n: number }>('select 2 as n')).n).toBe(2)
      await db.client.end()
    })
  } else {
    it('channel_binding=require through a relay is refused before any password is sent', async () => {
      const error = await connect(`${url()}?sslmode=prefer&channel_binding=require`, {
        transport: transport(),
      }).catch((e: unknown) => e)
      expect(isPgError(error, 'auth')).toBe(true)
      expect((error as Error).message).toMatch(/no server certificate to bind to/)
    })
  }

  it('channel_binding=require with sslmode=disable is a config error before any I/O', async () => {
    const error = await connect(`${url()}?channel_binding=require`, {
      transport: () => Promise.reject(new Error('no I/O expected')),
    }).catch((e: unknown) => e)
    expect(isPgError(error, 'config')).toBe(true)
    expect((error as Error).message).toMatch(/channel_binding=require needs TLS to PostgreSQL/)
  })
})
