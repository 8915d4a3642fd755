// The launcher every npm script goes through (scripts/launch.mjs), run by the system Node (older than 22.12) in a
// scratch copy of the repository with the slow steps faked on PATH: npm (the Node 24 bootstrap, npm ci) and apt-get.
import { spawn, spawnSync } from 'node:child_process'
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isRecentNode, missingMessage, needsBrowser } from './launch.mjs'

const launcher = fileURLToPath(new URL('./launch.mjs', import.meta.url))
const nodePackage = `node-${process.platform}-${process.arch}`

/** The first Node older than 22.12 on PATH or at /usr/bin/node: the system Node a fresh machine has. */
function findOldNode(): string {
  const candidates = [
    ...(process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'node')),
    '/usr/bin/node',
    '/bin/node',
  ]
  const seen: string[] = []
  for (const candidate of candidates) {
    if (!existsSync(candidate)) continue
    const version = spawnSync(candidate, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout?.trim()
    seen.push(`${candidate} ${version}`)
    if (version && !isRecentNode(version)) return candidate
  }
  throw new Error(
    `expected a system Node older than 22.12 on PATH or at /usr/bin/node, found: ${seen.join(', ')}`,
  )
}
const oldNode = findOldNode()
const oldVersion = spawnSync(oldNode, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim()

/** The real npm (not the fake one the tests put on PATH). */
const realNpm = (process.env.PATH ?? '')
  .split(delimiter)
  .map((dir) => join(dir, 'npm'))
  .find((file) => existsSync(file)) as string

const fakeNpm = `#!/bin/sh
echo "npm $* (node $(node -v))" >> "$FAKE_LOG"
case "$1" in
  install)
    /bin/mkdir -p .tools/node24/node_modules/${nodePackage}/bin
    /bin/ln -s "$FAKE_NODE24" .tools/node24/node_modules/${nodePackage}/bin/node ;;
  ci) /bin/mkdir -p node_modules && /bin/touch node_modules/.package-lock.json ;;
  run) exit \${FAKE_BUILD_STATUS:-0} ;;
esac
exit \${FAKE_NPM_STATUS:-0}
`
const fakeAptGet = `#!/bin/sh
echo "apt-get $*" >> "$FAKE_LOG"
case "$*" in
  *install*chromium*) printf '#!/bin/sh\\n' > "$CHROMIUM_PATH" && /bin/chmod +x "$CHROMIUM_PATH" ;;
  *install*openssl*) printf '#!/bin/sh\\n' > "$FAKE_BIN/openssl" && /bin/chmod +x "$FAKE_BIN/openssl" ;;
esac
`
const fakeVitest = `#!/bin/sh
echo "vitest $* (node $(node -v))"
`

let root: string
let bin: string
let log: string

function script(file: string, text: string) {
  writeFileSync(file, text)
  chmodSync(file, 0o755)
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'edgepg-launch-'))
  bin = join(root, 'fake-bin')
  log = join(root, 'fake.log')
  mkdirSync(join(root, 'scripts'))
  mkdirSync(bin)
  copyFileSync(launcher, join(root, 'scripts/launch.mjs'))
  writeFileSync(join(root, 'package-lock.json'), '{}\n')
  writeFileSync(log, '')
  script(join(bin, 'npm'), fakeNpm)
  script(join(bin, 'apt-get'), fakeAptGet)
  symlinkNode(join(bin, 'node'), oldNode)
})

// Children started without waiting, each in its own process group: whatever a failing test leaves is killed.
const groups: number[] = []

afterEach(() => {
  for (const pid of groups.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL')
    } catch {}
  }
  rmSync(root, { recursive: true, force: true })
})

function symlinkNode(at: string, target: string) {
  script(at, `#!/bin/sh\nexec "${target}" "$@"\n`)
}

