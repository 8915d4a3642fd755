/**
 * One embedded PostgreSQL 18 for the whole test run, shared with every project through provide()/inject().
 * It is stopped and its data directory removed at the end, also when tests fail or the run is interrupted.
 */
import type { TestProject } from 'vitest/node'
import { type PgServer, type Role, startEmbeddedPostgres } from '../scripts/embedded-pg.ts'

export interface TestPg {
  host: string
  port: number
  database: string
  superuser: Role
  roles: PgServer['roles']
}

declare module 'vitest' {
  export interface ProvidedContext {
    pg: TestPg
  }
}

let server: PgServer | undefined

export default async function setup(project: TestProject) {
  const logs: string[] = []
  try {
    server = await startEmbeddedPostgres({ log: (line) => logs.push(line) })
  } catch (error) {
    console.error(logs.join('\n'))
    throw error
  }
  const { host, port, database, superuser, roles } = server
  project.provide('pg', { host, port, database, superuser, roles })
  const stop = async () => {
    const s = server
    server = undefined
    await s?.stop()
  }
  process.once('SIGINT', () => void stop().finally(() => process.exit(130)))
  process.once('SIGTERM', () => void stop().finally(() => process.exit(143)))
  return stop
}
