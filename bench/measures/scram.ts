/**
 * CPU per login: N sequential logins per driver with no added latency, measured with `process.cpuUsage()`
 * (user + system, all threads of this process, so WebCrypto's PBKDF2 on the thread pool counts). SCRAM-SHA-256
 * with PostgreSQL's 4096 iterations, and the same with the trust role to show what the rest of a login costs.
 */
import { clearScramCache } from '../../client/src/auth/index.ts'
import type { Context } from '../context.ts'
import { type DriverId, drivers } from '../drivers.ts'
import { interleave } from '../interleave.ts'
import { type Measure, row } from '../report.ts'
import { endpoint } from '../setup.ts'

const IDS: DriverId[] = ['edgepg', 'pg', 'postgres.js', 'edgepg-ws', 'neon-ws']
/** PostgreSQL's default scram_iterations. */
const ITERATIONS = 4096

export async function scramCpu(ctx: Context): Promise<Measure> {
  const logins = ctx.quick ? 5 : 20
  const rounds = ctx.quick ? 1 : 3
  ctx.log(`login CPU: ${logins} logins per sample, ${rounds} rounds`)
  const scram = endpoint(ctx.pg, ctx.pg.roles.scram, { relayPort: ctx.relay.port })
  const trust = endpoint(ctx.pg, ctx.pg.roles.trust, { relayPort: ctx.relay.port })
  const sample = (id: DriverId, e: typeof scram, isCached: boolean) => async () => {
    const before = process.cpuUsage()
    for (let i = 0; i < logins; i++) {
      if (!isCached) clearScramCache()
      await drivers[id].firstRow(e)
    }
    const used = process.cpuUsage(before)
    return (used.user + used.system) / 1000 / logins
  }
  const tasks = [
    ...IDS.map((id) => ({ id, run: sample(id, scram, false) })),
    { id: 'edgepg-cached', run: sample('edgepg', scram, true) },
    ...IDS.map((id) => ({ id: `${id}-trust`, run: sample(id, trust, false) })),
    { id: 'pbkdf2', run: () => pbkdf2Cpu(logins) },
  ]
  const results = await interleave(tasks, rounds)
  const rows = IDS.map((id) => {
    const r = results.get(id)!
    return row(id, `${drivers[id].label}, SCRAM`, drivers[id].isOurs, r.samples, r.note)
  })
  const cached = results.get('edgepg-cached')!
  rows.push(row('edgepg-cached', 'edgepg (TCP), SCRAM, cached key', true, cached.samples, cached.note))
  for (const id of IDS) {
    const r = results.get(`${id}-trust`)!
    rows.push(row(`${id}-trust`, `${drivers[id].label}, trust`, drivers[id].isOurs, r.samples, r.note))
  }
  const pbkdf2 = results.get('pbkdf2')!
  rows.push(
    row('pbkdf2', `PBKDF2-SHA-256, ${ITERATIONS} iterations (WebCrypto)`, false, pbkdf2.samples, pbkdf2.note),
  )
  return {
    id: 'scram-cpu',
    title: 'Client CPU per login (connect, select 1, end)',
    unit: 'CPU ms per login',
    better: 'lower',
    rows,
    compare: [
      ['edgepg', 'pg'],
      ['edgepg', 'postgres.js'],
      ['edgepg-ws', 'neon-ws'],
    ],
    notes: [
      'SCRAM rows clear edgepg\'s salted-key cache before each login (cold); "cached key" keeps it, as reconnects do.',
      'The trust rows log in without a password: the difference to the SCRAM row is what SCRAM costs the client.',
      "The relay's CPU is not counted (its own process).",
    ],
    limits: [
      {
        label: 'one PBKDF2 of the password',
        of: { row: 'pbkdf2' },
        why: `The one piece of a cold SCRAM login no client can skip: the salted password, PBKDF2-SHA-256 with the server's ${ITERATIONS} iterations, here one WebCrypto deriveBits per sample login in this run (the rest, sockets and messages, has no fixed floor). The cached key and trust rows skip it and have no limit here.`,
        rows: ['edgepg', 'pg', 'postgres.js', 'edgepg-ws', 'neon-ws'],
      },
    ],
  }
}

/** CPU ms of one PBKDF2-SHA-256 derivation of {@link ITERATIONS}, the mean of `count` one after another. */
async function pbkdf2Cpu(count: number): Promise<number> {
  const password = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode('bench password'),
    'PBKDF2',
    false,
    ['deriveBits'],
  )
  const before = process.cpuUsage()
  for (let i = 0; i < count; i++) {
    const salt = crypto.getRandomValues(new Uint8Array(16))
    await crypto.subtle.deriveBits(
      { name: 'PBKDF2', hash: 'SHA-256', salt, iterations: ITERATIONS },
      password,
      256,
    )
  }
  const used = process.cpuUsage(before)
  return (used.user + used.system) / 1000 / count
}
