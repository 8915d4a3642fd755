/**
 * Cancelling a running statement: PostgreSQL's CancelRequest travels on a second connection (a new stream
 * from the same transport, so it works over TCP and through a relay, which accepts a CancelRequest as a first
 * packet). The server answers nothing and closes that connection; the statement then fails with 57014 on the
 * original connection, which stays usable.
 *
 * PostgreSQL cancels whatever the backend runs when the request arrives: if that statement finished just
 * before, a pipelined statement behind it may be the one cancelled. edgepg only cancels a request that is at
 * the head of the queue, which keeps that window as small as the protocol allows.
 */
import type { ConnectionCore } from './core.ts'
import { ioError, isPgError, type PgError, timeoutError } from './errors.ts'
import { FrontendWriter } from './protocol/index.ts'
import type { Transport } from './transport/transport.ts'

/** What is needed to cancel a connection's running statement from anywhere. */
export class CancelToken {
  readonly processId: number
  readonly #secretKey: Uint8Array
  readonly #transport: Transport
  readonly #target: { host: string; port: number }

  /** @internal */
  constructor(
    processId: number,
    secretKey: Uint8Array,
    transport: Transport,
    target: { host: string; port: number },
  ) {
    this.processId = processId
    this.#secretKey = secretKey
    this.#transport = transport
    this.#target = target
  }

  /**
   * Sends a CancelRequest; resolves once the server has closed the cancel connection, which it does after
   * signalling the backend. Rejects (kind `timeout`) when that does not happen within `timeout` ms, and
   * (kind `io`) when the cancel connection cannot be opened: the cancel may then not have been delivered.
   */
  async cancel(timeout = 5000): Promise<void> {
    const controller = new AbortController()
    const timer = setTimeout(
      () => controller.abort(timeoutError(`cancel request not confirmed within ${timeout} ms`)),
      timeout,
    )
    try {
      const stream = await this.#transport({ ...this.#target, signal: controller.signal })
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          stream.destroy()
          reject(controller.signal.reason)
        }
        if (controller.signal.aborted) return onAbort()
        controller.signal.addEventListener('abort', onAbort)
        // The server answers nothing: it closes the connection once the backend was signalled.
        stream.start({ data: () => {}, end: resolve, error: () => resolve() })
        stream.write(new FrontendWriter().cancelRequest(this.processId, this.#secretKey).finish())
      })
    } catch (error) {
      if (controller.signal.aborted) throw controller.signal.reason
      throw isPgError(error) ? error : ioError('could not send the cancel request', error)
    } finally {
      clearTimeout(timer)
    }
  }
}

/**
 * Destroys the connection with `error` and, when requests were still waiting for the server, cancels the
 * statement its backend may still run (nothing else can run on that backend any more).
 */
export function destroyAndCancel(core: ConnectionCore, error: PgError): void {
  const waiting = core.pendingCount
  core.fail(error)
  if (waiting > 0 && core.processId !== 0) {
    new CancelToken(core.processId, core.secretKey, core.transport, core.target).cancel().catch(() => {})
  }
}
