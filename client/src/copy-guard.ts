/**
 * COPY sent through a flow that does not stream data (query, simpleQuery). COPY TO STDOUT needs nothing from
 * us. COPY FROM STDIN puts the server into copy-in mode, where it swallows every following message until
 * CopyDone/CopyFail: with more requests pipelined behind it their responses could land on the wrong promise,
 * so the connection is destroyed rather than risk that; alone, it is refused with CopyFail and stays usable.
 */
import type { ConnectionCore } from './core.ts'
import { usageError } from './errors.ts'

export const COPY_IN_REFUSED =
  'COPY FROM STDIN is not supported by this method: use client.copyIn(sql, source)'

/** Answers a CopyInResponse in a non-COPY flow. `isExtended` flows need a Sync after CopyFail. */
export function refuseCopyIn(core: ConnectionCore, isExtended: boolean): void {
  if (core.pendingCount > 1) {
    throw usageError(
      `${COPY_IN_REFUSED}, and other requests were pipelined behind it: the connection was closed so that no ` +
        'response lands on the wrong request',
    )
  }
  core.writeNow((w) => {
    w.copyFail(COPY_IN_REFUSED)
    if (isExtended) w.sync()
  })
}
