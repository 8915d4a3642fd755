/**
 * Every promise the model test makes goes through a {@link Tracker}: it knows which ones have not settled,
 * bounds every wait, and turns a hang into a failure that names the request instead of a stuck test.
 */

/** How a tracked promise settled. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown }

/** A failure of the model: what was expected, what happened. Carries no stack noise from the driver. */
export class ModelFailure extends Error {
  override readonly name = 'ModelFailure'
}

/** Throws a {@link ModelFailure} with `message` unless `condition` holds. */
export function expectThat(condition: unknown, message: () => string): asserts condition {
  if (!condition) throw new ModelFailure(message())
}

export class Tracker {
  readonly #pending = new Map<number, string>()
  #next = 0
  /** Promises tracked so far (for the report). */
  count = 0

  /** Records `promise` as pending until it settles; returns it unchanged. */
  track<T>(label: string, promise: Promise<T>): Promise<T> {
    const id = this.#next++
    this.count++
    this.#pending.set(id, label)
    const done = () => this.#pending.delete(id)
    promise.then(done, done)
    return promise
  }

  /**
   * Tracks `promise` and waits at most `bound` ms for it; resolves with how it settled. A promise still
   * pending at the bound is a failure ("did not settle"), and it stays listed as pending.
   */
  async settle<T>(label: string, promise: Promise<T>, bound: number): Promise<Outcome<T>> {
    this.track(label, promise)
    let timer: ReturnType<typeof setTimeout> | undefined
    const hung = new Promise<'hung'>((resolve) => {
      timer = setTimeout(() => resolve('hung'), bound)
    })
    try {
      const result = await Promise.race([
        promise.then(
          (value): Outcome<T> => ({ ok: true, value }),
          (error: unknown): Outcome<T> => ({ ok: false, error }),
        ),
        hung,
      ])
      if (result === 'hung') throw new ModelFailure(`${label}: did not settle within ${bound} ms`)
      return result
    } finally {
      clearTimeout(timer)
    }
  }

  /** Like {@link settle}, but a rejection is a failure: resolves with the value. */
  async value<T>(label: string, promise: Promise<T>, bound: number): Promise<T> {
    const outcome = await this.settle(label, promise, bound)
    if (!outcome.ok)
      throw new ModelFailure(`${label}: expected to resolve, rejected with ${describe(outcome.error)}`)
    return outcome.value
  }

  /** Labels of the promises not settled yet. */
  get pending(): string[] {
    return [...this.#pending.values()]
  }

  /** Waits up to `bound` ms for every tracked promise to settle; fails listing the ones that did not. */
  async assertAllSettled(bound: number): Promise<void> {
    const deadline = Date.now() + bound
    while (this.#pending.size > 0 && Date.now() < deadline) await sleep(5)
    expectThat(this.#pending.size === 0, () => `promises never settled: ${this.pending.join('; ')}`)
  }

  /** Forgets every pending promise (after a failure was reported, so the next sequence starts clean). */
  forget(): void {
    this.#pending.clear()
  }
}

/** A short description of a thrown value: class, kind, SQLSTATE and message. */
export function describe(error: unknown): string {
  if (error instanceof Error) {
    const { kind, code } = error as { kind?: string; code?: string }
    const tags = [kind && `kind ${kind}`, code && `code ${code}`].filter(Boolean).join(', ')
    return `${error.name}${tags ? ` (${tags})` : ''}: ${error.message}`
  }
  return `non-error ${JSON.stringify(error)}`
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
