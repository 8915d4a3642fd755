/**
 * A real relay serving `POST /sql` in front of the test PostgreSQL, for the HTTP entry's integration tests,
 * and `http()` clients pointed at it.
 */
import { type HttpClient, type HttpOptions, http } from '@edgepg/client/http'
import { type RelayConfig, type RunningRelay, silentLogger, startRelay } from '@edgepg/proxy'
import { afterAll, beforeAll } from 'vitest'
import { type Role, server, url } from '../helpers.ts'

export const pgAddress = `${server.host}:${server.port}`

export interface SuiteRelay {
  /** The running relay (set in beforeAll). */
  readonly relay: RunningRelay
  /** Its `/sql` endpoint. */
  readonly sqlUrl: string
  /** An `http()` client through it, for `role` and connection-string `query` (e.g. `options=…`). */
  db(options?: Partial<HttpOptions> & { role?: Role; query?: string }): HttpClient
}

/** Starts a relay for the suite (stopped after it), allowing the test PostgreSQL, with `overrides`. */
export function suiteRelay(overrides: Partial<RelayConfig> = {}): SuiteRelay {
  let relay: RunningRelay | undefined
  beforeAll(async () => {
    relay = await startRelay(
      { port: 0, allow: [pgAddress], allowMissingOrigin: 'always', shutdownGrace: 1000, ...overrides },
      { logger: silentLogger },
    )
  })
  afterAll(async () => {
    await relay?.shutdown()
  })
  const running = () => {
    if (!relay) throw new Error('the relay is not started yet: use it inside a test or hook')
    return relay
  }
  return {
    get relay() {
      return running()
    },
    get sqlUrl() {
      return `${running().url}/sql`
    },
    db({ role, query, ...options } = {}) {
      const target = query === undefined ? url(role) : `${url(role)}?${query}`
      return http(target, { url: `${running().url}/sql`, ...options })
    },
  }
}
