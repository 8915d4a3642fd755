/**
 * `@edgepg/prisma`: a Prisma driver adapter for edgepg.
 *
 * @example
 * ```ts
 * import { createPool } from '@edgepg/client'
 * import { nodeSocket } from '@edgepg/client/node'
 * import { PrismaEdgePg } from '@edgepg/prisma'
 * import { PrismaClient } from './generated/prisma/client.ts'
 *
 * const pool = createPool(process.env.DATABASE_URL, { transport: nodeSocket(), types: { raw: true } })
 * const prisma = new PrismaClient({ adapter: new PrismaEdgePg(pool) })
 * ```
 */
export { type PoolSource, PrismaEdgePg, type PrismaEdgePgOptions } from './adapter.ts'
