import { describe, expect, it } from 'vitest'
import { parseCli } from './cli.ts'
import { DEFAULTS, resolveConfig } from './config.ts'
import { configFromEnv } from './runtime/worker-config.ts'

const allow = ['127.0.0.1:5432']

describe('ipv6PrefixLength', () => {
  it('defaults to 64 and accepts 1 to 128', () => {
    expect(DEFAULTS.ipv6PrefixLength).toBe(64)
    expect(resolveConfig({ allow }).ipv6PrefixLength).toBe(64)
    expect(resolveConfig({ allow, ipv6PrefixLength: 1 }).ipv6PrefixLength).toBe(1)
    expect(resolveConfig({ allow, ipv6PrefixLength: 128 }).ipv6PrefixLength).toBe(128)
  })

  it('stops start-up outside 1 to 128 or when not a whole number', () => {
    for (const bad of [0, 129, 56.5, -64]) {
      expect(() => resolveConfig({ allow, ipv6PrefixLength: bad })).toThrow(
        `invalid ipv6PrefixLength: expected an integer from 1 to 128, found ${bad}`,
      )
    }
  })

  it('comes from --ipv6-prefix-length or EDGEPG_IPV6_PREFIX_LENGTH (Node) and EDGEPG_IPV6_PREFIX_LENGTH (Worker)', () => {
    expect(parseCli(['--ipv6-prefix-length', '56'], {}).ipv6PrefixLength).toBe(56)
    expect(parseCli([], { EDGEPG_IPV6_PREFIX_LENGTH: '48' }).ipv6PrefixLength).toBe(48)
    expect(configFromEnv({ EDGEPG_IPV6_PREFIX_LENGTH: '48' }).ipv6PrefixLength).toBe(48)
    expect(() => parseCli(['--ipv6-prefix-length', 'wide'], {})).toThrow(
      'invalid ipv6PrefixLength: "wide" is not a number',
    )
  })
})

describe('/sql settings', () => {
  it('default to serving /sql with a 15 s deadline, 1 MiB requests, 10 MiB results, pools of 10 and 100', () => {
    expect(resolveConfig({ allow })).toMatchObject({
      sql: true,
      sqlTimeout: 15_000,
      sqlMaxRequestBytes: 1024 * 1024,
      sqlMaxResponseBytes: 10 * 1024 * 1024,
      sqlPoolMaxPerKey: 10,
      sqlPoolMax: 100,
      sqlPoolIdleTimeout: 60_000,
      sqlPoolAcquireTimeout: 5_000,
      sqlPoolMaxWaiting: 1_000,
      behindTls: false,
    })
  })

  it('stop start-up on a bad value, naming the setting', () => {
    expect(() => resolveConfig({ allow, sqlTimeout: 0 })).toThrow(
      'invalid sqlTimeout: expected a positive integer, found 0',
    )
    expect(() => resolveConfig({ allow, sqlTimeout: 2 ** 31 })).toThrow(
      'invalid sqlTimeout: expected at most 2147483647 ms, found 2147483648',
    )
    expect(() => resolveConfig({ allow, sqlMaxResponseBytes: 1.5 })).toThrow('invalid sqlMaxResponseBytes')
    expect(() => resolveConfig({ allow, sqlPoolMaxWaiting: -1 })).toThrow('invalid sqlPoolMaxWaiting')
    expect(() => resolveConfig({ allow, sqlPoolMaxPerKey: 11, sqlPoolMax: 10 })).toThrow(
      'invalid sqlPoolMaxPerKey: expected at most sqlPoolMax (10), found 11',
    )
    expect(() => resolveConfig({ allow, sql: 'no' as unknown as boolean })).toThrow(
      'invalid sql: expected true or false, found "no"',
    )
    expect(() => resolveConfig({ allow, behindTls: 1 as unknown as boolean })).toThrow('invalid behindTls')
  })

  it('come from flags and EDGEPG_* variables', () => {
    expect(
      parseCli(
        [
          '--sql-timeout',
          '2000',
          '--sql-max-request-bytes',
          '4096',
          '--sql-max-response-bytes',
          '8192',
          '--sql-pool-max-per-key',
          '3',
          '--sql-pool-max',
          '9',
          '--sql-pool-idle-timeout',
          '1000',
          '--sql-pool-acquire-timeout',
          '500',
          '--sql-pool-max-waiting',
          '7',
          '--behind-tls',
          '--no-sql',
        ],
        {},
      ),
    ).toMatchObject({
      sqlTimeout: 2000,
      sqlMaxRequestBytes: 4096,
      sqlMaxResponseBytes: 8192,
      sqlPoolMaxPerKey: 3,
      sqlPoolMax: 9,
      sqlPoolIdleTimeout: 1000,
      sqlPoolAcquireTimeout: 500,
      sqlPoolMaxWaiting: 7,
      behindTls: true,
      sql: false,
    })
    expect(
      parseCli([], { EDGEPG_SQL_TIMEOUT: '3000', EDGEPG_BEHIND_TLS: 'true', EDGEPG_SQL: 'false' }),
    ).toMatchObject({ sqlTimeout: 3000, behindTls: true, sql: false })
    expect(parseCli([], { EDGEPG_SQL: '1' }).sql).toBe(true)
    expect(parseCli([], {}).sql).toBeUndefined()
    expect(() => parseCli([], { EDGEPG_SQL: 'maybe' })).toThrow(
      'invalid EDGEPG_SQL: expected true or false, found "maybe"',
    )
  })
})

describe('pipelinePacing', () => {
  it('defaults to 1 ms and accepts 0 (off) to 100', () => {
    expect(resolveConfig({ allow }).pipelinePacing).toBe(1)
    expect(resolveConfig({ allow, pipelinePacing: 0 }).pipelinePacing).toBe(0)
    expect(resolveConfig({ allow, pipelinePacing: 100 }).pipelinePacing).toBe(100)
  })

  it('stops start-up outside 0 to 100 or when not a whole number of milliseconds', () => {
    for (const bad of [-1, 101, 0.5, Number.NaN]) {
      expect(() => resolveConfig({ allow, pipelinePacing: bad })).toThrow(
        `invalid pipelinePacing: expected a whole number of milliseconds from 0 to 100, found ${bad}`,
      )
    }
  })

  it('comes from --pipeline-pacing or EDGEPG_PIPELINE_PACING', () => {
    expect(parseCli(['--pipeline-pacing', '0'], {}).pipelinePacing).toBe(0)
    expect(parseCli([], { EDGEPG_PIPELINE_PACING: '2' }).pipelinePacing).toBe(2)
  })
})
