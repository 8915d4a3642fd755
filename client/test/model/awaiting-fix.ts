/**
 * Model command variants switched off because of a known defect, each written up with its reproduction in
 * /work/notes/model-findings.md. The lifecycle test and `npm run soak` both skip them (`npm run soak --
 * --all` runs them anyway). Remove a name once its fix lands: the model then checks it on every run.
 * Fixed and switched back on: abort-before-send (M1), pipelined-in-failed-transaction (M3),
 * stream-after-cancel (M4); M5 (a Transaction refuses by throwing) is by design and accepted by the model.
 */
export const awaitingFix: ReadonlySet<string> = new Set<string>([])
