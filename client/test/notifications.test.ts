// Notices and LISTEN/NOTIFY reach the caller through the Connection, never silently dropped.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { type Connection, isPgError, type Notice, type Notification, type PgError } from '@edgepg/client'
import { describe, expect, inject, it, vi } from 'vitest'
import { open, transportKind, url, waitFor } from './helpers.ts'

const run = promisify(execFile)

describe('side channel', () => {
  it('delivers a notice raised during a query to the notice listener', async () => {
    const { client, connection } = await open()
    const notices: Notice[] = []
    connection.on('notice', (n) => notices.push(n))
    await client.query(`do $$ begin raise notice 'hello %', 42 using hint = 'a hint'; end $$`)
    expect(notices).toHaveLength(1)
    expect(notices[0]).toMatchObject({
      severity: 'NOTICE',
      code: '00000',
      message: 'hello 42',
      hint: 'a hint',
    })
    await client.end()
  })

  it('writes a notice to console.warn when nobody listens', async () => {
    const { client } = await open()
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    try {
      await client.query(`do $$ begin raise warning 'unheard'; end $$`)
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('unheard'))
    } finally {
      warn.mockRestore()
    }
    await client.end()
  })

  it('delivers notifications from another session through the async iterator, in order', async () => {
    const listener = await open()
    const sender = await open()
    await listener.client.query('listen edgepg_events')
    const received: Notification[] = []
    const reading = (async () => {
      for await (const n of listener.connection.notifications()) {
        received.push(n)
        if (received.length === 3) break
      }
    })()
    for (const payload of ['one', 'two', 'three'])
      await sender.client.query(`select pg_notify('edgepg_events', $1)`, [payload])
    await reading
    expect(received.map((n) => n.payload)).toEqual(['one', 'two', 'three'])
    expect(received[0]?.channel).toBe('edgepg_events')
    expect(received[0]?.processId).toBe(sender.connection.processId)
    await Promise.all([listener.client.end(), sender.client.end()])
  })

  it('keeps notifications that arrive before anyone listens and hands them to the first consumer', async () => {
    const { client, connection } = await open()
    await client.query('listen early_bird')
    await client.query(`notify early_bird, 'first'`)
    await client.query(`notify early_bird, 'second'`)
    const seen: string[] = []
    connection.on('notification', (n) => seen.push(n.payload))
    expect(seen).toEqual(['first', 'second'])
    await client.end()
  })

  it('ends the notification iterator when the connection ends', async () => {
    const { client, connection } = await open()
    const iterator = connection.notifications()
    const next = iterator.next()
    await client.end()
    await expect(next).resolves.toEqual({ value: undefined, done: true })
  })

  it('reports parameter changes', async () => {
    const { client, connection } = await open()
    const changes: [string, string][] = []
    connection.on('parameter', (name, value) => changes.push([name, value]))
    await client.query(`set application_name = 'edgepg-test'`)
    expect(changes).toContainEqual(['application_name', 'edgepg-test'])
    expect(connection.parameters.get('application_name')).toBe('edgepg-test')
    await client.end()
  })
})

