/**
 * Reads a `/sql` request body within `sqlMaxRequestBytes`: refused on its `Content-Length` before a byte is
 * read, and again while reading, for a chunked body or one longer than it said. Runtime-neutral.
 */

/** The body as text, or why it was refused (`status` 413 over the limit, 400 not UTF-8 or unreadable). */
export type BodyRead = { ok: true; text: string } | { ok: false; status: 400 | 413; message: string }

/** The 413 message for `limit`. */
export function tooLargeMessage(limit: number): string {
  return `the request body is larger than the relay's limit of ${limit} bytes (sqlMaxRequestBytes)`
}

/** Judges a `Content-Length` header alone: a 413 when it announces more than `limit`. */
export function checkContentLength(header: string | undefined, limit: number): BodyRead | undefined {
  if (header === undefined) return undefined
  const length = Number(header.trim())
  if (Number.isFinite(length) && length > limit)
    return { ok: false, status: 413, message: tooLargeMessage(limit) }
  return undefined
}

/**
 * Reads `body` to its end, stopping (and cancelling the stream) as soon as more than `limit` bytes came.
 * Never throws: a stream that fails (the client went away) is a 400.
 */
export async function readBody(body: ReadableStream<Uint8Array> | null, limit: number): Promise<BodyRead> {
  if (body === null) return { ok: true, text: '' }
  const reader = body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      size += value.byteLength
      if (size > limit) {
        reader.cancel().catch(() => {})
        return { ok: false, status: 413, message: tooLargeMessage(limit) }
      }
      chunks.push(value)
    }
  } catch {
    return { ok: false, status: 400, message: 'the request body could not be read to its end' }
  }
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.byteLength
  }
  try {
    return { ok: true, text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes) }
  } catch {
    return { ok: false, status: 400, message: 'the request body is not valid utf-8' }
  }
}
