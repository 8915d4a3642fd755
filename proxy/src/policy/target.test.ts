import { describe, expect, it } from 'vitest'
import { canonicalHost, formatAddress, parseAddress, parseAllowRule, parseNamedTarget } from './target.ts'

const host = (address: string) => {
  const parsed = parseAddress(address)
  return parsed.ok ? parsed.value : parsed.reason
}

describe('parseAddress', () => {
  it('parses host:port and [v6]:port', () => {
    expect(host('db.internal:5432')).toEqual({ host: 'db.internal', port: 5432 })
    expect(host('10.0.0.1:1')).toEqual({ host: '10.0.0.1', port: 1 })
    expect(host('[::1]:65535')).toEqual({ host: '::1', port: 65535 })
  })

  it.each([
    ['2852039166', '169.254.169.254'],
    ['0xA9FEA9FE', '169.254.169.254'],
    ['0xa9.0xfe.0xa9.0xfe', '169.254.169.254'],
    ['0251.0376.0251.0376', '169.254.169.254'],
    ['169.16689662', '169.254.169.254'],
    ['127.1', '127.0.0.1'],
    ['0x7f.1', '127.0.0.1'],
    ['0', '0.0.0.0'],
    ['1.2.3.4.', '1.2.3.4'],
  ])('canonicalizes the inet_aton form %s to the dotted quad %s', (spelling, quad) => {
    expect(host(`${spelling}:5432`)).toEqual({ host: quad, port: 5432 })
  })

  it('compresses IPv6 and writes an IPv4-mapped address in hex', () => {
    expect(host('[::ffff:169.254.169.254]:5432')).toEqual({ host: '::ffff:a9fe:a9fe', port: 5432 })
    expect(host('[0:0:0:0:0:0:0:1]:5432')).toEqual({ host: '::1', port: 5432 })
    expect(host('[FE80::1]:5432')).toEqual({ host: 'fe80::1', port: 5432 })
  })

  it('lower-cases names and strips exactly one trailing dot', () => {
    expect(host('DB.Example.COM:5432')).toEqual({ host: 'db.example.com', port: 5432 })
    expect(host('localhost.:5432')).toEqual({ host: 'localhost', port: 5432 })
    expect(host('localhost..:5432')).toBe('invalid host')
    expect(host('127.0.0.1..:5432')).toBe('invalid host')
  })

  it.each([
    ['', 'address is empty'],
    ['db.internal', 'address has no port'],
    ['db.internal:', 'invalid port'],
    ['db.internal:0', 'invalid port'],
    ['db.internal:65536', 'invalid port'],
    ['db.internal:05432', 'invalid port'],
    ['db.internal:54.5', 'invalid port'],
    ['db.internal:-1', 'invalid port'],
    [':5432', 'address has an empty host'],
    ['[]:5432', 'invalid host'],
    ['user@db.internal:5432', 'address has forbidden characters'],
    ['db.internal:5432/path', 'address has forbidden characters'],
    ['db.internal/x:5432', 'address has forbidden characters'],
    ['db .internal:5432', 'address has forbidden characters'],
    [' db.internal:5432', 'address has forbidden characters'],
    ['db.internal:5432\n', 'address has forbidden characters'],
    ['%31%32%37.0.0.1:5432', 'address has forbidden characters'],
    ['１２７.０.０.１:5432', 'address has forbidden characters'],
    ['::1:5432', 'ipv6 address without brackets'],
    ['[::1]5432', 'malformed bracketed address'],
    ['[::1:5432', 'malformed bracketed address'],
    ['[1.2.3.4]:5432', 'invalid host'],
    ['999.1.1.1:5432', 'invalid host'],
    ['foo.0x1:5432', 'invalid host'],
    ['.db:5432', 'invalid host'],
    [`${'a'.repeat(256)}:5432`, 'invalid host'],
    [`${'a.'.repeat(200)}b:5432`, 'address is too long'],
  ])('refuses %j (%s)', (address, reason) => {
    expect(host(address)).toBe(reason)
  })
})

