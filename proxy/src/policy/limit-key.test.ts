import { describe, expect, it } from 'vitest'
import { connectionLimitKey } from './limit-key.ts'

describe('connectionLimitKey', () => {
  it('gives every spelling of one IPv6 address the same key', () => {
    const keys = ['2001:db8::1', '2001:DB8::1', '2001:0db8::1', '2001:db8:0::1', '2001:db8:0:0:0:0:0:1'].map(
      (ip) => connectionLimitKey(ip, 128),
    )
    expect(new Set(keys)).toEqual(new Set(['2001:db8::1/128']))
  })

  it('puts the addresses of one IPv6 /64 in one bucket, and a neighbouring /64 in another', () => {
    for (const ip of ['2001:db8::1', '2001:DB8:0:0::2', '2001:db8::ffff', '2001:db8::abcd:1:2:3']) {
      expect(connectionLimitKey(ip, 64)).toBe('2001:db8::/64')
    }
    expect(connectionLimitKey('2001:db8:0:1::1', 64)).toBe('2001:db8:0:1::/64')
  })

  it('buckets by a prefix that is not a multiple of 16 bits', () => {
    expect(connectionLimitKey('2001:db8:0:ff::1', 56)).toBe('2001:db8::/56')
    expect(connectionLimitKey('2001:db8:0:100::1', 56)).toBe('2001:db8:0:100::/56')
    expect(connectionLimitKey('8000::1', 1)).toBe('8000::/1')
    expect(connectionLimitKey('7fff:ffff::1', 1)).toBe('::/1')
  })

  it('counts an IPv4-mapped IPv6 address as the IPv4 address it carries', () => {
    for (const ip of [
      '::ffff:203.0.113.9',
      '::FFFF:203.0.113.9',
      '::ffff:cb00:7109',
      '0:0:0:0:0:ffff:cb00:7109',
    ]) {
      expect(connectionLimitKey(ip, 64)).toBe('203.0.113.9')
    }
    expect(connectionLimitKey('203.0.113.9', 64)).toBe('203.0.113.9')
  })

  it('keys IPv4 per address, not per network', () => {
    expect(connectionLimitKey('203.0.113.10', 64)).toBe('203.0.113.10')
  })

  it('drops an IPv6 zone before bucketing', () => {
    expect(connectionLimitKey('fe80::1%eth0', 64)).toBe('fe80::/64')
  })

  it('keeps text that is not an IP as it is', () => {
    expect(connectionLimitKey('unknown', 64)).toBe('unknown')
    expect(connectionLimitKey('', 64)).toBe('')
  })
})
