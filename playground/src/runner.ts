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
import { splitStatements } from './statements.ts'

/** Where a run draws. */
export interface RunView {
  summary: HTMLElement
  results: HTMLElement
  error: HTMLElement
  /** Enabled while the statements run; a click cancels the running one. */
  cancel: HTMLButtonElement
}

/** What a run did, for the editor and the other parts. */
export interface RunOutcome {
  /** The UTF-16 range in the SQL that a server error's position points at (the editor selects it). */
  errorRange?: { start: number; end: number } | undefined
  /** Command tags of the statements that completed (`SELECT`, `CREATE TABLE`, …); a failed one is not in it. */
  commands: string[]
  /** True when the run stopped with an error. */
  failed: boolean
}

/** `ROLLBACK [WORK | TRANSACTION] TO [SAVEPOINT] name`: its tag is ROLLBACK, but the transaction goes on. */
const ROLLBACK_TO = /^\s*rollback\s+(?:(?:work|transaction)\s+)?to\b/i

/** Tags that end a transaction: the statements of a simple query after the last one share its fate. */
const ENDS_TRANSACTION = new Set(['COMMIT', 'ROLLBACK', 'END', 'ABORT', 'PREPARE TRANSACTION'])

/** Runs `sql` and draws the outcome. Never rejects: every failure is drawn. */
export async function runStatements(client: Client, sql: string, view: RunView): Promise<RunOutcome> {
  clearError(view.error)
  clearResults(view.results)
  view.summary.textContent = 'running…'
  const cancelling = new AbortController()
  const { signal } = cancelling
  view.cancel.addEventListener('click', () => cancel(client, view, signal), { signal })
  view.cancel.disabled = false
  const started = performance.now()
  try {
    const copy = copyOutStatement(sql)
    if (copy !== undefined) return await runCopyOut(client, copy, view, started)
    // Rows as arrays: `select 1 as a, 2 as a` keeps both values. Values decode with the connection's types.
    const results = (await client.simpleQuery(sql, { rowMode: 'array' })) as unknown as ArrayResult[]
    view.summary.textContent = summaryLine(results, performance.now() - started)
    renderResults(results, view.results)
    return { commands: results.map((result) => result.command), failed: false }
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
    if (isDatabaseError(error)) markUndone(client, sql, before, view)
    return {
      errorRange:
        isDatabaseError(error) && error.position !== undefined
          ? positionRange(sql, error.position)
          : undefined,
      commands: before.map((result) => result.command),
      failed: true,
    }
  } finally {
    cancelling.abort()
    view.cancel.disabled = true
  }
}

/** The statement when `sql` is a single `COPY … TO STDOUT` (psql prints its data; a simple query drops it). */
function copyOutStatement(sql: string): string | undefined {
  const statements = splitStatements(sql)
  const text = statements.length === 1 ? statements[0]!.text : undefined
  return text !== undefined && /^\s*copy\b/i.test(stripComments(text)) && /\bto\s+stdout\b/i.test(text)
    ? text
    : undefined
}

const stripComments = (text: string) => text.replace(/^(\s*(--[^\n]*\n|\/\*[\s\S]*?\*\/))*/, '')

/** Most bytes of COPY data drawn; the rest is counted (the export of a large table is not for a page). */
const MAX_COPY_BYTES = 1 << 20

/** Runs a `COPY … TO STDOUT` through `copyOut` and shows its data as text, as psql prints it. */
async function runCopyOut(client: Client, sql: string, view: RunView, started: number): Promise<RunOutcome> {
  const stream = await client.copyOut(sql)
  const decoder = new TextDecoder()
  let text = ''
  let bytes = 0
  for await (const chunk of stream) {
    const room = MAX_COPY_BYTES - bytes
    if (room > 0) text += decoder.decode(chunk.subarray(0, room), { stream: true })
    bytes += chunk.byteLength
  }
  text += decoder.decode()
  const elapsed = performance.now() - started
  view.summary.textContent = `1 statement · COPY · ${bytes.toLocaleString('en-US')} bytes · ${elapsed.toFixed(1)} ms`
  const caption = document.createElement('p')
  caption.className = 'caption'
  caption.textContent = `COPY TO STDOUT · ${bytes.toLocaleString('en-US')} bytes`
  const data = document.createElement('pre')
  data.className = 'copy-out'
  data.textContent = text
  const section = document.createElement('section')
  section.className = 'panel result'
  section.append(caption, data)
  if (bytes > MAX_COPY_BYTES) {
    const more = document.createElement('p')
    more.textContent = `showing the first ${MAX_COPY_BYTES.toLocaleString('en-US')} bytes`
    section.append(more)
  }
  view.results.replaceChildren(section)
  return { commands: ['COPY'], failed: false }
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

/**
 * After a server error: which of the results before it did not last. A simple query runs its statements in
 * one transaction (implicit unless they open their own), so those after the last COMMIT or ROLLBACK among
 * them were rolled back with the failing one — psql, sending each statement alone, would have kept them. In
 * a transaction the user opened, they are undone at ROLLBACK. Says so under the error and marks them.
 */
function markUndone(client: Client, sql: string, before: ArrayResult[], view: RunView): void {
  const isAborted = client.transactionStatus === 'failed'
  // Results come one per statement, in order; ROLLBACK TO SAVEPOINT answers ROLLBACK but ends nothing.
  const statements = splitStatements(sql)
  let first = 0
  before.forEach((result, index) => {
    const text = stripComments(statements[index]?.text ?? '')
    if (ENDS_TRANSACTION.has(result.command) && !ROLLBACK_TO.test(text)) first = index + 1
  })
  const undone = before.length - first
  const note = document.createElement('p')
  note.className = 'undone-note'
  if (isAborted) {
    note.textContent =
      'The transaction is aborted: commands are ignored until ROLLBACK, which undoes what it did' +
      (undone > 0 ? `, the ${plural(undone, 'statement')} above included.` : '.')
  } else if (undone > 0) {
    note.textContent =
      `Rolled back: the ${plural(undone, 'statement')} above ran in one transaction ` +
      'with the failing one (a run is one simple query), so ' +
      `${undone === 1 ? 'its effect was' : 'their effects were'} undone.`
  } else {
    return
  }
  view.error.append(note)
  const sections = [...view.results.children].slice(-undone)
  for (const section of undone > 0 ? sections : []) section.classList.add('undone')
}

const plural = (n: number, noun: string) => (n === 1 ? `${noun}` : `${n} ${noun}s`)
