// Relay attack case R1, systematically: seeded random HTTP requests over raw sockets against a relay running
// as a child process — request lines, header values, query strings, percent-encoding, IPv6 literals,
// oversized headers, and WebSocket frames after an accepted upgrade. The process never exits and /healthz
// answers after every batch. The suite runs a few batches; a long run:
//   EDGEPG_RELAY_FUZZ_BATCHES=2000 npx vitest run --config vitest.workspace.ts --project relay http-fuzz
import { randomBytes } from 'node:crypto'
import { connect } from 'node:net'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pgAddress } from './helpers.ts'
import { type RelayProcess, startRelayProcess } from './relay-process.ts'

const BATCHES = Number(process.env.EDGEPG_RELAY_FUZZ_BATCHES ?? 30)
const PER_BATCH = 10
const SEED = Number(process.env.EDGEPG_RELAY_FUZZ_SEED ?? 0x5eed)
/** How long one input may take: enough for the relay to answer or close, short enough to keep batches fast. */
const WAIT_MS = 250

let relay: RelayProcess
beforeAll(async () => {
  relay = await startRelayProcess(
    [
      '--allow',
      pgAddress,
      '--allow-missing-origin',
      'always',
      '--origin',
      'https://app.example.com',
      '--trust-proxy',
    ],
    // Tokens are verified when given, but not required, so that plain upgrades reach the session core.
    { EDGEPG_TOKEN_SECRETS: randomBytes(24).toString('hex'), EDGEPG_REQUIRE_TOKEN: 'false' },
  )
})
afterAll(() => relay.stop())

// --- generators -------------------------------------------------------------------------------------------

// Mostly well-framed requests: the parser refuses the rest itself, before the relay's code sees them.
const mostly = <T>(usual: fc.Arbitrary<T>, odd: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 9, arbitrary: usual }, { weight: 1, arbitrary: odd })
const anyText = fc.string({ unit: 'binary', maxLength: 24 })
const printable = fc.stringMatching(/^[\x20-\x7e]{0,24}$/)
const tchar = fc.stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,12}$/)
const percentJunk = fc.constantFrom(
  '%',
  '%Z',
  '%ZZ',
  '%00',
  '%0',
  '%E0%A4%A',
  '%C0%AF',
  '%FF',
  '%2',
  '%%',
  '%u0041',
)
const ipv6 = fc.oneof(
  fc.ipV6().map((a) => `[${a}]`),
  fc.constantFrom(
    '[::1',
    '::1]',
    '[::ffff:169.254.169.254]',
    '[fe80::1%25eth0]',
    '[',
    ']',
    '[::]',
    '[1:2:3:4:5:6:7:8:9]',
  ),
)
const host = fc.oneof(fc.domain(), fc.ipV4(), fc.ipV4Extended(), ipv6, printable, anyText)
const port = fc.oneof(
  fc.integer({ min: 0, max: 70_000 }).map(String),
  fc.constantFrom('', 'x', '-1', '99999999999', '5432 '),
)
const address = fc.tuple(host, port).map(([h, p]) => `${h}:${p}`)
const big = fc.integer({ min: 1000, max: 40_000 }).map((n) => 'a'.repeat(n))
const queryValue = mostly(
  fc.oneof(
    anyText.map(encodeURIComponent),
    printable,
    percentJunk,
    address,
    address.map(encodeURIComponent),
    fc.constant(pgAddress),
  ),
  fc.oneof(anyText, big),
)
const query = fc
  .array(fc.tuple(fc.constantFrom('address', 'target', 'token', 'x', '', '%61ddress'), queryValue), {
    maxLength: 4,
  })
  .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&'))
