import { describe, expect, it } from 'vitest'
import { type Resolver, resolvePinned } from './resolve.ts'

/** A resolver that answers from a script, one answer per call, and records every lookup. */
function scripted(...answers: string[][]) {
  const lookups: string[] = []
  const resolve: Resolver = async (host) => {
    const answer = answers[Math.min(lookups.length, answers.length - 1)] ?? []
    lookups.push(host)
    return answer.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))
  }
  return { resolve, lookups }
}

describe('resolvePinned', () => {
  it('returns the first address of a public name', async () => {
    const { resolve, lookups } = scripted(['93.184.216.34', '2606:2800:220:1::'])
    expect(await resolvePinned('db.example', resolve)).toEqual({ ok: true, address: '93.184.216.34' })
    expect(lookups).toEqual(['db.example'])
  })

  it('resolves once, so a rebinding answer on a second lookup is never seen', async () => {
    const { resolve, lookups } = scripted(['93.184.216.34'], ['10.0.0.1'])
    const pinned = await resolvePinned('rebind.example', resolve)
    expect(pinned).toEqual({ ok: true, address: '93.184.216.34' })
    expect(lookups).toHaveLength(1)
    // The fake really would rebind: a second lookup returns the private address.
    expect(await resolve('rebind.example')).toEqual([{ address: '10.0.0.1', family: 4 }])
  })

  it('denies a name when any of its addresses is blocked, even after a public one', async () => {
    const { resolve } = scripted(['93.184.216.34', '127.0.0.1'])
    expect(await resolvePinned('mixed.example', resolve)).toEqual({
      ok: false,
      reason: 'name resolves to 127.0.0.1 is loopback',
    })
  })

  it('denies a name that resolves to a mapped or NAT64 metadata address', async () => {
    for (const address of ['::ffff:169.254.169.254', '64:ff9b::a9fe:a9fe']) {
      const { resolve } = scripted([address])
      expect(await resolvePinned('sneaky.example', resolve)).toMatchObject({ ok: false })
    }
  })

  it('denies metadata names without resolving them', async () => {
    for (const name of ['metadata.google.internal', 'metadata', 'instance-data']) {
      const { resolve, lookups } = scripted(['93.184.216.34'])
      expect(await resolvePinned(name, resolve)).toEqual({ ok: false, reason: 'metadata host name' })
      expect(lookups).toEqual([])
    }
  })

  it('skips unlisted addresses and pins the first allowed one', async () => {
    const { resolve } = scripted(['2606:2800:220:1::', '93.184.216.34', '93.184.216.35'])
    const judge = (ip: string) =>
      ip.includes(':')
        ? { verdict: 'unlisted' as const, reason: `${ip} (no rule)` }
        : { verdict: 'allowed' as const }
    expect(await resolvePinned('dual.example', resolve, judge)).toEqual({
      ok: true,
      address: '93.184.216.34',
    })
  })

  it('denies a name whose addresses are all unlisted', async () => {
    const { resolve } = scripted(['93.184.216.34'])
    const judge = (ip: string) => ({ verdict: 'unlisted' as const, reason: `${ip} (no rule)` })
    expect(await resolvePinned('db.example', resolve, judge)).toEqual({
      ok: false,
      reason: 'name resolves to 93.184.216.34 (no rule)',
    })
  })

  it('denies a name that fails to resolve, resolves to nothing, or to something that is not an IP', async () => {
    const failing: Resolver = async () => {
      throw new Error('ENOTFOUND')
    }
    expect(await resolvePinned('gone.example', failing)).toEqual({
      ok: false,
      reason: 'name does not resolve',
    })
    expect(await resolvePinned('empty.example', scripted([]).resolve)).toEqual({
      ok: false,
      reason: 'name resolves to nothing',
    })
    expect(await resolvePinned('odd.example', scripted(['evil.example']).resolve)).toMatchObject({
      ok: false,
    })
    expect(await resolvePinned('zone.example', scripted(['fe80::1%eth0']).resolve)).toMatchObject({
      ok: false,
    })
  })

  it('gives up on a resolver that does not answer in time', async () => {
    const hanging: Resolver = () => new Promise(() => {})
    expect(await resolvePinned('slow.example', hanging, undefined, { timeoutMs: 20 })).toEqual({
      ok: false,
      reason: 'name does not resolve',
    })
  })

  it('returns the canonical form of an IPv6 answer', async () => {
    const { resolve } = scripted(['2606:2800:0220:0001:0000:0000:0000:0000'])
    expect(await resolvePinned('v6.example', resolve)).toEqual({ ok: true, address: '2606:2800:220:1::' })
  })
})
