import { isPgError } from '@edgepg/client'
import { describe, expect, it } from 'vitest'
import { open } from './helpers.ts'

describe('session settings changed by SET are followed, or the connection closes with a clear error', () => {
  for (const [setting, value] of [
    ['DateStyle', 'SQL, DMY'],
    ['DateStyle', 'German'],
    ['client_encoding', 'LATIN1'],
  ] as const) {
    it(`SET ${setting} = '${value}' closes the connection with a config error naming it`, async () => {
      const { client, connection, done } = await open()
      const error = await client.query(`set ${setting} = '${value}'`).catch((e: unknown) => e)
      expect(isPgError(error, 'config'), String(error)).toBe(true)
      expect((error as Error).message).toContain(setting)
      expect((error as Error).message).toContain(value)
      await expect(done).rejects.toBe(error)
      expect(connection.state).toBe('closed')
      await expect(client.query('select 1')).rejects.toSatisfy((e) => isPgError(e, 'closed'))
    })
  }

  it('SET IntervalStyle to each style keeps the connection and decodes intervals alike', async () => {
    const { client } = await open()
    const seen: unknown[] = []
    for (const style of ['postgres', 'postgres_verbose', 'sql_standard', 'iso_8601']) {
      await client.query(`set IntervalStyle = ${style}`)
      const row = await client.queryOne(
        `select '1 year -2 mons 3 days 04:05:06.5'::interval as i, '0'::interval as z`,
      )
      seen.push(row)
    }
    for (const row of seen) expect(row).toEqual(seen[0])
    await client.end()
  })

  it('SET DateStyle to another ISO field order keeps the connection and the same values', async () => {
    const { client } = await open()
    const before = await client.queryOne(
      `select '2024-03-05'::date as d, '2024-03-05 01:02:03+00'::timestamptz as t`,
    )
    await client.query(`set DateStyle = 'ISO, DMY'`)
    const after = await client.queryOne(
      `select '2024-03-05'::date as d, '2024-03-05 01:02:03+00'::timestamptz as t`,
    )
    expect(after).toEqual(before)
    await client.end()
  })
})
