/**
 * `npm run screenshots` still works as the README says: the real script (its own embedded PostgreSQL, the
 * relay, Chromium driving every scene) writes one PNG per scene at the window size it names, and a scene that
 * hits a page or console error fails it.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'

const script = fileURLToPath(new URL('../../scripts/screenshots.ts', import.meta.url))
const committed = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url))

/** Width and height from a PNG's IHDR chunk. */
function pngSize(bytes: Buffer): { width: number; height: number } {
  expect(bytes.subarray(0, 8)).toEqual(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]))
  expect(bytes.subarray(12, 16).toString('latin1')).toBe('IHDR')
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) }
}

it('takes every picture the README shows, at its window size', async () => {
  const out = await mkdtemp(join(tmpdir(), 'edgepg-shots-'))
  try {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--conditions=source', script, '--out', out],
      {
        timeout: 150_000,
      },
    )
    const taken = (await readdir(out)).sort()
    expect(taken).toEqual((await readdir(committed)).filter((name) => name.endsWith('.png')).sort())
    expect(stdout.trim().split('\n')).toHaveLength(taken.length)
    for (const name of taken) {
      const size = pngSize(await readFile(join(out, name)))
      expect(size.width, name).toBe(name === 'narrow.png' ? 420 : 1280)
      expect(size.height, name).toBeGreaterThanOrEqual(name === 'narrow.png' ? 900 : 800)
    }
  } finally {
    await rm(out, { recursive: true, force: true })
  }
}, 180_000)
