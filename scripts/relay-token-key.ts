/**
 * The relay-token key of an `npm start` beyond loopback: a random HMAC secret made for one start, kept in a
 * 0600 file beside the data (so `scripts/relay-token.ts` can sign more tokens while it runs) and removed at
 * stop. A token it signs names the one database the relay allows and lasts an hour (the relay's cap).
 */
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { mintToken } from '@edgepg/proxy'

/** What the key file holds. */
export interface RelayTokenKey {
  secret: string
  /** `host:port` of the database: the tokens' target. */
  target: string
}

/** Lifetime of the tokens signed here, seconds: the relay's longest accepted lifetime. */
export const TOKEN_LIFETIME_SECONDS = 3600

/** Makes a new key for `target` and writes it to `file` (0600), replacing any earlier start's. */
export async function writeRelayTokenKey(file: string, target: string): Promise<RelayTokenKey> {
  const key = { secret: randomBytes(32).toString('base64url'), target }
  await mkdir(dirname(file), { recursive: true, mode: 0o755 })
  await rm(file, { force: true })
  await writeFile(file, `${JSON.stringify(key)}\n`, { mode: 0o600, flag: 'wx' })
  return key
}

/** Reads the key `npm start` wrote; a clear error when there is none (not running, or on loopback). */
export async function readRelayTokenKey(file: string): Promise<RelayTokenKey> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error
    throw new Error(
      `no relay-token key at ${file}: tokens exist only while npm start runs beyond loopback (EDGEPG_HOST)`,
    )
  })
  const key = JSON.parse(text) as Partial<RelayTokenKey>
  if (typeof key.secret !== 'string' || typeof key.target !== 'string')
    throw new Error(`${file} is not a relay-token key: expected {"secret": …, "target": …}`)
  return { secret: key.secret, target: key.target }
}

/** A token for the key's target, valid for {@link TOKEN_LIFETIME_SECONDS} from now, reusable until then. */
export function mintRelayToken(key: RelayTokenKey, now = Math.floor(Date.now() / 1000)): Promise<string> {
  return mintToken(key.secret, { tgt: key.target, iat: now, exp: now + TOKEN_LIFETIME_SECONDS })
}
