import { describe, expect, it } from 'vitest'
import { parseConfig } from './config.ts'
import { isPgError } from './errors.ts'

const base = 'postgres://app@localhost/app'

/** The config error `parse` throws, or fails the test when it does not throw one. */
function refusal(parse: () => unknown): Error {
  try {
    parse()
  } catch (error) {
    expect(isPgError(error, 'config')).toBe(true)
    return error as Error
  }
  throw new Error('expected a config error, found none')
}

describe('session settings the decoders depend on (client_encoding, DateStyle, IntervalStyle)', () => {
  it('refuses a client_encoding other than UTF8 in options, before any I/O', () => {
    const error = refusal(() => parseConfig(`${base}?options=-c%20client_encoding%3DLATIN1`))
    expect(error.message).toMatch(/client_encoding "LATIN1" \(in options\) is not supported: .*UTF8/)
    expect(() =>
      parseConfig({ host: 'h', port: 5432, user: 'u', options: '--client-encoding=SJIS' }),
    ).toThrow(/client_encoding "SJIS" \(in options\)/)
  })

  it('refuses a client_encoding other than UTF8 in parameters, whatever the spelling of the name', () => {
    const error = refusal(() =>
      parseConfig({ host: 'h', port: 5432, user: 'u', parameters: { CLIENT_ENCODING: 'latin1' } }),
    )
    expect(error.message).toMatch(/client_encoding "latin1" \(in parameters\) is not supported/)
  })

  it('accepts the spellings of UTF8 PostgreSQL accepts', () => {
    for (const value of ['UTF8', 'utf-8', 'Unicode', 'utf_8']) {
      expect(
        parseConfig({ host: 'h', port: 5432, user: 'u', parameters: { client_encoding: value } }).parameters,
      ).toEqual({ client_encoding: value })
    }
  })

  it('refuses a DateStyle whose output style is not ISO, in options and in parameters', () => {
    for (const style of ['SQL, DMY', 'Postgres', 'German', 'ISO, SQL']) {
      const error = refusal(() =>
        parseConfig({ host: 'h', port: 5432, user: 'u', parameters: { DateStyle: style } }),
      )
      expect(error.message).toMatch(/DateStyle ".*" \(in parameters\) is not supported: .*ISO output style/)
    }
    const error = refusal(() => parseConfig(`${base}?options=-c%20datestyle%3Dsql`))
    expect(error.message).toMatch(/DateStyle "sql" \(in options\)/)
  })

  it('refuses a DateStyle that names only a field order (the server would keep its own output style)', () => {
    const error = refusal(() =>
      parseConfig({ host: 'h', port: 5432, user: 'u', options: '-c DateStyle=DMY' }),
    )
    expect(error.message).toMatch(
      /DateStyle "DMY" \(in options\) is not supported: expected the ISO output style with any field order, e\.g\. 'ISO, DMY'/,
    )
  })

  it('accepts ISO with any field order, with the escapes options allows', () => {
    const config = parseConfig({
      host: 'h',
      port: 5432,
      user: 'u',
      options: '-c DateStyle=ISO,\\ DMY -cintervalstyle=iso_8601',
    })
    expect(config.sessionSettings).toEqual({ datestyle: 'ISO, DMY', intervalstyle: 'iso_8601' })
    expect(
      parseConfig({ host: 'h', port: 5432, user: 'u', parameters: { datestyle: 'ymd, iso' } }).parameters,
    ).toEqual({ DateStyle: 'ymd, iso' })
  })

  it('allows all four IntervalStyle output styles and refuses anything else', () => {
    for (const style of ['postgres', 'postgres_verbose', 'sql_standard', 'ISO_8601']) {
      expect(
        parseConfig({ host: 'h', port: 5432, user: 'u', parameters: { IntervalStyle: style } }).parameters,
      ).toEqual({ IntervalStyle: style })
    }
    const error = refusal(() => parseConfig(`${base}?options=--IntervalStyle%3Dverbose`))
    expect(error.message).toMatch(
      /IntervalStyle "verbose" \(in options\) is not supported: expected postgres, postgres_verbose, sql_standard or iso_8601/,
    )
  })

  it('leaves other options alone', () => {
    const config = parseConfig(`${base}?options=-c%20search_path%3Dapp%20-c%20statement_timeout%3D5s`)
    expect(config.options).toBe('-c search_path=app -c statement_timeout=5s')
    expect(config.sessionSettings).toEqual({})
  })
})

describe('channel_binding and require_auth', () => {
  it('reads both from a URL, a key=value string and an object; channel_binding defaults to prefer', () => {
    expect(parseConfig(base).channelBinding).toBe('prefer')
    expect(parseConfig(base).requireAuth).toBeUndefined()
    const fromUrl = parseConfig(`${base}?sslmode=require&channel_binding=require&require_auth=scram-sha-256`)
    expect(fromUrl.channelBinding).toBe('require')
    expect([...fromUrl.requireAuth!.allowed]).toEqual(['scram-sha-256'])
    const fromText = parseConfig("host=h user=u require_auth='!password,!md5' channel_binding=disable")
    expect(fromText.channelBinding).toBe('disable')
    expect(fromText.requireAuth!.allowed.has('password')).toBe(false)
    const fromObject = parseConfig({
      host: 'h',
      port: 1,
      user: 'u',
      requireAuth: ['md5'],
      channelBinding: 'disable',
    })
    expect([...fromObject.requireAuth!.allowed]).toEqual(['md5'])
  })

  it('refuses channel_binding=require without TLS, and an invalid mode', () => {
    expect(refusal(() => parseConfig(`${base}?channel_binding=require`)).message).toMatch(
      /channel_binding=require needs TLS to PostgreSQL: set sslmode=require or stricter/,
    )
    expect(refusal(() => parseConfig(`${base}?channel_binding=always`)).message).toMatch(
      /channel_binding "always" is invalid: expected disable, prefer or require/,
    )
  })

  it('refuses an unknown require_auth method', () => {
    expect(refusal(() => parseConfig(`${base}?require_auth=kerberos`)).message).toMatch(
      /require_auth "kerberos" is invalid: expected a comma-separated list/,
    )
  })
})

describe('the object form refuses keys it does not know', () => {
  it('names a typo or a libpq spelling instead of ignoring it', () => {
    const base = { host: 'h', port: 5432, user: 'u' }
    for (const key of ['sslMode', 'application_name', 'dbname', 'foo']) {
      expect(() => parseConfig({ ...base, [key]: 'x' } as never)).toThrow(
        new RegExp(`unknown connection setting "${key}"`),
      )
    }
    expect(parseConfig({ ...base, database: 'd', applicationName: 'a' }).database).toBe('d')
  })
})
