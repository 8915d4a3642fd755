import { describe, expect, it } from 'vitest'
import { isPgError } from '../errors.ts'
import { signatureAlgorithm, tlsServerEndPoint } from './channel-binding.ts'

/** A DER SEQUENCE, OID etc. with a short-form length. */
const tlv = (tag: number, ...content: number[][]) => {
  const body = content.flat()
  return [tag, ...(body.length < 128 ? [body.length] : [0x81, body.length]), ...body]
}
/** A skeletal certificate: SEQUENCE { tbs, SEQUENCE { OID, NULL }, BIT STRING }. */
const certificate = (oid: number[], tbsBytes = 4) =>
  new Uint8Array(
    tlv(
      0x30,
      tlv(0x30, new Array(tbsBytes).fill(1)),
      tlv(0x30, tlv(0x06, oid), [0x05, 0]),
      tlv(0x03, [0, 0xaa]),
    ),
  )
const SHA256_WITH_RSA = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b]
const SHA384_WITH_ECDSA = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03]
const ED25519 = [0x2b, 0x65, 0x70]

describe('tls-server-end-point (RFC 5929)', () => {
  it('reads the signature algorithm after the tbsCertificate, with long-form lengths too', () => {
    expect(signatureAlgorithm(certificate(SHA256_WITH_RSA))).toBe('1.2.840.113549.1.1.11')
    expect(signatureAlgorithm(certificate(SHA384_WITH_ECDSA, 200))).toBe('1.2.840.10045.4.3.3')
  })

  it('hashes the whole certificate with the hash of its signature algorithm', async () => {
    for (const [oid, hash] of [
      [SHA256_WITH_RSA, 'SHA-256'],
      [SHA384_WITH_ECDSA, 'SHA-384'],
    ] as const) {
      const der = certificate(oid)
      const expected = new Uint8Array(await crypto.subtle.digest(hash, der))
      expect(await tlsServerEndPoint(der)).toEqual(expected)
    }
  })

  it('refuses a signature algorithm with no defined hash (Ed25519) and malformed DER with kind auth', async () => {
    const ed = await tlsServerEndPoint(certificate(ED25519)).catch((e: unknown) => e)
    expect(isPgError(ed, 'auth')).toBe(true)
    expect((ed as Error).message).toMatch(
      /signature algorithm 1\.3\.101\.112 has no tls-server-end-point hash/,
    )
    for (const bad of [
      new Uint8Array([]),
      new Uint8Array([0x30, 0x05, 0x30]),
      certificate(SHA256_WITH_RSA).slice(0, 12),
    ]) {
      expect(() => signatureAlgorithm(bad)).toThrow(/not well-formed DER/)
    }
  })
})
