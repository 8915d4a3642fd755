/**
 * Round trips from opening the socket to the first row, cold, under SCRAM-SHA-256 (no TLS). A latency proxy
 * delays every chunk by ONE_WAY ms each way, in front of PostgreSQL for the TCP drivers and in front of the
 * relay for the WebSocket ones (the relay reaches PostgreSQL directly, as when it sits next to the database).
 * Elapsed ÷ RTT counts the round trips after the TCP handshake, which the loopback proxy cannot delay; one
 * more is added for it. Client CPU (PBKDF2 above all) shows as a fraction of a round trip.
 */
import { clearScramCache } from '../../client/src/auth/index.ts'
import type { Context } from '../context.ts'
import { type DriverId, drivers } from '../drivers.ts'
import { interleave } from '../interleave.ts'
import { startLatencyProxy } from '../latency-proxy.ts'
import { type Measure, row } from '../report.ts'
import { endpoint, onCleanup } from '../setup.ts'

const IDS: DriverId[] = [
  'edgepg',
  'edgepg-fast',
  'pg',
  'postgres.js',
  'edgepg-ws',
  'edgepg-ws-fast',
  'neon-ws',
  'neon-ws-cleartext',
]
const ONE_WAY = 40

export async function roundTrips(ctx: Context): Promise<Measure> {
  const rounds = ctx.quick ? 1 : 3
  const rtt = 2 * ONE_WAY
  ctx.log(`round trips: RTT ${rtt} ms through a latency proxy, ${rounds} rounds`)
  const pgProxy = await startLatencyProxy({ host: ctx.pg.host, port: ctx.pg.port }, ONE_WAY)
  onCleanup(() => pgProxy.close())
  const relayProxy = await startLatencyProxy({ host: '127.0.0.1', port: ctx.relay.port }, ONE_WAY)
  onCleanup(() => relayProxy.close())
  const routes = { tcpPort: pgProxy.port, relayPort: relayProxy.port }
  const scram = endpoint(ctx.pg, ctx.pg.roles.scram, routes)
  const cleartext = endpoint(ctx.pg, ctx.pg.roles.password, routes)
  const results = await interleave(
    IDS.map((id) => ({
      id,
      async run() {
        clearScramCache()
        const elapsed = await drivers[id].firstRow(id === 'neon-ws-cleartext' ? cleartext : scram)
        return elapsed / rtt + 1
      },
    })),
    rounds,
  )
  return {
    id: 'round-trips',
    title: `Round trips to the first row, SCRAM, cold (RTT ${rtt} ms)`,
    unit: 'round trips',
    better: 'lower',
    rows: IDS.map((id) => {
      const r = results.get(id)!
      return row(id, drivers[id].label, drivers[id].isOurs, r.samples, r.note)
    }),
    compare: [
      ['edgepg', 'pg'],
      ['edgepg', 'postgres.js'],
      ['edgepg-fast', 'pg'],
      ['edgepg-fast', 'postgres.js'],
      ['edgepg-ws', 'neon-ws'],
      ['edgepg-ws-fast', 'neon-ws'],
      ['edgepg-ws-fast', 'neon-ws-cleartext'],
    ],
    notes: [
      `Elapsed from the connect call to the first row ÷ ${rtt} ms, plus 1 for the TCP handshake that the loopback proxy cannot delay.`,
      "edgepg's SCRAM key cache is cleared before every sample; postgres.js fetches array types on its first connection (its default).",
      'The flights by default: TCP handshake; WebSocket upgrade (relay only); startup → AuthenticationSASL; client-first → server-first; client-final → AuthenticationOk … ReadyForQuery; query → row. That is 5 over TCP and 6 through the relay.',
      'The cleartext row uses a role with password (cleartext) authentication, where Neon can pipeline the password: the best case of the design note; it has no SCRAM floor.',
    ],
    limits: [
      {
        label: "the protocol's floor over TCP",
        of: { value: 3 },
        why: "SCRAM needs the server's nonce before the client can prove the password, so a client can at best send the client-first message with the startup and the query with the client-final: TCP handshake, startup + client-first → server-first, client-final + query → row. 3 round trips; edgepg reaches it with pipelineConnect: 'scram'.",
        rows: ['edgepg', 'edgepg-fast', 'pg', 'postgres.js'],
      },
      {
        label: "the protocol's floor through the relay",
        of: { value: 4 },
        why: 'The floor over TCP plus the WebSocket upgrade, which must complete before the client may send a frame (RFC 6455): 4 round trips.',
        rows: ['edgepg-ws', 'edgepg-ws-fast', 'neon-ws'],
      },
    ],
  }
}
