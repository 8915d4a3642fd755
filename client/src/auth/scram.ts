/**
 * SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL uses it: the SCRAM user name is empty (the server uses the
 * startup user). With a server certificate to bind to, SCRAM-SHA-256-PLUS (tls-server-end-point, RFC 5929)
 * per `channel_binding`; otherwise no channel binding (`n,,`, or `y,,` when the client could bind but the
 * server offered no PLUS — a server that supports it then refuses: a downgrade is caught). WebCrypto only: one PBKDF2 `deriveBits` call, and an in-memory
 * cache of derived keys so reconnects skip the PBKDF2 cost.
 */
import { authError, protocolError } from '../errors.ts'
import { hex } from '../types/bytes.ts'
import { decodeUtf8, encodeUtf8 } from '../utf8.ts'
import type { ChannelBindingMode } from './channel-binding.ts'
import { saslprep } from './saslprep.ts'

export interface ScramSession {
  readonly mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-256-PLUS'
  /** client-first-message, e.g. `n,,n=,r=<nonce>`. */
  readonly clientFirst: Uint8Array
  /** Consumes server-first-message; returns client-final-message. */
  continue(serverFirst: Uint8Array): Promise<Uint8Array>
  /** Verifies server-final-message (`v=…`); rejects on a mismatch or a server `e=…` error. */
  finish(serverFinal: Uint8Array): Promise<void>
  /**
   * `finish`, synchronously: startup checks the proof while dispatching the message, so nothing the server
   * sent after it (results of a request pipelined behind the login) is handled before the server proved itself.
   */
  verify(serverFinal: Uint8Array): void
}

/** A malicious server could ask for billions of iterations to burn the client's CPU. */
const MAX_ITERATIONS = 10_000_000
const MECHANISM = 'SCRAM-SHA-256'
const PLUS = 'SCRAM-SHA-256-PLUS'

/** How a SCRAM session binds to the TLS channel. */
export interface ScramChannelBinding {
  mode: ChannelBindingMode
  /** tls-server-end-point data (the server certificate's hash); absent when there is nothing to bind to. */
  data?: Uint8Array | undefined
}

export function startScram(
  password: string,
  mechanisms: readonly string[],
  options: { nonce?: string; username?: string; channelBinding?: ScramChannelBinding } = {},
): ScramSession {
  const { mode, data } = options.channelBinding ?? { mode: 'disable' }
  const offered = mechanisms.join(', ') || 'none'
  const isPlusOffered = mechanisms.includes(PLUS)
  let isPlus = false
  let flag = 'n'
  if (mode === 'require') {
    if (!data) {
      throw authError(
        'channel_binding=require, but this connection has no server certificate to bind to: it needs TLS ' +
          'to PostgreSQL over a transport that exposes the certificate (nodeSocket() with sslmode=require or ' +
          'stricter); nothing secret was sent',
      )
    }
    if (!isPlusOffered) {
      throw authError(
        `channel_binding=require, but the server offered ${offered}, not ${PLUS}; nothing secret was sent`,
      )
    }
    isPlus = true
  } else if (mode === 'prefer' && data) {
    if (isPlusOffered) isPlus = true
    else flag = 'y'
  }
  if (!isPlus && !mechanisms.includes(MECHANISM)) {
    if (isPlusOffered) {
      throw authError(
        `server requires ${PLUS} (channel binding), and this connection cannot bind` +
          (mode === 'disable' ? ' (channel_binding=disable)' : ': it has no server certificate to bind to'),
      )
    }
    throw authError(`server offered SASL mechanisms ${offered}: expected ${MECHANISM}`)
  }
  const clientNonce = options.nonce ?? base64(crypto.getRandomValues(new Uint8Array(18)))
  const clientFirstBare = `n=${escapeName(options.username ?? '')},r=${clientNonce}`
  const gs2Header = isPlus ? 'p=tls-server-end-point,,' : `${flag},,`
  const gs2Bytes = encodeUtf8(gs2Header)
  const channelBinding = isPlus ? concat(gs2Bytes, data!) : gs2Bytes
  let serverSignature: Bytes | undefined

  return {
    mechanism: isPlus ? PLUS : MECHANISM,
    clientFirst: encodeUtf8(gs2Header + clientFirstBare),
    async continue(data) {
      const serverFirst = decodeUtf8(data)
      const { nonce, salt, iterations } = parseServerFirst(serverFirst, clientNonce)
      const keys = await saltedKeys(password, salt, iterations)
      const clientFinalBare = `c=${base64(channelBinding)},r=${nonce}`
      const authMessage = encodeUtf8(`${clientFirstBare},${serverFirst},${clientFinalBare}`)
      const storedKey = await sha256(keys.clientKey)
      const clientSignature = await hmac(storedKey, authMessage)
      const proof = keys.clientKey.map((b, i) => b ^ clientSignature[i]!)
      serverSignature = await hmac(keys.serverKey, authMessage)
      return encodeUtf8(`${clientFinalBare},p=${base64(proof)}`)
    },
    async finish(data) {
      this.verify(data)
    },
    verify(data) {
      if (!serverSignature)
        throw protocolError('server sent the SCRAM final message before the continue message')
      const serverFinal = decodeUtf8(data)
      const attributes = parseAttributes(serverFinal)
      const error = attributes.get('e')
      if (error !== undefined) throw authError(`server rejected the SCRAM proof: ${error}`)
      const verifier = attributes.get('v')
      if (verifier === undefined)
        throw protocolError('SCRAM server-final-message has no verifier (v=): expected v=…')
      const received = fromBase64(verifier, 'server signature')
      if (!constantTimeEqual(received, serverSignature)) {
        throw authError('server signature mismatch: the server could not prove it knows the password')
      }
    },
  }
}

