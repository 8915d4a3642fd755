/** Decoders for the messages of the startup phase: Authentication*, BackendKeyData, NegotiateProtocolVersion. */
import { protocolError } from '../errors.ts'
import type { BackendKeyData, BackendMessage, NegotiateProtocolVersion } from './messages.ts'
import { cstringEnd, expectEnd, need, readInt32, readString } from './read.ts'
import { AuthCode } from './tags.ts'

const AUTHENTICATION_OK: BackendMessage = Object.freeze({ type: 'AuthenticationOk' })
const AUTHENTICATION_CLEARTEXT: BackendMessage = Object.freeze({ type: 'AuthenticationCleartextPassword' })

/** Longest cancel key protocol 3.2 allows. */
const MAX_SECRET_KEY = 256

/** Decodes an `R` message: the int32 request code, then the code's own payload. */
export function decodeAuthentication(bytes: Uint8Array, start: number, end: number): BackendMessage {
  need('Authentication', start, 4, end)
  const code = readInt32(bytes, start)
  const at = start + 4
  switch (code) {
    case AuthCode.Ok:
      expectEnd('AuthenticationOk', at, end)
      return AUTHENTICATION_OK
    case AuthCode.CleartextPassword:
      expectEnd('AuthenticationCleartextPassword', at, end)
      return AUTHENTICATION_CLEARTEXT
    case AuthCode.MD5Password:
      if (end - at !== 4) {
        throw protocolError(`AuthenticationMD5Password salt has ${end - at} bytes: expected 4`)
      }
      return { type: 'AuthenticationMD5Password', salt: bytes.slice(at, end) }
    case AuthCode.SASL:
      return { type: 'AuthenticationSASL', mechanisms: decodeMechanisms(bytes, at, end) }
    case AuthCode.SASLContinue:
      return { type: 'AuthenticationSASLContinue', data: bytes.slice(at, end) }
    case AuthCode.SASLFinal:
      return { type: 'AuthenticationSASLFinal', data: bytes.slice(at, end) }
    case AuthCode.GSSContinue:
      // carries GSSAPI or SSPI data we do not read
      return { type: 'AuthenticationUnsupported', code }
    case AuthCode.KerberosV5:
    case AuthCode.SCMCredential:
    case AuthCode.GSS:
    case AuthCode.SSPI:
      expectEnd('Authentication', at, end)
      return { type: 'AuthenticationUnsupported', code }
    default:
      throw protocolError(`unknown authentication request code ${code}: expected 0, 2, 3, 5 or 6 to 12`)
  }
}

/** SASL mechanism names, each a C string, the list ended by an empty string. */
function decodeMechanisms(bytes: Uint8Array, start: number, end: number): string[] {
  const mechanisms: string[] = []
  let at = start
  for (;;) {
    need('AuthenticationSASL', at, 1, end)
    if (bytes[at] === 0) break
    const nul = cstringEnd('AuthenticationSASL', bytes, at, end)
    mechanisms.push(readString(bytes, at, nul))
    at = nul + 1
  }
  expectEnd('AuthenticationSASL', at + 1, end)
  return mechanisms
}

/** Decodes a `K` message. The key is copied: it lives as long as the connection, the chunk should not. */
export function decodeBackendKeyData(bytes: Uint8Array, start: number, end: number): BackendKeyData {
  need('BackendKeyData', start, 8, end)
  const keyLength = end - start - 4
  if (keyLength > MAX_SECRET_KEY) {
    throw protocolError(
      `BackendKeyData secret key has ${keyLength} bytes: expected at most ${MAX_SECRET_KEY}`,
    )
  }
  return {
    type: 'BackendKeyData',
    processId: readInt32(bytes, start),
    secretKey: bytes.slice(start + 4, end),
  }
}

/** Decodes a `v` message: newest supported minor version, then the unrecognized `_pq_.` options. */
export function decodeNegotiateProtocolVersion(
  bytes: Uint8Array,
  start: number,
  end: number,
): NegotiateProtocolVersion {
  const name = 'NegotiateProtocolVersion'
  need(name, start, 8, end)
  const newestMinor = readInt32(bytes, start)
  const count = readInt32(bytes, start + 4)
  let at = start + 8
  // each option takes at least its NUL: a larger count cannot be honest
  if (count < 0 || count > end - at) {
    throw protocolError(`${name} announces ${count} options but has ${end - at} bytes left`)
  }
  const unrecognized: string[] = []
  for (let i = 0; i < count; i++) {
    const nul = cstringEnd(name, bytes, at, end)
    unrecognized.push(readString(bytes, at, nul))
    at = nul + 1
  }
  expectEnd(name, at, end)
  return { type: 'NegotiateProtocolVersion', newestMinor, unrecognized }
}
