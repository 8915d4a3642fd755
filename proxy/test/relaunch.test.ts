/**
 * `edgepg-relay` runs with its V8 flags (proxy/src/node-flags.ts): it replaces itself, same pid, with the
 * same command plus `--max-semi-space-size`, unless the operator chose a bound or asked for no relaunch.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { hasSemiSpaceBound, RELAY_NODE_FLAGS } from '../src/node-flags.ts'
import { startRelayProcess } from './relay-process.ts'

/** The command line of a running process (Linux). */
const commandLine = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean)

describe('edgepg-relay', () => {
  it('runs as the same process with the relay flags added, and still answers', async () => {
    const relay = await startRelayProcess(['--allow', '127.0.0.1:5432'])
    try {
      const argv = commandLine(relay.child.pid!)
      expect(argv.slice(1, 1 + RELAY_NODE_FLAGS.length)).toEqual(RELAY_NODE_FLAGS)
      expect(argv).toContain('--conditions=source')
      expect(argv.filter((a) => a.startsWith('--max-semi-space-size'))).toHaveLength(1)
      expect(await relay.health()).toBe(200)
    } finally {
      await relay.stop()
    }
  })

  it("keeps the operator's own bound, and relaunches nothing with EDGEPG_NO_RELAUNCH=1", async () => {
    const envs: Record<string, string>[] = [
      { NODE_OPTIONS: '--max-semi-space-size=16' },
      { EDGEPG_NO_RELAUNCH: '1' },
    ]
    for (const env of envs) {
      const relay = await startRelayProcess(['--allow', '127.0.0.1:5432'], env)
      try {
        expect(commandLine(relay.child.pid!).some((a) => a.startsWith('--max-semi-space-size'))).toBe(false)
        expect(await relay.health()).toBe(200)
      } finally {
        await relay.stop()
      }
    }
  })
})

describe('hasSemiSpaceBound', () => {
  it('finds the flag on the command line or in NODE_OPTIONS, in either spelling', () => {
    expect(hasSemiSpaceBound({ execArgv: ['--max-semi-space-size=4'], env: {} })).toBe(true)
    expect(
      hasSemiSpaceBound({ execArgv: [], env: { NODE_OPTIONS: '--inspect --max_semi_space_size=2' } }),
    ).toBe(true)
    expect(hasSemiSpaceBound({ execArgv: ['--max-old-space-size=512'], env: { NODE_OPTIONS: '' } })).toBe(
      false,
    )
  })
})
