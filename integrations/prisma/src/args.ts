/**
 * Query parameters from Prisma's `args` and `argTypes`, as `@prisma/adapter-pg` prepares them: datetimes as
 * UTC text (`DATE` columns as the date, `TIME`/`TIMETZ` as the time), bytes given as base64
 * text or any byte view as a `Uint8Array` (sent in binary format), booleans as `true`/`false` (pg's text: an
 * uncast `select ${true}` reads `'true'`, not edgepg's `'t'`), lists element by element. Everything else goes
 * to edgepg as it is (strings, numbers, bigints; edgepg writes each as PostgreSQL text).
 */
import type { ArgType } from '@prisma/driver-adapter-utils'

/** The parameter edgepg sends for `arg` of type `argType` (no type: as it is). */
export function mapArg(arg: unknown, argType: ArgType | undefined): unknown {
  if (arg === null || arg === undefined) return null
  if (Array.isArray(arg) && argType?.arity === 'list') return arg.map((value) => mapArg(value, argType))
  let value = arg
  if (typeof value === 'string' && argType?.scalarType === 'datetime') value = new Date(value)
  if (value instanceof Date) {
    switch (argType?.dbType) {
      case 'TIME':
      case 'TIMETZ':
        return formatTime(value)
      case 'DATE':
        return formatDate(value)
      default:
        return formatDateTime(value)
    }
  }
  if (typeof value === 'string' && argType?.scalarType === 'bytes') return fromBase64(value)
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
  if (typeof value === 'boolean') return value ? 'true' : 'false'
  return value
}

/** Every arg of `query` mapped by {@link mapArg}. */
export function mapArgs(args: readonly unknown[], argTypes: readonly (ArgType | undefined)[]): unknown[] {
  return args.map((arg, i) => mapArg(arg, argTypes[i]))
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0')

function formatDate(date: Date): string {
  return `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`
}

function formatTime(date: Date): string {
  const ms = date.getUTCMilliseconds()
  return (
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}` +
    (ms ? `.${pad(ms, 3)}` : '')
  )
}

/**
 * A datetime as UTC text with `+00:00`. adapter-pg writes no offset, so PostgreSQL reads a timestamptz in
 * the session's TimeZone (right only under UTC); with the offset the instant is kept under any TimeZone, and
 * a timestamp (without time zone) ignores it.
 */
function formatDateTime(date: Date): string {
  return `${formatDate(date)} ${formatTime(date)}+00:00`
}

/** Base64 text as bytes (`atob` exists in every runtime edgepg runs in). */
function fromBase64(text: string): Uint8Array {
  const binary = atob(text)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}
