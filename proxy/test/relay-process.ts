/**
 * A relay running as a child process (the CLI), so that a request that kills it is observable, and raw
 * HTTP over `node:net` to send it what no HTTP client library would.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { connect } from 'node:net'
import { fileURLToPath } from 'node:url'

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url))

export interface RelayProcess {
  readonly child: ChildProcess
  readonly port: number
  /** Everything the process wrote to stderr (an uncaught exception lands here). */
  readonly stderr: () => string
  /** True while the process has not exited. */
  isAlive(): boolean
  /** GET /healthz over a fresh connection: the status code, or 0 when nothing answered. */
  health(): Promise<number>
  stop(): Promise<void>
}

/**
 * Starts `edgepg-relay` with `args` (and `env` on top of this process's) on a free loopback port; resolves
 * once it listens.
 */
export async function startRelayProcess(
  args: string[],
  env: Record<string, string> = {},
): Promise<RelayProcess> {
  const child = spawn(
    process.execPath,
    ['--conditions=source', CLI, '--port', '0', '--log-level', 'error', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } },
  )
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const port = await new Promise<number>((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const match = /listening on ws:\/\/[^:]+:(\d+)/.exec(out)
      if (match) resolve(Number(match[1]))
    })
    child.once('exit', (code) => reject(new Error(`relay exited with ${code} before listening: ${stderr}`)))
  })
  const relay: RelayProcess = {
    child,
    port,
    stderr: () => stderr,
    isAlive: () => child.exitCode === null && child.signalCode === null,
    async health() {
      const { status } = await rawExchange(
        port,
        'GET /healthz HTTP/1.1\r\nHost: relay\r\nConnection: close\r\n\r\n',
      )
      return status
    },
    async stop() {
      if (!relay.isAlive()) return
      const exited = once(child, 'exit')
      child.kill('SIGKILL')
      await exited
    },
  }
  return relay
}

/** The headers of an ordinary WebSocket upgrade, after the request line. */
export const UPGRADE_HEADERS =
  'Host: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n'

/** An upgrade request for `target` with the ordinary headers plus `extra` header lines. */
export function upgradeRequest(target: string, extra = ''): string {
  return `GET ${target} HTTP/1.1\r\n${UPGRADE_HEADERS}${extra}\r\n`
}

/**
 * Writes `request` on a fresh connection and collects the answer until the server closes or `waitMs` passes.
 * `status` is the code on the response's status line, or 0 when none came (the socket was only closed).
 */
export function rawExchange(
  port: number,
  request: string | Uint8Array,
  waitMs = 2000,
): Promise<{ status: number; response: string }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    let response = ''
    const finish = () => {
      clearTimeout(timer)
      socket.destroy()
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(response)
      resolve({ status: match ? Number(match[1]) : 0, response })
    }
    const timer = setTimeout(finish, waitMs)
    socket.on('data', (chunk: Buffer) => {
      response += chunk.toString('latin1')
      // A refusal ends its response; an accepted upgrade (101) stays open: either way we have the answer.
      if (/^HTTP\/1\.[01] 101 /.test(response) && response.includes('\r\n\r\n')) finish()
    })
    socket.on('error', () => {})
    socket.on('close', finish)
    socket.write(request)
  })
}
