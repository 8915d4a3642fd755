/**
 * Differential tests against node-postgres's serializer (`pg-protocol`): our writer produces the bytes its
 * `serialize.*` does. Bind differs by design for several parameters (one format code when all agree), so
 * there the messages are compared by meaning.
 */
import fc from 'fast-check'
import { serialize } from 'pg-protocol'
import { describe, expect, it } from 'vitest'
import { splitFrontend } from './bytes.fixture.ts'
import { FrontendWriter } from './writer.ts'

const bytesOf = (write: (w: FrontendWriter) => unknown) => {
  const writer = new FrontendWriter()
  write(writer)
  return writer.finish()
}
const same = (ours: Uint8Array, theirs: Buffer) => expect([...ours]).toEqual([...theirs])
const text = fc.string({ unit: 'binary', maxLength: 40 }).map((s) => s.replaceAll('\0', ''))
const name = fc.string({ unit: 'grapheme-ascii', maxLength: 20 })

describe('writer against pg-protocol', () => {
  it('writes the same startup message', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          name.filter((k) => k !== '' && k !== '__proto__'),
          text,
        ),
        (params) => {
          // pg-protocol appends client_encoding itself
          same(
            bytesOf((w) => w.startup({ ...params, client_encoding: 'UTF8' })),
            serialize.startup(params),
          )
        },
      ),
    )
  })

  it('writes the same password, query and SASL messages', () => {
    fc.assert(
      fc.property(text, text, (a, b) => {
        same(
          bytesOf((w) => w.password(a)),
          serialize.password(a),
        )
        same(
          bytesOf((w) => w.query(a)),
          serialize.query(a),
        )
        same(
          bytesOf((w) => w.copyFail(a)),
          serialize.copyFail(a),
        )
        same(
          bytesOf((w) => w.saslInitialResponse(b, new TextEncoder().encode(a))),
          serialize.sendSASLInitialResponseMessage(b, a),
        )
        same(
          bytesOf((w) => w.saslResponse(new TextEncoder().encode(a))),
          serialize.sendSCRAMClientFinalMessage(a),
        )
      }),
    )
  })

  it('writes the same Parse', () => {
    fc.assert(
      fc.property(
        name,
        text,
        fc.array(fc.integer({ min: 0, max: 0x7fffffff }), { maxLength: 5 }),
        (n, sql, types) => {
          same(
            bytesOf((w) => w.parse(n, sql, types)),
            serialize.parse({ name: n, text: sql, types }),
          )
        },
      ),
    )
  })

  it('writes the same Bind for zero or one parameter', () => {
    const value = fc.oneof(text, fc.constant(null), fc.uint8Array({ maxLength: 8 }))
    fc.assert(
      fc.property(
        name,
        name,
        fc.array(value, { maxLength: 1 }),
        fc.boolean(),
        (portal, statement, values, binary) => {
          const theirs = serialize.bind({
            portal,
            statement,
            binary,
            values: values.map((v) => (v instanceof Uint8Array ? Buffer.from(v) : v)),
          })
          same(
            bytesOf((w) => w.bind(portal, statement, values, [binary ? 1 : 0])),
            theirs,
          )
        },
      ),
    )
  })

  it('writes a Bind with the same meaning for many parameters, with one format code when they agree', () => {
    const value = fc.oneof(text, fc.constant(null), fc.uint8Array({ maxLength: 8 }))
    fc.assert(
      fc.property(fc.array(value, { minLength: 2, maxLength: 6 }), (values) => {
        const ours = decodeBind(bytesOf((w) => w.bind('', 's', values, [0])))
        const theirs = decodeBind(
          serialize.bind({
            statement: 's',
            values: values.map((v) => (v instanceof Uint8Array ? Buffer.from(v) : v)),
          }),
        )
        expect(ours.values).toEqual(theirs.values)
        // null carries no format: compare the codes of the values present
        const present = (formats: number[]) => formats.filter((_, i) => values[i] !== null)
        expect(present(ours.formats)).toEqual(present(theirs.formats))
        const isMixed =
          values.some((v) => typeof v === 'string') && values.some((v) => v instanceof Uint8Array)
        expect(ours.formatCount).toBe(isMixed ? values.length : 1)
      }),
    )
  })

  it('writes the same Describe, Close and Execute', () => {
    fc.assert(
      fc.property(fc.constantFrom('S' as const, 'P' as const), name, fc.nat(), (kind, n, rows) => {
        same(
          bytesOf((w) => w.describe(kind, n)),
          serialize.describe({ type: kind, name: n }),
        )
        same(
          bytesOf((w) => w.close(kind, n)),
          serialize.close({ type: kind, name: n }),
        )
        same(
          bytesOf((w) => w.execute(n, rows)),
          serialize.execute({ portal: n, rows }),
        )
      }),
    )
    same(
      bytesOf((w) => w.execute('')),
      serialize.execute(),
    )
  })

  it('writes the same CopyData', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (data) => {
        same(
          bytesOf((w) => w.copyData(data)),
          serialize.copyData(Buffer.from(data)),
        )
      }),
    )
  })

  it('writes the same bodiless messages, SSLRequest and CancelRequest', () => {
    same(
      bytesOf((w) => w.sync()),
      serialize.sync(),
    )
    same(
      bytesOf((w) => w.flush()),
      serialize.flush(),
    )
    same(
      bytesOf((w) => w.copyDone()),
      serialize.copyDone(),
    )
    same(
      bytesOf((w) => w.terminate()),
      serialize.end(),
    )
    same(
      bytesOf((w) => w.sslRequest()),
      serialize.requestSsl(),
    )
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0x7fffffff }),
        fc.integer({ min: -0x80000000, max: 0x7fffffff }),
        (pid, key) => {
          const keyBytes = new Uint8Array(4)
          new DataView(keyBytes.buffer).setInt32(0, key)
          same(
            bytesOf((w) => w.cancelRequest(pid, keyBytes)),
            serialize.cancel(pid, key),
          )
        },
      ),
    )
  })
})

/** Reads a Bind body back: per-parameter format codes (expanded), values, and how many codes were written. */
function decodeBind(bytes: Uint8Array) {
  const [bind] = splitFrontend(bytes)
  if (bind?.tag !== 'B') throw new Error('expected a Bind')
  const body = bind.body
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength)
  let at = body.indexOf(0) + 1
  at = body.indexOf(0, at) + 1
  const formatCount = view.getInt16(at)
  const codes: number[] = []
  for (let i = 0; i < formatCount; i++) codes.push(view.getInt16(at + 2 + 2 * i))
  at += 2 + 2 * formatCount
  const count = view.getInt16(at)
  at += 2
  const values: (number[] | null)[] = []
  for (let i = 0; i < count; i++) {
    const length = view.getInt32(at)
    at += 4
    values.push(length < 0 ? null : [...body.subarray(at, at + length)])
    if (length > 0) at += length
  }
  const formats = Array.from({ length: count }, (_, i) => (formatCount === 1 ? codes[0]! : (codes[i] ?? 0)))
  return { formatCount, formats, values }
}
