/**
 * The session settings the text decoders depend on, checked as the server reports them (ParameterStatus, at
 * startup and after every `SET`, `RESET` or function that changes them):
 *
 * - `IntervalStyle`: every style is read (interval-text.ts recognises the style from the text itself), so
 *   nothing is to be done but to refuse a value PostgreSQL does not have.
 * - `DateStyle`: any `ISO, <order>` is read alike (the order only changes how input is read); the SQL,
 *   Postgres and German output styles are not read, and a `date` would differ between text and binary.
 * - `client_encoding`: text is decoded as UTF-8 only.
 * - `integer_datetimes`: binary timestamps are int64 microseconds (always `on` since PostgreSQL 10).
 */
import { configError, type PgError } from '../errors.ts'

const INTERVAL_STYLES = ['postgres', 'postgres_verbose', 'sql_standard', 'iso_8601']

/**
 * Checks one reported setting: undefined when the decoders read values correctly under it, otherwise the
 * error (kind `config`) to close the connection with, naming the setting, its value and what is supported.
 */
export function followSetting(name: string, value: string): PgError | undefined {
  let reason: string | undefined
  switch (name.toLowerCase()) {
    case 'intervalstyle':
      if (!INTERVAL_STYLES.includes(value.toLowerCase()))
        reason = 'is not supported: expected postgres, postgres_verbose, sql_standard or iso_8601'
      break
    case 'datestyle':
      if (value.split(',')[0]!.trim().toLowerCase() !== 'iso')
        reason =
          "is not supported: edgepg decodes dates in the ISO output style only (any order, e.g. 'ISO, DMY')"
      break
    case 'client_encoding':
      if (!['utf8', 'unicode'].includes(value.toLowerCase().replace(/[^a-z0-9]/g, '')))
        reason = 'is not supported: edgepg decodes text as UTF8 only'
      break
    case 'integer_datetimes':
      if (value !== 'on') reason = 'is not supported: expected on (int64 timestamps)'
      break
    default:
      return undefined
  }
  return reason === undefined
    ? undefined
    : configError(`${name} "${value}" (reported by the server) ${reason}`)
}
