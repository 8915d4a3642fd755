/**
 * Runs each task once per round, all tasks in every round, starting each round one task later so that no
 * driver always runs first (warm caches, GC debt). A task that throws keeps its error and is skipped after.
 */
export interface Task {
  id: string
  /** One sample; undefined means "not available" (the reason goes in `note`). */
  run(): Promise<number | undefined>
}

export interface Samples {
  samples: number[]
  note?: string
}

const gc = (globalThis as { gc?: () => void }).gc

/** A sample taking longer than this fails its task (a hung driver must not hang the bench). */
const TASK_TIMEOUT = 120_000

export async function interleave(tasks: Task[], rounds: number): Promise<Map<string, Samples>> {
  const results = new Map<string, Samples>(tasks.map((t) => [t.id, { samples: [] }]))
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < tasks.length; i++) {
      const task = tasks[(i + round) % tasks.length]!
      const result = results.get(task.id)!
      if (result.note !== undefined) continue
      gc?.()
      try {
        const sample = await withTimeout(task.run(), TASK_TIMEOUT)
        if (sample === undefined) result.note = 'not available'
        else result.samples.push(sample)
      } catch (error) {
        result.note = `failed: ${error instanceof Error ? error.message : String(error)}`
        process.stderr.write(`  ${task.id} failed: ${result.note}\n`)
      }
    }
  }
  return results
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no result within ${ms / 1000} s`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
