/**
 * Callers waiting for a pooled connection, first come first served. Each waits at most `acquireTimeout`
 * and leaves at once when its signal aborts; `end({ timeout })` and a pool that cannot open connections
 * reject them all.
 */
import { abortedError, type PgError, timeoutError } from './errors.ts'

interface Waiter<T> {
  readonly isExclusive: boolean
  resolve(value: T): void
  reject(error: PgError): void
}

export class Waiters<T> {
  #list: Waiter<T>[] = []

  get length(): number {
    return this.#list.length
  }

  /** How many wait for a lease of their own, and how many for a pipelined call. */
  counts(): { exclusive: number; shared: number } {
    let exclusive = 0
    for (const waiter of this.#list) if (waiter.isExclusive) exclusive++
    return { exclusive, shared: this.#list.length - exclusive }
  }

  /**
   * Waits until {@link serve} hands over a value (then `accept` turns it into the result), `timeout` ms
   * pass (rejects with `timedOut()`, kind `timeout`) or `signal` aborts.
   */
  wait<R>(
    isExclusive: boolean,
    timeout: number,
    signal: AbortSignal | undefined,
    timedOut: () => string,
    accept: (value: T) => Promise<R>,
  ): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const stop = () => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
      }
      const leave = (error: PgError) => {
        const index = this.#list.indexOf(waiter)
        if (index >= 0) this.#list.splice(index, 1)
        stop()
        reject(error)
      }
      const waiter: Waiter<T> = {
        isExclusive,
        resolve: (value) => {
          stop()
          accept(value).then(resolve, reject)
        },
        reject: leave,
      }
      const timer = setTimeout(() => leave(timeoutError(timedOut())), timeout)
      const onAbort = () => leave(abortedError('acquire aborted', signal?.reason))
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#list.push(waiter)
    })
  }

  /** Hands values to waiters in order; `pick` finds (and reserves) one for a waiter, or none. */
  serve(pick: (isExclusive: boolean) => T | undefined): void {
    for (let i = 0; i < this.#list.length; ) {
      const waiter = this.#list[i]!
      const value = pick(waiter.isExclusive)
      if (value === undefined) {
        i++
        continue
      }
      this.#list.splice(i, 1)
      waiter.resolve(value)
    }
  }

  rejectAll(error: PgError): void {
    for (const waiter of this.#list.splice(0)) waiter.reject(error)
  }
}
