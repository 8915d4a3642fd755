/** The README's quick start, run as written (its first `ts` block, with DATABASE_URL set) in a Node process. */
import { execFile } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'
import { admin, url } from './helpers.ts'

const run = promisify(execFile)

it('runs the README quick start as written', async () => {
  const readme = readFileSync(join(import.meta.dirname, '../README.md'), 'utf8')
  const quickStart = /## Quick start\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1]
  expect(quickStart).toBeDefined()
  // Inside the package, so its imports resolve as an installed package's would (workspace links).
  await admin('drop table if exists quickstart_posts, quickstart_users') // left by a failed run
  const file = join(import.meta.dirname, `quick-start.${process.pid}.generated.ts`)
  writeFileSync(file, quickStart!)
  try {
    const { stdout } = await run(process.execPath, ['--conditions=source', file], {
      env: { ...process.env, DATABASE_URL: url() },
    })
    expect(stdout).toBe("ada true 1\n[ { name: 'ada' } ]\n")
  } finally {
    rmSync(file, { force: true })
  }
})
