/**
 * Running the editor's SQL, psql-style: one simple query on the session's client with rows as arrays (columns
 * of the same name all keep their values), then every statement's result drawn, and when a statement fails,
 * the results of the statements before it, then the error with its position marked. While it runs, the
 * Cancel button sends a CancelRequest through the relay.
 */
import { type Client, isDatabaseError, isPgError } from '@edgepg/client'
import { positionRange } from './format.ts'
import {
  type ArrayResult,
  clearError,
  clearResults,
  renderError,
  renderResults,
  summaryLine,
} from './render.ts'

/** Where a run draws. */
export interface RunView {
  summary: HTMLElement
  results: HTMLElement
  error: HTMLElement
  /** Enabled while the statements run; a click cancels the running one. */
  cancel: HTMLButtonElement
}

/**
 * Runs `sql` and draws the outcome. Resolves with the UTF-16 range in `sql` that a server error's position
 * points at (the editor selects it), or `undefined`. Never rejects: every failure is drawn.
 */
export async function runStatements(
  client: Client,
  sql: string,
  view: RunView,
): Promise<{ start: number; end: number } | undefined> {
  clearError(view.error)
  clearResults(view.results)
  view.summary.textContent = 'running…'
  const cancelling = new AbortController()
  const { signal } = cancelling
  view.cancel.addEventListener('click', () => cancel(client, view, signal), { signal })
  view.cancel.disabled = false
  const started = performance.now()
  try {
    // Rows as arrays: `select 1 as a, 2 as a` keeps both values. Values decode with the connection's types.
    const results = (await client.simpleQuery(sql, { rowMode: 'array' })) as unknown as ArrayResult[]
    view.summary.textContent = summaryLine(results, performance.now() - started)
    renderResults(results, view.results)
    return undefined
  } catch (error) {
    // A server error comes with the results of the statements before it; a client error (the connection
    // lost, say) with none, and no statement to blame.
    const before = ((isDatabaseError(error) ? error.results : undefined) ?? []) as unknown as ArrayResult[]
    const failure = isDatabaseError(error)
      ? `statement ${before.length + 1} failed`
      : `stopped: ${isPgError(error) ? error.kind : 'error'}`
    view.summary.textContent = summaryLine(before, performance.now() - started, failure)
    renderResults(before, view.results)
    renderError(error, sql, view.error)
    // psql's order: the results, then the error under them.
    view.error.classList.add('after-results')
    return isDatabaseError(error) && error.position !== undefined
      ? positionRange(sql, error.position)
      : undefined
  } finally {
    cancelling.abort()
    view.cancel.disabled = true
  }
}

/** Sends a CancelRequest for whatever the connection runs (a second WebSocket through the same relay). */
function cancel(client: Client, view: RunView, running: AbortSignal): void {
  view.cancel.disabled = true
  view.summary.textContent = 'cancelling…'
  const failed = (error: unknown) => {
    // Once the run has ended its summary stands: a late failure of the cancel no longer matters.
    if (!running.aborted)
      view.summary.textContent = `could not cancel: ${error instanceof Error ? error.message : String(error)}`
  }
  try {
    client.cancelToken().cancel().catch(failed)
  } catch (error) {
    failed(error)
  }
}
