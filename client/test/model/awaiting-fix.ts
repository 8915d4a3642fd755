/**
 * Model command variants switched off because of a known defect, each written up with its reproduction in
 * /work/notes/model-findings.md. The lifecycle test and `npm run soak` both skip them (`npm run soak --
 * --all` runs them anyway). Remove a name once its fix lands: the model then checks it on every run.
 */
export const awaitingFix: ReadonlySet<string> = new Set<string>([
  // M1: a request aborted before it was sent leaves a phantom statement-cache entry (26000 later).
  'abort-before-send',
  // M3: the second of two pipelined queries of a new text in a failed transaction gets 26000, not 25P02.
  'pipelined-in-failed-transaction',
  // M4: after a statement of the client was cancelled (57014), a stream's return() can hang.
  'stream-after-cancel',
  // M5: tx.query() (and savepoint(), commit()…) refuse by throwing synchronously instead of rejecting.
  'parent-refusal-throws',
])