/** A repository already set up: Node 24 in .tools/node24, node_modules newer than the lock, openssl on PATH. */
function setUp() {
  mkdirSync(join(root, `.tools/node24/node_modules/${nodePackage}/bin`), { recursive: true })
  symlinkNode(join(root, `.tools/node24/node_modules/${nodePackage}/bin/node`), process.execPath)
  mkdirSync(join(root, 'node_modules/.bin'), { recursive: true })
  writeFileSync(join(root, 'node_modules/.package-lock.json'), '{}\n')
  script(join(root, 'node_modules/.bin/vitest'), fakeVitest)
  script(join(bin, 'openssl'), '#!/bin/sh\n')
  script(join(root, 'chromium'), '#!/bin/sh\n')
}

function env(extra: Record<string, string> = {}) {
  return {
    PATH: bin,
    HOME: root,
    FAKE_LOG: log,
    FAKE_BIN: bin,
    FAKE_NODE24: process.execPath,
    CHROMIUM_PATH: join(root, 'chromium'),
    EDGEPG_LAUNCH_UID: '0',
    ...extra,
  }
}

function launch(args: string[], extra: Record<string, string> = {}, node = join(bin, 'node')) {
  const child = spawnSync(node, [join(root, 'scripts/launch.mjs'), ...args], {
    cwd: root,
    env: env(extra),
    encoding: 'utf8',
    timeout: 20_000,
  })
  return { status: child.status, stdout: child.stdout, stderr: child.stderr, log: readFileSync(log, 'utf8') }
}

const printVersion = ['node', '-e', 'console.log(process.version, JSON.stringify(process.argv.slice(1)))']

describe('on a fresh clone with the system Node', () => {
  it('gets Node 24 from the npm registry, then runs npm ci with it, then the command with it', () => {
    const run = launch([...printVersion, 'a', '--quick'])
    expect(run.stderr).toBe(
      `edgepg: Node v${oldVersion} is older than 22.12; getting Node 24.21.0 from the npm registry: npm install --prefix .tools/node24 --no-save --no-audit --no-fund ${nodePackage}@24.21.0\n` +
        'edgepg: node_modules is missing; installing the locked dependencies: npm ci\n',
    )
    expect(run.log.split('\n')).toEqual([
      `npm install --prefix .tools/node24 --no-save --no-audit --no-fund ${nodePackage}@24.21.0 (node v${oldVersion})`,
      `npm ci --no-audit --no-fund (node ${process.version})`,
      '',
    ])
    expect(run.stdout).toBe(`${process.version} ["a","--quick"]\n`)
    expect(run.status).toBe(0)
  })

  it('reuses the Node 24 in .tools/node24 and installs nothing when node_modules is newer than the lock', () => {
    setUp()
    const run = launch(printVersion)
    expect(run.stderr).toBe(
      `edgepg: Node v${oldVersion} is older than 22.12; using Node 24.21.0 from .tools/node24\n`,
    )
    expect(run.log).toBe('')
    expect(run.stdout).toBe(`${process.version} []\n`)
  })

  it('runs npm ci again when package-lock.json is newer than node_modules', () => {
    setUp()
    const past = new Date(Date.now() - 60_000)
    utimesSync(join(root, 'node_modules/.package-lock.json'), past, past)
    const run = launch(printVersion)
    expect(run.stderr).toContain(
      'edgepg: node_modules is older than package-lock.json; reinstalling the locked dependencies: npm ci\n',
    )
    expect(run.log).toBe(`npm ci --no-audit --no-fund (node ${process.version})\n`)
    expect(run.status).toBe(0)
  })

  it('says in one line that Node 24 could not be had, with no stack trace, when the npm registry fails', () => {
    const run = launch(printVersion, { FAKE_NPM_STATUS: '1' })
    expect(run.stderr.split('\n').slice(1)).toEqual([
      'edgepg: could not get Node 24.21.0 (npm install exited 1); install Node ≥ 22.12 (https://nodejs.org) and run the command again',
      '',
    ])
    expect(run.stdout).toBe('')
    expect(run.status).toBe(1)
  })
})

describe('with Node 22.12 or newer', () => {
  it('runs the command with that Node and says nothing', () => {
    setUp()
    const run = launch(printVersion, {}, process.execPath)
    expect(run.stderr).toBe('')
    expect(run.stdout).toBe(`${process.version} []\n`)
  })
})