describe('a listener that throws never harms the connection', () => {
  /** Collects what the connection reports on its `error` event. */
  function errorsOf(connection: Connection): PgError[] {
    const errors: PgError[] = []
    connection.on('error', (error) => errors.push(error))
    return errors
  }

  it('reports a throwing notice listener on the error event, and the pending and later queries succeed', async () => {
    const { client, connection } = await open()
    const errors = errorsOf(connection)
    const bug = new Error('notice listener bug')
    connection.on('notice', () => {
      throw bug
    })
    const heard: string[] = []
    connection.on('notice', (n) => heard.push(n.message))
    const results = await Promise.all([
      client.query(`do $$ begin raise notice 'one'; end $$`),
      client.query('select 1 as n'),
      client.query(`do $$ begin raise notice 'two'; end $$`),
    ])
    expect(results[1].rows).toEqual([{ n: 1 }])
    expect(heard).toEqual(['one', 'two'])
    await waitFor(() => errors.length === 2)
    expect(isPgError(errors[0], 'usage')).toBe(true)
    expect(errors[0]?.message).toBe('a notice listener threw: notice listener bug')
    expect(errors[0]?.cause).toBe(bug)
    expect((await client.queryOne<{ n: number }>('select 2 as n')).n).toBe(2)
    expect(connection.state).toBe('running')
    await client.end()
  })

  it('reports a throwing notification listener, and the iterator still receives every notification', async () => {
    const { client, connection } = await open()
    const errors = errorsOf(connection)
    connection.on('notification', () => {
      throw new Error('notification listener bug')
    })
    const iterator = connection.notifications()
    await client.query('listen listener_bug')
    const [, , after] = await Promise.all([
      client.query(`notify listener_bug, 'first'`),
      client.query(`notify listener_bug, 'second'`),
      client.query('select 3 as n'),
    ])
    expect(after.rows).toEqual([{ n: 3 }])
    expect((await iterator.next()).value?.payload).toBe('first')
    expect((await iterator.next()).value?.payload).toBe('second')
    await waitFor(() => errors.length === 2)
    expect(errors[0]?.message).toBe('a notification listener threw: notification listener bug')
    await iterator.return?.()
    await client.end()
  })

  it('reports a throwing parameter listener, and the parameter is still recorded', async () => {
    const { client, connection } = await open()
    const errors = errorsOf(connection)
    connection.on('parameter', () => {
      throw 'not even an Error'
    })
    const [, after] = await Promise.all([
      client.query(`set application_name = 'listener-bug'`),
      client.query('select 4 as n'),
    ])
    expect(after.rows).toEqual([{ n: 4 }])
    expect(connection.parameters.get('application_name')).toBe('listener-bug')
    await waitFor(() => errors.length === 1)
    expect(errors[0]?.message).toBe('a parameter listener threw: not even an Error')
    expect(errors[0]?.cause).toBe('not even an Error')
    await client.end()
  })

  it('reports a listener that throws on the backlog it is handed, and hands it the rest', async () => {
    const { client, connection } = await open()
    const errors = errorsOf(connection)
    await client.query('listen backlog_bug')
    await client.query(`notify backlog_bug, 'first'`)
    await client.query(`notify backlog_bug, 'second'`)
    const seen: string[] = []
    connection.on('notification', (n) => {
      seen.push(n.payload)
      throw new Error(`cannot take ${n.payload}`)
    })
    expect(seen).toEqual(['first', 'second'])
    await waitFor(() => errors.length === 2)
    expect((await client.queryOne<{ n: number }>('select 5 as n')).n).toBe(5)
    await client.end()
  })

  it('rethrows a listener error outside the read loop when nobody listens to error', async () => {
    const script = fileURLToPath(new URL('./listener-uncaught.script.ts', import.meta.url))
    const env: NodeJS.ProcessEnv = { ...process.env, EDGEPG_URL: url() }
    if (transportKind === 'websocket') env.EDGEPG_RELAY_URL = inject('relayUrl')
    const { stdout } = await run(process.execPath, ['--conditions=source', script], { env, timeout: 20_000 })
    expect(JSON.parse(stdout)).toEqual({
      pipelined: [{ n: 1 }],
      afterNotice: [
        {
          isUsage: true,
          message: 'a notice listener threw: notice listener bug',
          cause: 'notice listener bug',
        },
      ],
      afterErrorListener: ['error listener bug'],
      later: 2,
      state: 'closed',
    })
  })
})

describe('a notification iterator holds a bounded queue', () => {
  it('delivers what it holds, then ends with an overflow error counting the undelivered', async () => {
    const { client, connection } = await open()
    await client.query('listen slow_consumer')
    const iterator = connection.notifications({ maxQueued: 3 })
    for (const payload of ['1', '2', '3', '4', '5']) await client.query(`notify slow_consumer, '${payload}'`)
    const delivered: string[] = []
    const error = await (async () => {
      for await (const n of iterator) delivered.push(n.payload)
    })().catch((e) => e)
    expect(delivered).toEqual(['1', '2', '3'])
    expect(isPgError(error, 'usage')).toBe(true)
    expect(error.message).toMatch(/^notification queue overflowed: 2 undelivered, consumer too slow/)
    // The connection and other consumers are unaffected; a new iterator goes on.
    const fresh = connection.notifications()
    await client.query(`notify slow_consumer, '6'`)
    expect((await fresh.next()).value?.payload).toBe('6')
    await fresh.return?.()
    await client.end()
  })

  it('bounds an iterator that is never read at 1000 notifications by default', async () => {
    const { client, connection } = await open()
    await client.query('listen never_read')
    const iterator = connection.notifications()
    await client.query(`select pg_notify('never_read', g::text) from generate_series(1, 1005) g`)
    let count = 0
    const error = await (async () => {
      for await (const _ of iterator) count++
    })().catch((e) => e)
    expect(count).toBe(1000)
    expect(error.message).toMatch(/^notification queue overflowed: 5 undelivered/)
    await client.end()
  })

  it('refuses a maxQueued that is not a positive integer', async () => {
    const { client, connection } = await open()
    for (const maxQueued of [0, -1, 1.5, Number.NaN]) {
      expect(() => connection.notifications({ maxQueued })).toThrow(
        /maxQueued must be a positive integer, found/,
      )
    }
    await client.end()
  })
})

describe('connection.on', () => {
  it('refuses an unknown event name, even one an object inherits', async () => {
    const { client, connection } = await open()
    for (const event of ['toString', 'notices']) {
      expect(() => connection.on(event as 'notice', () => {})).toThrow(
        `unknown connection event "${event}": expected notice, notification, parameter or error`,
      )
    }
    await client.end()
  })
})
