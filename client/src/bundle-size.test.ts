// The browser/Worker bundle stays small: the same measurement as `npm run size` (scripts/bundle-size.ts).
import { beforeAll, describe, expect, it } from 'vitest'
import {
  ENTRIES,
  HTTP_ENTRY,
  HTTP_LIMIT,
  LIMIT,
  largestInputs,
  type Measured,
  measure,
  pieceCosts,
} from '../../scripts/bundle-size.ts'

describe('the WebSocket entry as a browser bundle', () => {
  let measured: Measured
  beforeAll(async () => {
    measured = await measure(ENTRIES[0]!)
  })

  it(`stays within ${LIMIT / 1024} KB minified and gzipped`, () => {
    expect(measured.gzipped).toBeGreaterThan(0)
    expect(measured.gzipped, `${measured.gzipped} bytes; run npm run size -- --analyze`).toBeLessThanOrEqual(
      LIMIT,
    )
  })

  it('bundles without Node built-ins, the node transport or the TLS negotiation', () => {
    const paths = largestInputs(measured, Number.POSITIVE_INFINITY).map((input) => input.path)
    expect(paths).toContain('client/src/transport/websocket.ts')
    const unwanted = ['node:', 'node-net', 'client/src/tls.ts', 'client/src/pool', 'sqlstate.generated.ts']
    expect(paths.filter((path) => unwanted.some((part) => path.includes(part)))).toEqual([])
  })

  it('gives every minified byte to one piece, each file as many bytes as esbuild counts for it', async () => {
    const { gzipped, pieces } = await pieceCosts(ENTRIES[0]!)
    expect(gzipped).toBe(measured.gzipped)
    expect(pieces.reduce((sum, piece) => sum + piece.minified, 0)).toBe(measured.minified)
    const inputs = Object.values(measured.metafile.outputs)[0]!.inputs
    const md5 = pieces.find((piece) => piece.name === 'auth: md5')!
    expect(md5.minified).toBe(inputs['client/src/auth/md5.ts']!.bytesInOutput)
    expect(md5.leaveOut).toBeGreaterThan(0)
    expect(md5.alone).toBeGreaterThanOrEqual(md5.leaveOut)
  })
})

describe('the HTTP entry as a browser bundle', () => {
  let measured: Measured
  beforeAll(async () => {
    measured = await measure(HTTP_ENTRY)
  })

  it(`stays within ${HTTP_LIMIT / 1024} KB minified and gzipped`, () => {
    expect(measured.gzipped).toBeGreaterThan(0)
    expect(measured.gzipped, `${measured.gzipped} bytes; run npm run size -- --analyze`).toBeLessThanOrEqual(
      HTTP_LIMIT,
    )
  })

  it('bundles no transport, no binary codec and no Node built-in', () => {
    const paths = largestInputs(measured, Number.POSITIVE_INFINITY).map((input) => input.path)
    expect(paths).toContain('client/src/http/index.ts')
    const unwanted = [
      'node:',
      'transport/',
      'types/binary.ts',
      'types/numeric.ts',
      'session-settings.ts',
      'core.ts',
    ]
    expect(paths.filter((path) => unwanted.some((part) => path.includes(part)))).toEqual([])
  })
})