describe('the system pieces npm test needs (--needs=chromium,openssl)', () => {
  const test = ['--needs=chromium,openssl', 'vitest', 'run', '--config', 'vitest.workspace.ts']

  it('installs a missing Chromium and openssl with apt-get as root, then runs the command', () => {
    setUp()
    rmSync(join(root, 'chromium'))
    rmSync(join(bin, 'openssl'))
    const run = launch(test)
    expect(run.stderr.split('\n').slice(1)).toEqual([
      'edgepg: chromium is missing; installing it: apt-get install -y chromium',
      'edgepg: openssl is missing; installing it: apt-get install -y openssl',
      '',
    ])
    expect(run.log).toBe('apt-get install -y -qq chromium\napt-get install -y -qq openssl\n')
    expect(run.stdout).toBe(`vitest run --config vitest.workspace.ts (node ${process.version})\n`)
    expect(run.status).toBe(0)
  })

  it('stops with the exact command when Chromium is missing and this user is not root', () => {
    setUp()
    rmSync(join(root, 'chromium'))
    const run = launch(test, { EDGEPG_LAUNCH_UID: '1000' })
    expect(run.stderr.split('\n').slice(1)).toEqual([
      `edgepg: npm test needs Chromium (looked for ${join(root, 'chromium')}; CHROMIUM_PATH sets another); install it with: sudo apt-get install -y chromium, then run npm test again`,
      '',
    ])
    expect(run.log).toBe('')
    expect(run.stdout).toBe('')
    expect(run.status).toBe(1)
  })

  it('stops naming openssl when it is missing and there is no apt-get', () => {
    setUp()
    rmSync(join(bin, 'openssl'))
    rmSync(join(bin, 'apt-get'))
    const run = launch(test)
    expect(run.stderr.split('\n').slice(1)).toEqual([
      'edgepg: npm test needs openssl (on PATH) and this machine has no apt-get; install openssl with your package manager, then run npm test again',
      '',
    ])
    expect(run.status).toBe(1)
  })

  it('builds with npm run build under that Node before the command (--build)', () => {
    setUp()
    const run = launch(['--build', ...test, '--project', 'unit'])
    expect(run.stderr.split('\n').slice(1)).toEqual([
      'edgepg: building the packages and the Prisma client the tests import: npm run build',
      '',
    ])
    expect(run.log).toBe(`npm run --silent build (node ${process.version})\n`)
    expect(run.stdout).toBe(
      `vitest run --config vitest.workspace.ts --project unit (node ${process.version})\n`,
    )
    expect(run.status).toBe(0)
  })

  it('stops without running the command when the build fails', () => {
    setUp()
    const run = launch(['--build', ...test], { FAKE_BUILD_STATUS: '2' })
    expect(run.stderr).toContain('\nedgepg: npm run build exited 2; see its output above\n')
    expect(run.stdout).toBe('')
    expect(run.status).toBe(1)
  })

  it('does not ask for Chromium when the projects named do not use it', () => {
    setUp()
    rmSync(join(root, 'chromium'))
    const run = launch([...test, '--project', 'unit', '--project=relay'], { EDGEPG_LAUNCH_UID: '1000' })
    expect(run.stdout).toBe(
      `vitest run --config vitest.workspace.ts --project unit --project=relay (node ${process.version})\n`,
    )
    expect(run.status).toBe(0)
    expect(needsBrowser(['--project', 'browser'])).toBe(true)
    expect(needsBrowser(['--project=play*'])).toBe(true)
    expect(needsBrowser(['some/file.test.ts'])).toBe(true)
  })

  it('names the Chromium path to set when there is no apt-get', () => {
    expect(
      missingMessage('chromium', { isRoot: false, hasApt: false, chromiumPath: '/usr/bin/chromium' }),
    ).toBe(
      'npm test needs Chromium (looked for /usr/bin/chromium; CHROMIUM_PATH sets another) and this machine has no apt-get; install Chromium, then run: CHROMIUM_PATH=/path/to/chromium npm test',
    )
  })
})

