/**
 * PostgreSQL's CPU time, all of its processes together: the postmaster, every live backend and background
 * worker, and the backends that have already exited (the postmaster's reaped children, `cutime`/`cstime`).
 * Read before and after a timed run, the difference is what the run cost the server — pgbench's backend too,
 * though it exits before the run returns. Linux only (`/proc`); undefined elsewhere.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'

/** Clock ticks per second of `/proc/<pid>/stat` (USER_HZ, 100 on every Linux this runs on). */
const TICKS_PER_SECOND = 100

/** The server's CPU time in µs so far, or undefined when `/proc` cannot say. */
export async function serverCpu(dataDir: string): Promise<number | undefined> {
  try {
    const postmaster = Number((await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0])
    let ticks = 0
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue
      const stat = await readStat(entry)
      if (stat === undefined) continue
      if (stat.pid === postmaster) ticks += stat.utime + stat.stime + stat.cutime + stat.cstime
      else if (stat.ppid === postmaster) ticks += stat.utime + stat.stime
    }
    return (ticks / TICKS_PER_SECOND) * 1e6
  } catch {
    return undefined
  }
}

async function readStat(pid: string) {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined)
  if (text === undefined) return undefined
  // The command name is in parentheses and may hold spaces: the fields after the last ')' are fixed.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
  // After the name: state(3) ppid(4) … utime(14) stime(15) cutime(16) cstime(17), 1-based from pid.
  const at = (n: number) => Number(fields[n - 3])
  return { pid: Number(pid), ppid: at(4), utime: at(14), stime: at(15), cutime: at(16), cstime: at(17) }
}
