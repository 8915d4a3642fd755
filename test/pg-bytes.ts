/**
 * Builds backend message bytes for fake servers in fault-injection tests, independently of the production
 * codec (so a codec bug cannot hide behind the same bug in the fixture).
 */

export function message(tag: string, ...parts: (number[] | Uint8Array)[]): Uint8Array {
  const body = parts.flatMap((p) => [...p])
  const length = body.length + 4
  return Uint8Array.from([tag.charCodeAt(0), ...int32(length), ...body])
}

export const int32 = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]
export const int16 = (n: number) => [(n >>> 8) & 0xff, n & 0xff]
export const cstring = (s: string) => [...new TextEncoder().encode(s), 0]

export const authOk = () => message('R', int32(0))
export const readyForQuery = (status = 'I') => message('Z', [status.charCodeAt(0)])
export const backendKeyData = (pid: number, key: number) => message('K', int32(pid), int32(key))
export const parseComplete = () => message('1')
export const bindComplete = () => message('2')
export const noData = () => message('n')
export const commandComplete = (tag: string) => message('C', cstring(tag))

/** RowDescription with text-format int4 columns. */
export function rowDescription(names: string[]): Uint8Array {
  const fields = names.flatMap((name) => [
    ...cstring(name),
    ...int32(0),
    ...int16(0),
    ...int32(23),
    ...int16(4),
    ...int32(-1),
    ...int16(0),
  ])
  return message('T', int16(names.length), fields)
}

/** DataRow with text values (null → SQL NULL). */
export function dataRow(values: (string | null)[]): Uint8Array {
  const cols = values.flatMap((v) => {
    if (v === null) return int32(-1)
    const bytes = new TextEncoder().encode(v)
    return [...int32(bytes.length), ...bytes]
  })
  return message('D', int16(values.length), cols)
}

/** The messages a trust-authenticated server sends after the startup packet. */
export const handshake = () => concat(authOk(), backendKeyData(1234, 5678), readyForQuery())

export function concat(...chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0))
  let offset = 0
  for (const c of chunks) {
    out.set(c, offset)
    offset += c.length
  }
  return out
}
