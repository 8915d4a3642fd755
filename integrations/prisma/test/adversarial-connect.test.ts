/**
 * Adversarial probes of connection failures through @edgepg/prisma over both transports: a wrong password
 * and a database that does not exist, each as Prisma's own code.
 */
import { createPool } from '@edgepg/client'
import { describe, expect, it } from 'vitest'
import { PrismaEdgePg } from '../src/index.ts'
import { PrismaClient, server, TRANSPORTS, transport } from './helpers.ts'

const { user, password } = server.roles.scram
const u = encodeURIComponent(user)

function client(connection: string, t = transport('tcp')) {
  return new PrismaClient({
    adapter: new PrismaEdgePg(
      createPool(connection, {
        transport: t,
        types: { raw: true },
        max: 1,
        openBackoffMax: 0,
        acquireTimeout: 5_000,
      }),
    ),
  })
}

async function codeOf(db: PrismaClient) {
  try {
    await db.person.count()
    return 'no error'
  } catch (error) {
    const e = error as {
      code?: string
      errorCode?: string
      meta?: { driverAdapterError?: { cause?: { kind?: string } } }
      message: string
    }
    return { code: e.code ?? e.errorCode, kind: e.meta?.driverAdapterError?.cause?.kind }
  } finally {
    await db.$disconnect()
  }
}

for (const kind of TRANSPORTS) {
  describe(`adversarial connection failures over ${kind}`, () => {
    it('a wrong password is P1000', async () => {
      expect(
        await codeOf(
          client(`postgres://${u}:wrong@${server.host}:${server.port}/${server.database}`, transport(kind)),
        ),
      ).toEqual({ code: 'P1000', kind: 'AuthenticationFailed' })
    })
    it('a database that does not exist is P1003', async () => {
      expect(
        await codeOf(
          client(
            `postgres://${u}:${encodeURIComponent(password)}@${server.host}:${server.port}/no_such_db`,
            transport(kind),
          ),
        ),
      ).toEqual({ code: 'P1003', kind: 'DatabaseDoesNotExist' })
    })
  })
}
