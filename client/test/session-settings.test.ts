import { connect, isPgError } from '@edgepg/client'
import { describe, expect, it } from 'vitest'
import { open, server, transport, url } from './helpers.ts'

describe('session settings from options and parameters', () => {
  it('an IntervalStyle and an ISO DateStyle set through options take effect (startup does not override them)', async () => {
    const options = encodeURIComponent('-c IntervalStyle=iso_8601 -c DateStyle=ISO,\\ DMY')
    const { client } = await open({ url: `${url()}?options=${options}` })
    const row = await client.queryOne<{ interval: string; date: string }>(
      "select current_setting('IntervalStyle') as interval, current_setting('DateStyle') as date",
    )
    expect(row).toEqual({ interval: 'iso_8601', date: 'ISO, DMY' })
    await client.end()
  })

  it('an IntervalStyle in parameters takes effect, whatever the spelling of its name', async () => {
    const { user, password } = server.roles.scram
    const [client, connection] = await connect(
      {
        host: server.host,
        port: server.port,
        user,
        password,
        database: server.database,
        parameters: { intervalstyle: 'sql_standard' },
      },
      { transport: transport() },
    )
    connection.run().catch(() => {})
    const row = await client.queryOne<{ s: string }>("select current_setting('IntervalStyle') as s")
    expect(row.s).toBe('sql_standard')
    await client.end()
  })

  it('a non-UTF8 client_encoding is refused with kind config before any I/O', async () => {
    let opened = 0
    const error = await connect(`${url()}?options=${encodeURIComponent('-c client_encoding=LATIN1')}`, {
      transport: (target) => {
        opened++
        return transport()(target)
      },
    }).catch((e: unknown) => e)
    expect(isPgError(error, 'config')).toBe(true)
    expect(opened).toBe(0)
  })
})
