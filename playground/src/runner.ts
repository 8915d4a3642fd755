/**
 * Running the editor's SQL: one simple query on the session's client, then every statement's result (and the
 * error, with its position) drawn into the results area.
 */
import { type Client, isDatabaseError } from '@edgepg/client'
import { positionRange } from './format.ts'
import { clearError, renderError, renderResults } from './render.ts'

/** Where a run draws. */
export interface RunView {
  summary: HTMLElement
  results: HTMLElement
  error: HTMLElement
  /** Enabled while a statement runs. */
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
  view.summary.textContent = 'running…'
  view.results.replaceChildren()
  try {
    const started = performance.now()
    const results = await client.simpleQuery(sql)
    renderResults(results, performance.now() - started, view)
    return undefined
  } catch (error) {
    view.summary.textContent = ''
    renderError(error, sql, view.error)
    return isDatabaseError(error) && error.position !== undefined
      ? positionRange(sql, error.position)
      : undefined
  }
}
