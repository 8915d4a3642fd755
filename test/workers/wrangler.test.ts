/** `wrangler deploy --dry-run` bundles the relay Worker from the root wrangler.toml, offline. */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))
const wrangler = join(root, 'node_modules/wrangler/bin/wrangler.js')
let scratch: string | undefined

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true })
})

describe('wrangler.toml', () => {
  it('bundles the relay Worker with wrangler deploy --dry-run, without network access', async () => {
    scratch = await mkdtemp(join(tmpdir(), 'edgepg-wrangler-'))
    const outdir = join(scratch, 'out')
    await promisify(execFile)(process.execPath, [wrangler, 'deploy', '--dry-run', '--outdir', outdir], {
      cwd: root,
      env: {
        ...process.env,
        WRANGLER_SEND_METRICS: 'false',
        CLOUDFLARE_CF_FETCH_ENABLED: 'false',
        XDG_CONFIG_HOME: join(scratch, 'config'),
        CI: 'true',
      },
      timeout: 60_000,
    })
    const bundle = await readFile(join(outdir, 'worker.js'), 'utf8')
    expect(bundle).toContain('new WebSocketPair()')
    expect(bundle).toMatch(/from ["']cloudflare:sockets["']/)
    // The Worker bundle carries no Node module: the runtime-neutral policy files only.
    expect(bundle).not.toMatch(/["']node:/)
  })
})
