/**
 * Child processes of the bench (the relay, the 10,000 idle clients): spawned with IPC, tracked, and stopped
 * on every exit path. Each child also exits on its own when the IPC channel closes.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { RELAY_NODE_FLAGS } from '../proxy/src/node-flags.ts'

const running = new Set<ChildProcess>()

let isProxyBuilt = false

/**
 * Builds `proxy/dist` (and what it references) once per bench run: `tsc -b proxy`, quick when fresh. A type
 * error elsewhere (a package being edited) is reported, not fatal: tsc emits anyway.
 */
function buildProxy(): void {
  if (isProxyBuilt) return
  const root = fileURLToPath(new URL('..', import.meta.url))
  const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url))
  try {
    execFileSync(process.execPath, [tsc, '-b', 'proxy'], { cwd: root, stdio: 'inherit' })
  } catch {
    // tsc -b still emits what type-checks apart from the errors it printed above.
    console.error('bench: tsc -b proxy reported type errors (above); the relay runs what it emitted')
  }
  isProxyBuilt = true
}

export interface Child {
  readonly process: ChildProcess
  /** Sends `message` and resolves with the first reply whose `type` is `reply`. */
  ask<T>(message: unknown, reply: string, timeoutMs?: number): Promise<T>
  /** Asks the child to stop, then kills it if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<void>
}

/**
 * Starts `bench/<file>` under Node: a TypeScript file with the `source` condition; a JavaScript one (the
 * relay, `relay-child.js`) as `edgepg-relay` runs it, on `proxy/dist` freshly built and with the relay's V8
 * flags (a TypeScript child would load Node's TypeScript stripper, about 30 MB of RSS the deployed relay does
 * not have). Resolves when it sends `{ type: 'ready' }`.
 */
export async function startChild<R>(
  name: string,
  env: Record<string, string>,
  args: string[] = [],
): Promise<{ child: Child; ready: R }> {
  const file = name
  const isBuilt = file.endsWith('.js')
  if (isBuilt) buildProxy()
  const path = fileURLToPath(new URL(file, import.meta.url))
  // The relay with the V8 flags `edgepg-relay` relaunches itself with (proxy/src/node-flags.ts).
  const flags = isBuilt ? [...RELAY_NODE_FLAGS, '--expose-gc'] : ['--conditions=source', '--expose-gc']
  const proc = spawn(process.execPath, [...flags, path, ...args], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...env },
  })
  running.add(proc)
  proc.once('exit', () => running.delete(proc))
  const child: Child = {
    process: proc,
    ask(message, reply, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          proc.off('message', onMessage)
          reject(new Error(`${file} did not answer ${JSON.stringify(message)} within ${timeoutMs} ms`))
        }, timeoutMs)
        const onMessage = (m: { type?: string }) => {
          if (m?.type !== reply) return
          clearTimeout(timer)
          proc.off('message', onMessage)
          resolve(m as never)
        }
        proc.on('message', onMessage)
        proc.send(message as never)
      })
    },
    async stop(graceMs = 3000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
      if (proc.connected) proc.send('stop')
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs)
      await exited
      clearTimeout(timer)
    },
  }
  const ready = await new Promise<R>((resolve, reject) => {
    const onExit = (code: number | null) =>
      reject(new Error(`${file} exited with ${code} before it was ready`))
    proc.once('exit', onExit)
    proc.on('message', (m: { type?: string }) => {
      if (m?.type !== 'ready') return
      proc.off('exit', onExit)
      resolve(m as R)
    })
  })
  return { child, ready }
}

/** Kills every child still running (last resort on an unexpected exit). */
export function killAllChildren(): void {
  for (const proc of running) proc.kill('SIGKILL')
}

/** Resident set size of a process in bytes, from /proc (Linux). */
export async function rssOf(pid: number): Promise<number | undefined> {
  const { readFile } = await import('node:fs/promises')
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8')
    const match = /VmRSS:\s+(\d+) kB/.exec(status)
    return match ? Number(match[1]) * 1024 : undefined
  } catch {
    return undefined
  }
}
