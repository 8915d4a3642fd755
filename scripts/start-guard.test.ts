import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import type { NetworkInterfaceInfo } from 'node:os'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { exposureFor, isLoopbackHost, lockFile, pageOrigins, takeLock } from './start-guard.ts'

describe('isLoopbackHost', () => {
  it('takes localhost, 127.0.0.0/8 and ::1 as loopback, and nothing else', () => {
    for (const host of [
      'localhost',
      '127.0.0.1',
      '127.9.8.7',
      '::1',
      '[::1]',
      '::ffff:127.0.0.1',
      'LOCALHOST',
    ])
      expect(isLoopbackHost(host), host).toBe(true)
    for (const host of [
      '0.0.0.0',
      '::',
      '192.0.2.2',
      'fd00::2',
      '128.0.0.1',
      'example.com',
      '::ffff:10.0.0.1',
    ])
      expect(isLoopbackHost(host), host).toBe(false)
  })

  it('gives the page the password and admits Origin-less clients on loopback only', () => {
    expect(exposureFor('127.0.0.1')).toEqual({ allowMissingOrigin: 'always', sharesPassword: true })
    expect(exposureFor('0.0.0.0')).toEqual({ allowMissingOrigin: 'with-token', sharesPassword: false })
  })
})

describe('pageOrigins', () => {
  const address = (value: string, family: 'IPv4' | 'IPv6', internal: boolean) =>
    ({ address: value, family, internal }) as NetworkInterfaceInfo
  const interfaces = {
    lo: [address('127.0.0.1', 'IPv4', true), address('::1', 'IPv6', true)],
    eth0: [address('192.0.2.2', 'IPv4', false), address('fd00::2', 'IPv6', false)],
  }

  it("allows each of this machine's addresses on a wildcard host, a non-loopback one first", () => {
    expect(pageOrigins('0.0.0.0', 80, interfaces)).toEqual([
      'http://192.0.2.2:80',
      'http://127.0.0.1:80',
      'http://localhost:80',
    ])
    expect(pageOrigins('::', 80, interfaces)).toEqual([
      'http://192.0.2.2:80',
      'http://[fd00::2]:80',
      'http://127.0.0.1:80',
      'http://[::1]:80',
      'http://localhost:80',
    ])
  })

  it('allows the host itself otherwise (and localhost beside 127.0.0.1)', () => {
    expect(pageOrigins('192.0.2.2', 8080, interfaces)).toEqual(['http://192.0.2.2:8080'])
    expect(pageOrigins('fd00::2', 8080, interfaces)).toEqual(['http://[fd00::2]:8080'])
    expect(pageOrigins('127.0.0.1', 8080, interfaces)).toEqual([
      'http://127.0.0.1:8080',
      'http://localhost:8080',
    ])
  })
})

describe('takeLock', () => {
  let root: string
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'edgepg-lock-'))
    await chmod(root, 0o755)
  })
  afterEach(async () => {
    await rm(root, { recursive: true, force: true })
  })

  it('reports the live process holding the folder, takes over the pid file of a dead one', async () => {
    // The parent of this process (vitest's runner or a shell) is alive and is not this process.
    await writeFile(lockFile(root), `${process.ppid}\n`)
    expect(await takeLock(root)).toEqual({ heldBy: process.ppid })
    await writeFile(lockFile(root), '999999999\n')
    const lock = await takeLock(root)
    expect(lock).toHaveProperty('release')
    expect(await readFile(lockFile(root), 'utf8')).toBe(`${process.pid}\n`)
    if ('release' in lock) await lock.release()
    await expect(readFile(lockFile(root))).rejects.toThrow(/ENOENT/)
  })
})