function parseServerFirst(message: string, clientNonce: string) {
  const attributes = parseAttributes(message)
  const nonce = attributes.get('r')
  if (nonce === undefined || !nonce.startsWith(clientNonce) || nonce.length <= clientNonce.length) {
    throw authError(
      'SCRAM server nonce does not extend the client nonce: expected r=<client nonce><server part>',
    )
  }
  const salt = attributes.get('s')
  if (!salt) throw protocolError('SCRAM server-first-message has no salt (s=)')
  const rawIterations = attributes.get('i') ?? ''
  if (!/^[1-9]\d*$/.test(rawIterations)) {
    throw protocolError(
      `SCRAM iteration count is invalid: expected a positive integer, found "${rawIterations}"`,
    )
  }
  const iterations = Number(rawIterations)
  if (iterations > MAX_ITERATIONS) {
    throw authError(`SCRAM iteration count ${iterations} exceeds the limit of ${MAX_ITERATIONS}`)
  }
  return { nonce, salt: fromBase64(salt, 'salt'), iterations }
}

function parseAttributes(message: string): Map<string, string> {
  const attributes = new Map<string, string>()
  for (const part of message.split(',')) {
    if (part.length < 2 || part[1] !== '=') {
      throw protocolError(
        `SCRAM message is malformed: expected attribute=value, found "${part.slice(0, 20)}"`,
      )
    }
    attributes.set(part[0]!, part.slice(2))
  }
  return attributes
}

/** RFC 5802 §5.1: `=` and `,` in a SCRAM user name are escaped. */
const escapeName = (name: string) => name.replaceAll('=', '=3D').replaceAll(',', '=2C')

// ---- key derivation and the salted-key cache ------------------------------------------------------------

/** WebCrypto takes buffers backed by a plain ArrayBuffer. */
type Bytes = Uint8Array<ArrayBuffer>

interface Keys {
  clientKey: Bytes
  serverKey: Bytes
}

const CACHE_SIZE = 16
const cache = new Map<string, Keys>()

/** Forgets every cached derived key. */
export function clearScramCache(): void {
  cache.clear()
}

async function saltedKeys(password: string, salt: Bytes, iterations: number): Promise<Keys> {
  const prepared = encodeUtf8(saslprep(password))
  // Keyed by a hash of the password, never the password itself.
  const id = `${hex(await sha256(prepared))}:${hex(salt)}:${iterations}`
  const hit = cache.get(id)
  if (hit) {
    cache.delete(id)
    cache.set(id, hit)
    return hit
  }
  const key = await crypto.subtle.importKey('raw', prepared, 'PBKDF2', false, ['deriveBits'])
  const salted = new Uint8Array(
    await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, key, 256),
  )
  const keys = {
    clientKey: await hmac(salted, encodeUtf8('Client Key')),
    serverKey: await hmac(salted, encodeUtf8('Server Key')),
  }
  cache.set(id, keys)
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!)
  return keys
}

async function hmac(key: Bytes, data: Bytes): Promise<Bytes> {
  const k = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
  return new Uint8Array(await crypto.subtle.sign('HMAC', k, data))
}

async function sha256(data: Bytes): Promise<Bytes> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', data))
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}

function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!
  return diff === 0
}

// ---- base64 and hex -------------------------------------------------------------------------------------

function base64(bytes: Uint8Array): string {
  let text = ''
  for (const b of bytes) text += String.fromCharCode(b)
  return btoa(text)
}

function fromBase64(text: string, what: string): Bytes {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
    throw protocolError(`SCRAM ${what} is not valid base64`)
  }
  const raw = atob(text)
  const bytes = new Uint8Array(raw.length)
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i)
  return bytes
}
