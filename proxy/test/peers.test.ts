// Relay attack cases H1 (a client that vanishes), G1 (SIGTERM drain) and L2 (slowloris), with real processes.
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { connect } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { backends, openWs, pg, pgAddress, sleep, startTestRelay, type TestRelay } from './helpers.ts'

let relay: TestRelay | undefined
const children: ChildProcess[] = []
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL')
  await relay?.shutdown()
  relay = undefined
})

const trustStartupJs = (app: string) => `
  const body = Buffer.from('user\\0${pg.roles.trust.user}\\0database\\0${pg.database}\\0application_name\\0${app}\\0\\0')
  const head = Buffer.alloc(8); head.writeInt32BE(body.length + 8, 0); head.writeInt32BE(196608, 4)
  const startup = Buffer.concat([head, body])`

function lines(child: ChildProcess): AsyncIterator<string> {
  let buffer = ''
  const queue: string[] = []
  const waiters: ((line: string) => void)[] = []
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString()
    let index = buffer.indexOf('\n')
    while (index >= 0) {
      const line = buffer.slice(0, index)
      buffer = buffer.slice(index + 1)
      const waiter = waiters.shift()
      if (waiter) waiter(line)
      else queue.push(line)
      index = buffer.indexOf('\n')
    }
  })
  return {
    next: () =>
      new Promise((resolve) => {
        const line = queue.shift()
        if (line !== undefined) resolve({ value: line, done: false })
        else waiters.push((l) => resolve({ value: l, done: false }))
      }),
  }
}

async function lineMatching(iterator: AsyncIterator<string>, pattern: RegExp): Promise<RegExpExecArray> {
  for (;;) {
    const { value } = await iterator.next()
    const match = pattern.exec(value)
    if (match) return match
  }
}

describe('H1: a client that vanishes without a close frame', () => {
  it('is terminated within two ping intervals and its PostgreSQL backend goes away', async () => {
    const pingInterval = 300
    relay = await startTestRelay({ pingInterval, idleTimeout: 60_000 })
    const script = `import WebSocket from 'ws'
      ${trustStartupJs('edgepg-h1')}
      const ws = new WebSocket(process.argv[1])
      ws.on('open', () => ws.send(startup))
      ws.on('message', () => console.log('ready'))`
    const child = spawn(
      process.execPath,
      ['--input-type=module', '-e', script, `${relay.wsUrl}?address=${pgAddress}`],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    )
    children.push(child)
    await lineMatching(lines(child), /ready/)
    expect(await backends('edgepg-h1')).toBe(1)
    child.kill('SIGSTOP')
    const stopped = Date.now()
    await expect.poll(() => relay!.sessions.size, { timeout: 5000, interval: 20 }).toBe(0)
    const elapsed = Date.now() - stopped
    expect(elapsed).toBeLessThanOrEqual(2 * pingInterval + 150)
    await expect.poll(() => backends('edgepg-h1'), { timeout: 5000 }).toBe(0)
    child.kill('SIGKILL')
  })
})

describe('G1: SIGTERM with active sessions', () => {
  it('refuses new upgrades, closes sessions with 1001, exits by the deadline and leaves no backend', async () => {
    const child = spawn(
      process.execPath,
      [
        '--conditions=source',
        'proxy/src/cli.ts',
        '--port',
        '0',
        '--allow',
        pgAddress,
        '--shutdown-grace',
        '1000',
        '--log-level',
        'warn',
        '--allow-missing-origin',
        'always',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    )
    children.push(child)
    const [, url] = await lineMatching(lines(child), /listening on (ws:\/\/\S+)/)
    const sessions = await Promise.all([1, 2].map(() => openWs(`${url}?address=${pgAddress}`)))
    const body = Buffer.from(
      `user\0${pg.roles.trust.user}\0database\0${pg.database}\0application_name\0edgepg-g1\0\0`,
    )
    const head = Buffer.alloc(8)
    head.writeInt32BE(body.length + 8, 0)
    head.writeInt32BE(196608, 4)
    for (const s of sessions) s.ws.send(Buffer.concat([head, body]))
    await expect.poll(() => backends('edgepg-g1')).toBe(2)
    // Listen for the exit before signalling: on a busy machine the child can exit before both close
    // frames are processed here, and `once` attached after the event would wait forever.
    const exited = once(child, 'exit')
    const started = Date.now()
    child.kill('SIGTERM')
    const closes = await Promise.all(sessions.map((s) => s.closed))
    expect(closes).toEqual([
      { code: 1001, reason: 'shutting down' },
      { code: 1001, reason: 'shutting down' },
    ])
    const [code] = await exited
    expect(code).toBe(0)
    expect(Date.now() - started).toBeLessThan(3000)
    await expect.poll(() => backends('edgepg-g1'), { timeout: 3000 }).toBe(0)
  })
})

describe('L2: slowloris', () => {
  it('destroys a connection that sends its headers a byte at a time, at headersTimeout', async () => {
    relay = await startTestRelay({ headersTimeout: 500 })
    const socket = connect(relay.port, '127.0.0.1')
    await once(socket, 'connect')
    const request = `GET /v1?address=${pgAddress} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`
    const started = Date.now()
    let isClosed = false
    socket.on('close', () => {
      isClosed = true
    })
    socket.on('error', () => {})
    for (const byte of request) {
      if (isClosed) break
      socket.write(byte)
      await sleep(100)
    }
    await expect.poll(() => isClosed, { timeout: 3000 }).toBe(true)
    expect(Date.now() - started).toBeLessThan(2500)
    const count = await new Promise<number>((resolve) => relay!.server.getConnections((_e, n) => resolve(n)))
    expect(count).toBe(0)
  })
})
