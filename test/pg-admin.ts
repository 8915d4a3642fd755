/**
 * What every test project's helpers share: SQL run as the test PostgreSQL's superuser through node-postgres
 * (the reference client), and polling for a condition.
 */
import pg from 'pg'
import { inject } from 'vitest'

/** Runs SQL as the superuser through node-postgres (the reference client), on a connection of its own. */
export async function admin<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]> {
  const server = inject('pg')
  const client = new pg.Client({
    host: server.host,
    port: server.port,
    user: server.superuser.user,
    password: server.superuser.password,
    database: server.database,
  })
  await client.connect()
  try {
    return (await client.query(sql, params)).rows as T[]
  } finally {
    await client.end()
  }
}

/** Resolves when `check` returns true, polling every 20 ms; rejects after `timeout` ms. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeout = 10_000): Promise<void> {
  const deadline = Date.now() + timeout
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeout} ms`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** How many server sessions with `application_name` are open (what a test checks its pools left behind). */
export async function sessionsNamed(applicationName: string): Promise<number> {
  const rows = await admin<{ n: number }>(
    'select count(*)::int as n from pg_stat_activity where application_name = $1',
    [applicationName],
  )
  return rows[0]!.n
}
