// With `metricsToken` set, /metrics is no public page: only a request with that bearer token gets it, and
// anyone else gets the same 404 as for an unknown path. /healthz stays open.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseCli } from '../src/cli.ts'
import { resolveConfig } from '../src/config.ts'
import { startTestRelay, type TestRelay } from './helpers.ts'

const METRICS_TOKEN = 'metrics-token-metrics-token-0123'
let relay: TestRelay
beforeAll(async () => {
  relay = await startTestRelay({ metricsToken: METRICS_TOKEN })
})
afterAll(() => relay.shutdown())

const get = (path: string, authorization?: string) =>
  fetch(`${relay.url}${path}`, authorization ? { headers: { authorization } } : {})

describe('metricsToken', () => {
  it('answers /metrics only with its bearer token; anything else gets the unknown-path 404', async () => {
    for (const authorization of [
      undefined,
      'Bearer wrong',
      `Basic ${METRICS_TOKEN}`,
      `Bearer ${METRICS_TOKEN}x`,
    ]) {
      const response = await get('/metrics', authorization)
      expect(response.status).toBe(404)
      expect(await response.text()).toBe('not found')
    }
    const response = await get('/metrics', `Bearer ${METRICS_TOKEN}`)
    expect(response.status).toBe(200)
    expect(await response.text()).toContain('edgepg_relay_open_sessions')
    expect((await get('/healthz')).status).toBe(200)
  })
})

describe('metricsToken settings', () => {
  it('come from --metrics-token or EDGEPG_METRICS_TOKEN, and a short one stops start-up', () => {
    expect(parseCli(['--metrics-token', METRICS_TOKEN], {}).metricsToken).toBe(METRICS_TOKEN)
    expect(parseCli([], { EDGEPG_METRICS_TOKEN: METRICS_TOKEN }).metricsToken).toBe(METRICS_TOKEN)
    expect(() => resolveConfig({ allow: ['127.0.0.1:5432'], metricsToken: 'short' })).toThrow(
      'invalid metricsToken: expected at least 16 characters',
    )
  })
})