describe('canonicalHost', () => {
  it('accepts a bracketed or bare host and refuses a label over 63 characters', () => {
    expect(canonicalHost('[::1]')).toBe('::1')
    expect(canonicalHost('Example.com')).toBe('example.com')
    expect(canonicalHost(`${'a'.repeat(64)}.com`)).toBeUndefined()
  })
})

describe('parseAllowRule', () => {
  it('parses exact rules for names and IPs, canonicalized', () => {
    expect(parseAllowRule('DB.internal:5432')).toEqual({ kind: 'exact', host: 'db.internal', port: 5432 })
    expect(parseAllowRule('127.0.0.1:5432')).toEqual({ kind: 'exact', host: '127.0.0.1', port: 5432 })
    expect(parseAllowRule('[::1]:5432')).toEqual({ kind: 'exact', host: '::1', port: 5432 })
  })

  it('parses network rules with a port or *', () => {
    expect(parseAllowRule('10.0.0.0/8:5432')).toEqual({
      kind: 'cidr',
      network: '10.0.0.0',
      prefix: 8,
      family: 4,
      port: 5432,
    })
    expect(parseAllowRule('127.0.0.1/32:*')).toMatchObject({ network: '127.0.0.1', prefix: 32, port: '*' })
    expect(parseAllowRule('[fd00::/8]:5432')).toMatchObject({ network: 'fd00::', prefix: 8, family: 6 })
    expect(parseAllowRule('::/0:*')).toMatchObject({ network: '::', prefix: 0, family: 6, port: '*' })
  })

  it.each([
    ['db.internal', /expected host:port/],
    ['db.internal:*', /expected host:port/],
    ['10.0.0.0/33:5432', /prefix \/33 is too long/],
    ['fd00::/129:5432', /prefix \/129 is too long/],
    ['10.0.0.1/8:5432', /host bits are set/],
    ['fd00::1/8:*', /host bits are set/],
    ['10.0.0.0/8:0', /invalid port/],
    ['10.0.0.0/8:70000', /invalid port/],
    ['[10.0.0.0/8:5432', /unbalanced brackets/],
    ['012.0.0.0/8:5432', /write the network as 10.0.0.0/],
    ['1.2.3/24:5432', /write the network as 1.2.0.3/],
    ['metadata.google.internal:80', /cloud metadata host/],
    ['', /expected host:port/],
  ])('throws a clear error for %j', (rule, message) => {
    expect(() => parseAllowRule(rule)).toThrow(message)
  })

  it('quotes the rule in its error', () => {
    expect(() => parseAllowRule('nope')).toThrow('allow rule "nope" is invalid')
  })
})

describe('parseNamedTarget', () => {
  it('canonicalizes the host and accepts a bracketed IPv6', () => {
    expect(parseNamedTarget('main', { host: 'DB.internal', port: 5432 })).toEqual({
      name: 'main',
      host: 'db.internal',
      port: 5432,
    })
    expect(parseNamedTarget('v6', { host: '[::1]', port: 5432 }).host).toBe('::1')
  })

  it('throws for a bad name, host or port', () => {
    expect(() => parseNamedTarget('', { host: 'db', port: 5432 })).toThrow(/target name/)
    expect(() => parseNamedTarget('main', { host: 'a b', port: 5432 })).toThrow(/target "main"/)
    expect(() => parseNamedTarget('main', { host: 'db', port: 0 })).toThrow(/invalid port/)
    expect(() => parseNamedTarget('meta', { host: 'metadata', port: 80 })).toThrow(/metadata/)
  })
})

describe('formatAddress', () => {
  it('brackets IPv6 only', () => {
    expect(formatAddress({ host: '::1', port: 5432 })).toBe('[::1]:5432')
    expect(formatAddress({ host: '10.0.0.1', port: 5432 })).toBe('10.0.0.1:5432')
  })
})