describe('the command', () => {
  function start(args: string[]) {
    setUp()
    const child = spawn(join(bin, 'node'), [join(root, 'scripts/launch.mjs'), ...args], {
      cwd: root,
      env: env(),
      detached: true,
    })
    groups.push(child.pid as number)
    let stdout = ''
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
    })
    const ready = new Promise<void>((resolve) => {
      child.stdout?.on('data', () => {
        if (stdout.includes('ready')) resolve()
      })
    })
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    )
    return { child, ready, exited, output: () => stdout }
  }
  // Counts the SIGINTs it gets, stops "cleanly" (after a tick) on the first one.
  const server = [
    'node',
    '-e',
    "let n = 0; process.on('SIGINT', () => { n++; if (n === 1) setTimeout(() => { console.log('stopped after', n); process.exit(0) }, 200) }); process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1000); console.log('ready')",
  ]

  it('gets the exit code of the command', () => {
    setUp()
    expect(launch(['node', '-e', 'process.exit(7)']).status).toBe(7)
  })

  it('stops the command when the launcher alone gets SIGINT (kill -INT), with its exit code', async () => {
    const { child, ready, exited, output } = start(server)
    await ready
    child.kill('SIGINT')
    expect(await exited).toEqual({ code: 0, signal: null })
    expect(output()).toBe('ready\nstopped after 1\n')
  })

  it('stops the command cleanly on Ctrl-C (SIGINT to the whole process group)', async () => {
    const { child, ready, exited, output } = start(server)
    await ready
    process.kill(-(child.pid as number), 'SIGINT')
    expect(await exited).toEqual({ code: 0, signal: null })
    expect(output()).toMatch(/^ready\nstopped after [12]\n$/)
  })

  it('stops under npm when npm alone gets SIGINT or SIGTERM (the script execs the launcher)', async () => {
    setUp()
    // An npm script written as the repository writes them: `sh -c` would keep the signal npm forwards to itself.
    writeFileSync(
      join(root, 'package.json'),
      JSON.stringify({
        name: 'scratch',
        private: true,
        scripts: { serve: 'exec node scripts/launch.mjs node server.mjs' },
      }),
    )
    writeFileSync(join(root, 'server.mjs'), server[2] as string)
    symlinkSync('/bin/sh', join(bin, 'sh'))
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const child = spawn(realNpm, ['run', '--silent', 'serve'], { cwd: root, env: env(), detached: true })
      groups.push(child.pid as number)
      let stdout = ''
      child.stdout.setEncoding('utf8')
      const ready = new Promise<void>((resolve) =>
        child.stdout.on('data', (chunk: string) => {
          stdout += chunk
          if (stdout.includes('ready')) resolve()
        }),
      )
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
      await ready
      child.kill(signal)
      expect(await exited).toBe(0)
      expect(stdout).toBe(signal === 'SIGINT' ? 'ready\nstopped after 1\n' : 'ready\n')
    }
  })

  it('dies of the signal the command died of', async () => {
    const { exited } = start(['node', '-e', "process.kill(process.pid, 'SIGTERM')"])
    expect(await exited).toEqual({ code: null, signal: 'SIGTERM' })
  })
})

describe("the repository's npm scripts", () => {
  it('all go through the launcher, the last command of each exec-ed so that npm forwards signals to it', () => {
    const { scripts } = JSON.parse(
      readFileSync(fileURLToPath(new URL('../package.json', import.meta.url)), 'utf8'),
    )
    for (const [name, line] of Object.entries(scripts as Record<string, string>)) {
      const parts = line.split(' && ')
      parts.forEach((part, i) => {
        const expected = i === parts.length - 1 ? 'exec node scripts/launch.mjs ' : 'node scripts/launch.mjs '
        expect(`${name}: ${part.slice(0, expected.length)}`).toBe(`${name}: ${expected}`)
      })
    }
  })
})
