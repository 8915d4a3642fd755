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
