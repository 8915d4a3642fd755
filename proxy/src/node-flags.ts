/**
 * The V8 flags `edgepg-relay` runs with. A burst of upgrades (10,000 handshakes) grows V8's young generation
 * to its default bound (64 MB and more of new space on this machine), and those pages stay in the process's
 * RSS once the burst is over, about 8 KB per session opened; with semi-spaces of at most 8 MB the relay's
 * idle sessions cost about 10 KB each instead of 16 (measured with 9,000 sessions).
 */
export const RELAY_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8']

/** What {@link relaunchWithRelayFlags} reads of the process (injected by tests). */
export interface RelaunchProcess {
  execPath: string
  execArgv: string[]
  argv: string[]
  env: Record<string, string | undefined>
  execve?: ((file: string, args: string[], env: Record<string, string | undefined>) => never) | undefined
}

/**
 * Whether the process already chose its semi-space bound: on Node's command line or in `NODE_OPTIONS` (an
 * operator's choice wins over {@link RELAY_NODE_FLAGS}).
 */
export function hasSemiSpaceBound(process: Pick<RelaunchProcess, 'execArgv' | 'env'>): boolean {
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)]
  return given.some((flag) => /^--max[-_]semi[-_]space[-_]size\b/.test(flag))
}

/**
 * Replaces this process with the same command plus {@link RELAY_NODE_FLAGS} (`process.execve`: same pid,
 * same stdio, so a supervisor sees no difference). Does nothing, and returns false, where the flags are
 * already set, `EDGEPG_NO_RELAUNCH=1` is set, or the runtime has no `execve` (Windows, Node before 22.15).
 */
export function relaunchWithRelayFlags(process: RelaunchProcess): boolean {
  if (process.execve === undefined || process.env.EDGEPG_NO_RELAUNCH === '1' || hasSemiSpaceBound(process)) {
    return false
  }
  const args = [process.execPath, ...RELAY_NODE_FLAGS, ...process.execArgv, ...process.argv.slice(1)]
  try {
    process.execve(process.execPath, args, process.env)
  } catch {
    // Could not replace the process: run on with V8's defaults.
  }
  return false
}
