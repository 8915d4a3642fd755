/**
 * Packs the publishable packages (`@edgepg/shared`, `@edgepg/client` and every `integrations/*` package) with
 * `npm pack`, installs the tarballs and the integrations' peer dependencies into a fresh project outside the
 * repository, and imports every export of every package there with plain Node (no `source` condition, so the
 * built `dist/` is what runs). Each export's `types` file must be in the tarball. With `DATABASE_URL` set, each
 * integration also runs one query through its library against that database (see `pack-smoke.ts`).
 *
 *   node scripts/pack-check.ts [--keep]   (after `npm run build`; `--keep` leaves the temporary project)
 *
 * Prints one line per package and exits 1 on the first failure, saying what was expected and what was found.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { SMOKE_SOURCE } from './pack-smoke.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

interface Manifest {
  name: string
  version: string
  exports: Record<string, string | { types?: string; default?: string }>
  peerDependencies?: Record<string, string>
}

/** The folders of the packages a user installs, the project's own packages before the integrations. */
export function packageFolders(): string[] {
  const integrations = readdirSync(join(ROOT, 'integrations'), { withFileTypes: true })
    .filter(
      (entry) => entry.isDirectory() && existsSync(join(ROOT, 'integrations', entry.name, 'package.json')),
    )
    .map((entry) => join('integrations', entry.name))
    .sort()
  return ['shared', 'client', ...integrations]
}

function manifest(folder: string): Manifest {
  return JSON.parse(readFileSync(join(ROOT, folder, 'package.json'), 'utf8')) as Manifest
}

function run(command: string, args: string[], cwd: string): string {
  try {
    // No inherited NODE_OPTIONS: a `--conditions=source` from a test runner would load `src/` instead of `dist/`.
    const env = { ...process.env, NODE_OPTIONS: '' }
    return execFileSync(command, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string }
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stderr ?? ''}${stdout ?? ''}`)
  }
}

/** The entry points of a package as import specifiers (`@edgepg/kysely`, `@edgepg/kysely/http`, …). */
function specifiers(pkg: Manifest): { specifier: string; types: string | undefined }[] {
  return Object.entries(pkg.exports)
    .filter(([subpath]) => subpath !== './package.json')
    .map(([subpath, target]) => ({
      specifier: subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`,
      types: typeof target === 'string' ? undefined : target.types,
    }))
}

/** Packs, installs and imports; returns the lines it printed. Throws on the first failure. */
export function packCheck(options: { keep?: boolean; log?: (line: string) => void } = {}): string[] {
  const lines: string[] = []
  const log = (line: string) => {
    lines.push(line)
    options.log?.(line)
  }
  const work = mkdtempSync(join(tmpdir(), 'edgepg-pack-'))
  try {
    const folders = packageFolders()
    const packages = folders.map(manifest)
    for (const [i, folder] of folders.entries()) {
      if (!existsSync(join(ROOT, folder, 'dist'))) {
        throw new Error(`expected ${folder}/dist (run \`npm run build\` first), found no such folder`)
      }
      const packed = JSON.parse(
        run('npm', ['pack', '--json', '--pack-destination', work], join(ROOT, folder)),
      )
      const [{ filename, files }] = packed as [{ filename: string; files: { path: string }[] }]
      const pkg = packages[i]!
      const inTarball = new Set(files.map((file) => file.path))
      for (const { specifier, types } of specifiers(pkg)) {
        if (types !== undefined && !inTarball.has(types.replace(/^\.\//, ''))) {
          throw new Error(`expected ${types} (the types of ${specifier}) in ${filename}, found it missing`)
        }
      }
      log(`packed ${pkg.name}@${pkg.version}: ${filename} (${files.length} files)`)
    }

    const project = join(work, 'project')
    run('mkdir', ['-p', project], work)
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'edgepg-pack-check', private: true, type: 'module' }, null, 2),
    )
    const tarballs = readdirSync(work)
      .filter((name) => name.endsWith('.tgz'))
      .map((name) => join(work, name))
    const peers = packages.flatMap((pkg) =>
      Object.entries(pkg.peerDependencies ?? {}).map(([name, range]) => `${name}@${range}`),
    )
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...tarballs, ...peers], project)
    log(`installed ${tarballs.length} tarballs and peers ${peers.join(', ') || '(none)'} in a fresh project`)

    const imports = packages.flatMap((pkg) => specifiers(pkg).map(({ specifier }) => specifier))
    writeFileSync(
      join(project, 'imports.mjs'),
      [
        // `@edgepg/client/cloudflare` imports `cloudflare:sockets`, which only workerd provides: plain Node gets
        // a module of the same shape so the entry itself is still loaded and its exports listed.
        `import { registerHooks } from 'node:module'`,
        `registerHooks({ resolve: (specifier, context, next) => specifier.startsWith('cloudflare:')`,
        `  ? { url: 'data:text/javascript,export function connect() { throw new Error("workerd only") }', shortCircuit: true }`,
        `  : next(specifier, context) })`,
        `const found = {}`,
        ...imports.map(
          (specifier) =>
            `found[${JSON.stringify(specifier)}] = Object.keys(await import(${JSON.stringify(specifier)}))`,
        ),
        `console.log(JSON.stringify(found))`,
      ].join('\n'),
    )
    const found = JSON.parse(run(process.execPath, ['imports.mjs'], project)) as Record<string, string[]>
    for (const specifier of imports) {
      const names = found[specifier] ?? []
      if (names.length === 0) throw new Error(`expected ${specifier} to export something, found no exports`)
      log(`imported ${specifier}: ${names.sort().join(', ')}`)
    }

    if (process.env.DATABASE_URL) {
      writeFileSync(join(project, 'smoke.mjs'), SMOKE_SOURCE)
      const names = packages.map((pkg) => pkg.name)
      const output = run(process.execPath, ['smoke.mjs', ...names], project)
      for (const line of output.trim().split('\n')) log(line)
    }
    return lines
  } finally {
    if (options.keep) log(`kept ${work}`)
    else rmSync(work, { recursive: true, force: true })
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { keep: { type: 'boolean' } } })
  try {
    packCheck({ keep: values.keep, log: (line) => console.log(line) })
  } catch (error) {
    console.error(`pack check failed: ${(error as Error).message}`)
    process.exit(1)
  }
}
