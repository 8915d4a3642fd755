/**
 * Prints a fresh relay token for the `npm start` running beyond loopback in this folder (the one it printed
 * lasts an hour): `RELAY_TOKEN=$(node scripts/launch.mjs node --conditions=source scripts/relay-token.ts)`.
 * Reads the key from `.data/postgres/relay-token-key.json` (or under `EDGEPG_DATA_DIR`).
 */
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { mintRelayToken, readRelayTokenKey } from './relay-token-key.ts'

const dataRoot = process.env.EDGEPG_DATA_DIR || fileURLToPath(new URL('../.data/postgres', import.meta.url))
try {
  console.log(await mintRelayToken(await readRelayTokenKey(join(dataRoot, 'relay-token-key.json'))))
} catch (error) {
  console.error(`relay-token: ${error instanceof Error ? error.message : error}`)
  process.exitCode = 1
}
