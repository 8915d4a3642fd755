/**
 * Generates the test Prisma Clients (generated/node and generated/workerd) from prisma/schema.prisma, before
 * `tsc -b` type-checks the tests that import them (the root `build` script runs this first). Offline: the
 * schema engine, a binary download, is not needed to generate, so it is pointed at `/bin/true`. Skipped when
 * the schema and Prisma's version are those of the last run (a stamp in generated/).
 */
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(import.meta.url)
const prismaPackage = require.resolve('prisma/package.json')
const { version } = JSON.parse(readFileSync(prismaPackage, 'utf8')) as { version: string }
const schema = readFileSync(join(root, 'prisma/schema.prisma'), 'utf8')
const stampFile = join(root, 'generated/.stamp')
const stamp = createHash('sha256').update(`${version}\n${schema}`).digest('hex')
const outputs = ['generated/node/client.ts', 'generated/workerd/client.ts'].map((f) => join(root, f))

if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp && outputs.every(existsSync)) {
  process.exit(0)
}
const result = spawnSync(process.execPath, [join(dirname(prismaPackage), 'build/index.js'), 'generate'], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'pipe'],
  encoding: 'utf8',
  env: {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? '/bin/true',
    CHECKPOINT_DISABLE: '1',
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
  },
})
if (result.status !== 0) {
  process.stderr.write(`${result.stdout ?? ''}${result.stderr ?? ''}`)
  console.error(`prisma generate failed (exit ${result.status ?? result.signal}) in ${root}`)
  process.exit(1)
}
writeFileSync(stampFile, stamp)
