/** The base of every model command: run it, then compare the lane client's state with the model. */
import type fc from 'fast-check'
import { assertClientState, type Model, type Real } from './state.ts'

export abstract class Step implements fc.AsyncCommand<Model, Real> {
  /** The name `awaitingFix` switches this command off by (one per defect the command exercises). */
  abstract readonly variant: string

  /** fast-check's precondition: not switched off, and allowed in the model's state. */
  check(m: Readonly<Model>): boolean {
    return !m.off.has(this.variantIn(m)) && this.allowed(m)
  }

  /** The variant in the model's state (a command may exercise a different defect in another state). */
  variantIn(_m: Readonly<Model>): string {
    return this.variant
  }

  /** Whether the command makes sense in the model's state (default: always). */
  allowed(_m: Readonly<Model>): boolean {
    return true
  }

  async run(m: Model, r: Real): Promise<void> {
    r.steps++
    r.lane.history.push(this.toString())
    await this.exec(m, r)
    assertClientState(m, r, this.toString())
  }

  protected abstract exec(m: Model, r: Real): Promise<void>

  abstract toString(): string
}

/** The lane client (always set while a sequence runs). */
export function clientOf(r: Real) {
  const client = r.lane.client
  if (!client) throw new Error('the lane has no client')
  return client
}

/** Runs `body` a tick later, so requests made before it are queued first (pipelining). */
export const nextTick = () => new Promise<void>((resolve) => setTimeout(resolve, 0))

/** An error thrown on purpose by a transaction body; the rejection must be this very object. */
export class Marker extends Error {
  override readonly name = 'Marker'
}
