import { describe, expect, it } from 'vitest'
import { blockedRange, canonicalIp, embeddedIPv4, isBlockedAddress, matchesRule, opensRange } from './ip.ts'
import { parseAllowRule } from './target.ts'

const why = (ip: string, allowPrivate = false) => blockedRange(ip, { allowPrivate })?.why

describe('blockedRange over IPv4', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.10', 'private'],
    ['169.254.1.1', 'link-local'],
    ['169.254.169.254', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['100.64.0.1', 'carrier-grade nat'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.1', 'documentation'],
    ['198.18.0.1', 'benchmarking'],
  ])('blocks %s as %s', (ip, range) => {
    expect(why(ip)).toBe(range)
    expect(isBlockedAddress(ip)).toBe(true)
  })

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '172.15.255.255',
    '172.32.0.0',
    '100.63.255.255',
    '100.128.0.0',
    '11.0.0.1',
  ])('lets the public address %s through', (ip) => {
    expect(blockedRange(ip)).toBeUndefined()
    expect(isBlockedAddress(ip)).toBe(false)
  })
})

describe('blockedRange over IPv6', () => {
  it.each([
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fc00::1', 'unique local'],
    ['fd12:3456::1', 'unique local'],
    ['fe80::1', 'link-local'],
    ['fd00:ec2::254', 'metadata'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['2001::1', 'protocol assignments'],
    ['::7f00:1', 'ipv4-compatible'],
    ['64:ff9b:1::1', 'local-use nat64'],
    ['fec0::1', 'site-local'],
  ])('blocks %s as %s', (ip, range) => {
    expect(why(ip)).toBe(range)
  })

  it('lets a public IPv6 address through', () => {
    expect(blockedRange('2606:4700:4700::1111')).toBeUndefined()
    expect(blockedRange('2a00:1450:4001:82a::200e')).toBeUndefined()
  })
})

describe('IPv4 carried in IPv6', () => {
  it.each([
    ['::ffff:169.254.169.254', '169.254.169.254', 'metadata'],
    ['::ffff:a9fe:a9fe', '169.254.169.254', 'metadata'],
    ['::FFFF:127.0.0.1', '127.0.0.1', 'loopback'],
    ['64:ff9b::a9fe:a9fe', '169.254.169.254', 'metadata'],
    ['64:ff9b::10.0.0.1', '10.0.0.1', 'private'],
    ['2002:7f00:1::1', '127.0.0.1', 'loopback'],
    ['2002:c0a8:101::', '192.168.1.1', 'private'],
  ])('judges %s as the IPv4 address %s it carries (%s)', (ip, v4, range) => {
    expect(embeddedIPv4(ip)).toBe(v4)
    expect(why(ip)).toBe(range)
  })

  it('lets a mapped, NAT64 or 6to4 public address through', () => {
    expect(blockedRange('::ffff:8.8.8.8')).toBeUndefined()
    expect(blockedRange('64:ff9b::808:808')).toBeUndefined()
    expect(blockedRange('2002:808:808::1')).toBeUndefined()
  })

  it('finds no IPv4 in an ordinary IPv6 or IPv4 address', () => {
    expect(embeddedIPv4('2606:4700::1')).toBeUndefined()
    expect(embeddedIPv4('8.8.8.8')).toBeUndefined()
  })
})

describe('invalid input', () => {
  it('blocks what is not an IP, and an IPv6 address with a zone', () => {
    expect(why('db.internal')).toBe('not an ip')
    expect(why('fe80::1%eth0')).toBe('not an ip')
    expect(why('2852039166')).toBe('not an ip')
    expect(canonicalIp('::ffff:1.2.3.4')).toBe('::ffff:102:304')
  })
})

describe('allowPrivate', () => {
  it('opens private networks, loopback, unique local and CGNAT', () => {
    for (const ip of [
      '10.0.0.1',
      '127.0.0.1',
      '192.168.0.1',
      '::1',
      'fd12::1',
      '100.64.0.1',
      '::ffff:10.0.0.1',
    ])
      expect(why(ip, true)).toBeUndefined()
  })

  it('keeps link-local, metadata, unspecified and multicast blocked', () => {
    expect(why('169.254.1.1', true)).toBe('link-local')
    expect(why('169.254.169.254', true)).toBe('metadata')
    expect(why('100.100.100.200', true)).toBe('metadata')
    expect(why('fd00:ec2::254', true)).toBe('metadata')
    expect(why('0.0.0.0', true)).toBe('unspecified')
    expect(why('fe80::1', true)).toBe('link-local')
    expect(why('224.0.0.1', true)).toBe('multicast')
  })
})

describe('matchesRule', () => {
  it('matches an exact rule on its IP and port only', () => {
    const rule = parseAllowRule('127.0.0.1:5432')
    expect(matchesRule('127.0.0.1', 5432, rule)).toBe(true)
    expect(matchesRule('127.0.0.1', 5433, rule)).toBe(false)
    expect(matchesRule('127.0.0.2', 5432, rule)).toBe(false)
  })

  it('treats an IPv4-mapped address as its IPv4 address, both ways', () => {
    expect(matchesRule('::ffff:127.0.0.1', 5432, parseAllowRule('127.0.0.1:5432'))).toBe(true)
    expect(matchesRule('127.0.0.1', 5432, parseAllowRule('[::ffff:127.0.0.1]:5432'))).toBe(true)
    expect(matchesRule('::ffff:10.1.2.3', 5432, parseAllowRule('10.0.0.0/8:5432'))).toBe(true)
  })

  it('does not treat a NAT64 address as the IPv4 address it carries', () => {
    expect(matchesRule('64:ff9b::7f00:1', 5432, parseAllowRule('127.0.0.1:5432'))).toBe(false)
    expect(matchesRule('64:ff9b::a00:1', 5432, parseAllowRule('10.0.0.0/8:5432'))).toBe(false)
  })

  it('never matches an IP against an exact rule for a name', () => {
    expect(matchesRule('10.0.0.1', 5432, parseAllowRule('db.internal:5432'))).toBe(false)
  })

  it('matches network rules by family, prefix and port', () => {
    const rule = parseAllowRule('10.0.0.0/8:5432')
    expect(matchesRule('10.255.0.1', 5432, rule)).toBe(true)
    expect(matchesRule('11.0.0.1', 5432, rule)).toBe(false)
    expect(matchesRule('10.0.0.1', 22, rule)).toBe(false)
    expect(matchesRule('10.0.0.1', 22, parseAllowRule('10.0.0.0/8:*'))).toBe(true)
    expect(matchesRule('fd00::1', 5432, parseAllowRule('[fd00::/8]:5432'))).toBe(true)
    expect(matchesRule('fe80::1', 5432, parseAllowRule('[fd00::/8]:5432'))).toBe(false)
    expect(matchesRule('10.0.0.1', 5432, parseAllowRule('::/0:*'))).toBe(false)
  })
})

describe('opensRange', () => {
  const range = (ip: string) => blockedRange(ip)!

  it('opens any range for an exact rule', () => {
    expect(opensRange(parseAllowRule('127.0.0.1:5432'), range('127.0.0.1'))).toBe(true)
    expect(opensRange(parseAllowRule('169.254.169.254:80'), range('169.254.169.254'))).toBe(true)
  })

  it('opens a range only for a network rule that lies inside it', () => {
    expect(opensRange(parseAllowRule('127.0.0.1/32:*'), range('127.0.0.1'))).toBe(true)
    expect(opensRange(parseAllowRule('10.1.0.0/16:5432'), range('10.1.2.3'))).toBe(true)
    expect(opensRange(parseAllowRule('0.0.0.0/0:*'), range('10.1.2.3'))).toBe(false)
    expect(opensRange(parseAllowRule('172.0.0.0/8:*'), range('172.16.0.1'))).toBe(false)
    expect(opensRange(parseAllowRule('::/0:*'), range('::1'))).toBe(false)
    expect(opensRange(parseAllowRule('[fd00::/8]:*'), range('fd00::1'))).toBe(true)
  })

  it('never opens a metadata endpoint for a network rule', () => {
    expect(opensRange(parseAllowRule('169.254.0.0/16:*'), range('169.254.169.254'))).toBe(false)
    expect(opensRange(parseAllowRule('169.254.169.254/32:*'), range('169.254.169.254'))).toBe(false)
    expect(opensRange(parseAllowRule('169.254.0.0/16:*'), range('169.254.1.1'))).toBe(true)
  })
})
