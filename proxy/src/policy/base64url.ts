/**
 * Unpadded base64url (RFC 4648 §5), runtime-neutral. Decoding is strict: padding, other alphabets and
 * non-canonical trailing bits are refused, so one token has exactly one spelling (the relay counts
 * connections per token string).
 */

/** Encodes bytes as unpadded base64url. */
export function base64urlEncode(data: Uint8Array): string {
  let text = ''
  for (const byte of data) text += String.fromCharCode(byte)
  return btoa(text).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '')
}

/** Decodes canonical unpadded base64url; undefined for anything else. */
export function base64urlDecode(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return undefined
  let raw: string
  try {
    raw = atob(text.replaceAll('-', '+').replaceAll('_', '/'))
  } catch {
    return undefined
  }
  const bytes = new Uint8Array(raw.length)
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i)
  return base64urlEncode(bytes) === text ? bytes : undefined
}
