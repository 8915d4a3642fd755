/**
 * SCRAM channel binding `tls-server-end-point` (RFC 5929 §4): the hash of the server's certificate, with the
 * hash of the certificate's signature algorithm (SHA-256 when that is MD5 or SHA-1). A man in the middle who
 * terminates TLS with another certificate then cannot relay the SCRAM exchange.
 */
import { authError } from '../errors.ts'

/** libpq's `channel_binding`. */
export type ChannelBindingMode = 'disable' | 'prefer' | 'require'

/** Signature algorithm OIDs whose hash is defined for tls-server-end-point, and the hash to use. */
const HASH_BY_SIGNATURE: Record<string, 'SHA-256' | 'SHA-384' | 'SHA-512'> = {
  '1.2.840.113549.1.1.4': 'SHA-256', // md5WithRSAEncryption
  '1.2.840.113549.1.1.5': 'SHA-256', // sha1WithRSAEncryption
  '1.2.840.113549.1.1.11': 'SHA-256', // sha256WithRSAEncryption
  '1.2.840.113549.1.1.12': 'SHA-384', // sha384WithRSAEncryption
  '1.2.840.113549.1.1.13': 'SHA-512', // sha512WithRSAEncryption
  '1.2.840.10045.4.1': 'SHA-256', // ecdsa-with-SHA1
  '1.2.840.10045.4.3.2': 'SHA-256', // ecdsa-with-SHA256
  '1.2.840.10045.4.3.3': 'SHA-384', // ecdsa-with-SHA384
  '1.2.840.10045.4.3.4': 'SHA-512', // ecdsa-with-SHA512
  '1.2.840.10040.4.3': 'SHA-256', // dsa-with-sha1
  '2.16.840.1.101.3.4.3.2': 'SHA-256', // dsa-with-sha256
}

/** The tls-server-end-point channel binding data for a DER-encoded server certificate. */
export async function tlsServerEndPoint(certificate: Uint8Array): Promise<Uint8Array> {
  const oid = signatureAlgorithm(certificate)
  const hash = HASH_BY_SIGNATURE[oid]
  if (!hash) {
    throw authError(
      `cannot bind to the server certificate: its signature algorithm ${oid} has no tls-server-end-point hash ` +
        '(expected RSA, ECDSA or DSA with MD5, SHA-1 or SHA-2)',
    )
  }
  return new Uint8Array(await crypto.subtle.digest(hash, certificate as Uint8Array<ArrayBuffer>))
}

/** The dotted OID of `Certificate.signatureAlgorithm` (RFC 5280: SEQUENCE { tbs, algorithm, signature }). */
export function signatureAlgorithm(der: Uint8Array): string {
  const certificate = element(der, 0, 0x30)
  const tbs = element(der, certificate.start, 0x30)
  const algorithm = element(der, tbs.end, 0x30)
  const oid = element(der, algorithm.start, 0x06)
  return dotted(der.subarray(oid.start, oid.end))
}

/** One DER element at `offset` with tag `tag`: where its contents start and where it ends. */
function element(der: Uint8Array, offset: number, tag: number): { start: number; end: number } {
  if (der[offset] !== tag) throw malformed()
  let length = der[offset + 1]
  let start = offset + 2
  if (length === undefined) throw malformed()
  if (length & 0x80) {
    const bytes = length & 0x7f
    if (bytes === 0 || bytes > 4) throw malformed()
    length = 0
    for (let i = 0; i < bytes; i++) length = length * 256 + (der[start + i] ?? Number.NaN)
    start += bytes
  }
  const end = start + length
  if (!Number.isFinite(end) || end > der.length) throw malformed()
  return { start, end }
}

function dotted(bytes: Uint8Array): string {
  if (bytes.length === 0) throw malformed()
  const parts: number[] = []
  let value = 0
  for (const byte of bytes) {
    value = value * 128 + (byte & 0x7f)
    if (byte & 0x80) continue
    if (parts.length === 0)
      parts.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80)
    else parts.push(value)
    value = 0
  }
  return parts.join('.')
}

const malformed = () => authError('cannot bind to the server certificate: it is not well-formed DER')
