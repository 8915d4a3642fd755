/**
 * What `npm start` decides before it starts anything: whether its host is loopback (and so how open the relay
 * and the playground may be), and whether another `npm start` already runs on the same data folder.
 */
import { readFile, rm, writeFile } from 'node:fs/promises'
import { isIP } from 'node:net'
import { type NetworkInterfaceInfo, networkInterfaces } from 'node:os'
import { join } from 'node:path'

/** True for `localhost`, 127.0.0.0/8 and ::1 (bracketed or not, IPv4-mapped included). */
export function isLoopbackHost(host: string): boolean {
  const bare = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true
  if (isIP(bare) === 4) return bare.startsWith('127.')
  if (isIP(bare) === 6) {
    if (bare === '::1' || bare === '0:0:0:0:0:0:0:1') return true
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(bare)
    return mapped?.[1]?.startsWith('127.') === true
  }
  return false
}

/** How the relay and the page are opened for a host. */
export interface Exposure {
  /** Clients without an Origin header (Node, curl): admitted on loopback only. */
  allowMissingOrigin: 'always' | 'with-token'
  /** Whether `/playground/config.json` may carry the database's password. */
  sharesPassword: boolean
}

/**
 * On loopback only this machine reaches the relay: the page gets the password and Node clients need no Origin.
 * Beyond it the page gets no password (the user types the one in DATABASE_URL) and the relay admits only the
 * page's own Origin (a client without an Origin needs a token, and this relay has no token secret).
 */
export function exposureFor(host: string): Exposure {
  return isLoopbackHost(host)
    ? { allowMissingOrigin: 'always', sharesPassword: true }
    : { allowMissingOrigin: 'with-token', sharesPassword: false }
}

/**
 * The origins the page is opened at, first the one to print: the host's own (`localhost` too on 127.0.0.1);
 * for `0.0.0.0` or `::` (every interface), one per address of this machine, a non-loopback one first.
 */
export function pageOrigins(
  host: string,
  port: number,
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): string[] {
  const origin = (name: string) => `http://${name.includes(':') ? `[${name}]` : name}:${port}`
  if (host === '127.0.0.1') return [origin(host), origin('localhost')]
  if (host !== '0.0.0.0' && host !== '::') return [origin(host)]
  const addresses = Object.values(interfaces)
    .flatMap((list) => list ?? [])
    .filter((address) => host === '::' || address.family === 'IPv4')
    .sort((a, b) => Number(a.internal) - Number(b.internal))
    .map((address) => address.address)
  return [...new Set([...addresses.map(origin), origin('localhost')])]
}

/** The pid file of the `npm start` that holds a data folder. */
export const lockFile = (dataRoot: string) => join(dataRoot, 'start.pid')

/**
 * Writes this process's pid to `<dataRoot>/start.pid` unless a live process already holds it; returns that
 * process's pid when it does (a file left by a process that died is taken over).
 */
export async function takeLock(dataRoot: string): Promise<{ heldBy: number } | { release(): Promise<void> }> {
  const file = lockFile(dataRoot)
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await writeFile(file, `${process.pid}\n`, { flag: 'wx' })
      return { release: () => rm(file, { force: true }) }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    const holder = await lockHolder(dataRoot)
    if (holder !== undefined) return { heldBy: holder }
    await rm(file, { force: true })
  }
  throw new Error(`could not take ${file}: expected to create it, found it recreated three times`)
}

/** The pid in `<dataRoot>/start.pid` when that process is alive; undefined otherwise. */
export async function lockHolder(dataRoot: string): Promise<number | undefined> {
  let text: string
  try {
    text = await readFile(lockFile(dataRoot), 'utf8')
  } catch {
    return undefined
  }
  const pid = Number(text.trim())
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined
  try {
    process.kill(pid, 0)
    return pid
  } catch (error) {
    // EPERM: alive, owned by another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined
  }
}
