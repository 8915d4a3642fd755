/**
 * Child processes of the bench (the relay, the 10,000 idle clients): spawned with IPC, tracked, and stopped
 * on every exit path. Each child also exits on its own when the IPC channel closes.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const running = new Set<ChildProcess>()

export interface Child {
  readonly process: ChildProcess
  /** Sends `message` and resolves with the first reply whose `type` is `reply`. */
  ask<T>(message: unknown, reply: string, timeoutMs?: number): Promise<T>
  /** Asks the child to stop, then kills it if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<void>
}

/** Starts `bench/<file>` under Node with the `source` condition; resolves when it sends `{ type: 'ready' }`. */
export async function startChild<R>(
  file: string,
  env: Record<string, string>,
  args: string[] = [],
): Promise<{ child: Child; ready: R }> {
  const path = fileURLToPath(new URL(file, import.meta.url))
  const proc = spawn(process.execPath, ['--conditions=source', '--expose-gc', path, ...args], {
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
