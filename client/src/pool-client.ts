/** A client leased from the pool for exclusive use (transactions, session settings). */
import { Client } from './client.ts'
import type { ConnectionCore } from './core.ts'
import { usageError } from './errors.ts'

/** A client leased from a pool. Methods as `Client`; `release()` gives it back. */
export class PoolClient extends Client {
  readonly #release: (destroy: boolean | Error | undefined) => void
  #isReleased = false

  /** @internal */
  constructor(core: ConnectionCore, release: (destroy: boolean | Error | undefined) => void) {
    super(core)
    this.#release = release
  }

  /**
   * Returns the connection to the pool. Pass `true` (or the error that broke it) to close it instead.
   * Calling it twice is harmless; the client refuses every call afterwards.
   */
  release(destroy?: boolean | Error): void {
    if (this.#isReleased) return
    this.#isReleased = true
    this.revoke(usageError('client was released to the pool: acquire a new one with pool.connect()'))
    this.#release(destroy)
  }

  /** Closes this connection and removes it from the pool (same as `release(true)`). */
  override end(): Promise<void> {
    this.release(true)
    return Promise.resolve()
  }
}
