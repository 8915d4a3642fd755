/**
 * The module `pack-check.ts` runs in its fresh project when `DATABASE_URL` is set: one query through each
 * integration's library, from the installed tarballs, printed as `ran <package>: n = 42`. A package with no
 * smoke here fails the check, so a new integration cannot ship unchecked.
 */
export const SMOKE_SOURCE = `
import { createPool } from '@edgepg/client'
import { nodeSocket } from '@edgepg/client/node'

const url = process.env.DATABASE_URL
const pool = () => createPool(url, { transport: nodeSocket(), max: 2 })

const smokes = {
  '@edgepg/shared': async () => 'no query (a contract package)',
  '@edgepg/client': async () => {
    const p = pool()
    try {
      const { rows } = await p.query('select 40 + $1::int as n', [2])
      return 'n = ' + rows[0].n
    } finally {
      await p.end()
    }
  },
  '@edgepg/kysely': async () => {
    const { Kysely, sql } = await import('kysely')
    const { EdgePgDialect } = await import('@edgepg/kysely')
    const db = new Kysely({ dialect: new EdgePgDialect({ pool: pool() }) })
    try {
      const { rows } = await sql\`select 40 + \${2}::int as n\`.execute(db)
      return 'n = ' + rows[0].n
    } finally {
      await db.destroy()
    }
  },
  '@edgepg/drizzle': async () => {
    const { sql } = await import('drizzle-orm')
    const { drizzle } = await import('@edgepg/drizzle')
    const p = pool()
    try {
      const { rows } = await drizzle(p).execute(sql\`select 40 + \${2}::int as n\`)
      return 'n = ' + rows[0].n
    } finally {
      await p.end()
    }
  },
  '@edgepg/prisma': async () => {
    const { PrismaEdgePg } = await import('@edgepg/prisma')
    const adapter = await new PrismaEdgePg(url, { transport: nodeSocket(), max: 2 }).connect()
    try {
      const result = await adapter.queryRaw({ sql: 'select 40 + $1::int as n', args: [2], argTypes: [{ scalarType: 'int', arity: 'scalar' }] })
      return 'n = ' + result.rows[0][0]
    } finally {
      await adapter.dispose()
    }
  },
}

for (const name of process.argv.slice(2)) {
  const smoke = smokes[name]
  if (!smoke) throw new Error('expected a smoke query for ' + name + ' in scripts/pack-smoke.ts, found none')
  console.log('ran ' + name + ': ' + (await smoke()))
}
`
