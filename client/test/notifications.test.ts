// Notices and LISTEN/NOTIFY reach the caller through the Connection, never silently dropped.
import type { Notice, Notification } from '@edgepg/client'
import { describe, expect, it, vi } from 'vitest'
import { open } from './helpers.ts'

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