const path = fc.constantFrom(
  '/v1',
  '/healthz',
  '/metrics',
  '/',
  '',
  '*',
  '//',
  '/v1/',
  '/%2e%2e/v1',
  '/v1%00',
  '/V1',
)
const userinfo = fc.oneof(
  fc.constant(''),
  fc.tuple(anyText, anyText).map(([u, p]) => `${u}:${p}@`),
)
const target = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(path, query).map(([p, q]) => `${p}?${q}`) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.constantFrom('http://', 'https://', '//', 'ws://', 'x:', ''),
        userinfo,
        host,
        fc.option(port),
        path,
        query,
      )
      .map(([scheme, user, h, p, pa, q]) => `${scheme}${user}${h}${p === null ? '' : `:${p}`}${pa}?${q}`),
  },
  { weight: 1, arbitrary: anyText },
)
const method = fc.oneof(
  fc.constantFrom('GET', 'GET', 'GET', 'POST', 'OPTIONS', 'HEAD', 'CONNECT', 'PRI'),
  tchar,
)
const version = mostly(
  fc.constant('HTTP/1.1'),
  fc.constantFrom('HTTP/1.0', 'HTTP/2.0', 'http/1.1', 'HTTP/1.1 x', ''),
)
const headerName = mostly(
  fc.constantFrom(
    'Origin',
    'X-Forwarded-For',
    'Sec-WebSocket-Protocol',
    'Sec-WebSocket-Key',
    'Sec-WebSocket-Version',
    'Sec-WebSocket-Extensions',
    'Host',
    'Upgrade',
    'Connection',
    'Content-Length',
    'Transfer-Encoding',
    'Cookie',
  ),
  fc.oneof(tchar, anyText),
)
const headerValue = mostly(
  fc.oneof(
    printable,
    host,
    address,
    fc.array(fc.oneof(ipv6, fc.ipV4(), printable), { maxLength: 4 }).map((hops) => hops.join(', ')),
    fc.array(fc.oneof(tchar, printable), { maxLength: 4 }).map((p) => `edgepg.token.${p.join('.')}`),
    fc.constantFrom(
      'https://app.example.com',
      'null',
      'https://app.example.com.evil.tld',
      '13',
      '-1',
      '0x10',
    ),
  ),
  fc.oneof(anyText, big),
)
const header = fc.tuple(headerName, headerValue).map(([n, v]) => `${n}: ${v}\r\n`)
/** A WebSocket frame as a client sends it (masked), with any opcode and payload. */
const frame = fc
  .tuple(fc.constantFrom(0, 1, 2, 2, 2, 8, 9, 10, 3, 15), fc.boolean(), fc.uint8Array({ maxLength: 300 }))
  .map(([opcode, fin, payload]) => {
    const head =
      payload.length < 126
        ? [payload.length | 0x80]
        : [126 | 0x80, payload.length >> 8, payload.length & 0xff]
    const mask = [1, 2, 3, 4]
    const masked = payload.map((b, i) => b ^ mask[i % 4]!)
    return Buffer.from([(fin ? 0x80 : 0) | opcode, ...head, ...mask, ...masked])
  })

/** One input: a request (often a plausible upgrade), maybe followed by frames. */
const input = fc
  .record({
    method,
    target,
    version,
    upgrade: mostly(fc.constant(true), fc.constant(false)),
    headers: fc.array(header, { maxLength: 6 }),
    frames: fc.array(frame, { maxLength: 4 }),
    terminated: mostly(fc.constant(true), fc.constant(false)),
    raw: mostly(fc.constant(null), fc.uint8Array({ minLength: 1, maxLength: 200 })),
  })
  .map((r) => {
    if (r.raw) return Buffer.from(r.raw)
    const upgrade = r.upgrade
      ? 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n'
      : ''
    const head = `${r.method} ${r.target} ${r.version}\r\nHost: 127.0.0.1\r\n${upgrade}${r.headers.join('')}${r.terminated ? '\r\n' : ''}`
    return Buffer.concat([Buffer.from(head, 'utf8'), ...r.frames])
  })

// --- the test ---------------------------------------------------------------------------------------------

/** Writes `bytes` on a fresh connection, then waits for the relay to close it or for `WAIT_MS`. */
function send(bytes: Uint8Array): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(relay.port, '127.0.0.1')
    const done = () => {
      clearTimeout(timer)
      socket.destroy()
      resolve()
    }
    const timer = setTimeout(done, WAIT_MS)
    socket.on('error', () => {})
    socket.on('close', done)
    socket.on('data', () => {})
    socket.write(bytes)
  })
}

describe('R1: a fuzz of the HTTP surface', () => {
  it(
    `survives ${BATCHES * PER_BATCH} random requests (seed ${SEED}), answering /healthz after each batch of ${PER_BATCH}`,
    async () => {
      const started = performance.now()
      let inputs = 0
      await fc.assert(
        fc.asyncProperty(fc.array(input, { minLength: PER_BATCH, maxLength: PER_BATCH }), async (batch) => {
          await Promise.all(batch.map(send))
          inputs += batch.length
          expect(relay.isAlive(), relay.stderr()).toBe(true)
          expect(await relay.health()).toBe(200)
        }),
        { seed: SEED, numRuns: BATCHES, endOnFailure: true },
      )
      expect(relay.stderr()).toBe('')
      if (BATCHES > 30) {
        const seconds = ((performance.now() - started) / 1000).toFixed(1)
        console.info(`relay HTTP fuzz: ${inputs} inputs in ${seconds} s (seed ${SEED}), no exit`)
      }
    },
    Math.max(30_000, BATCHES * 2_000),
  )
})
