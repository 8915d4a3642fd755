/** Test-only: a `fetch` that records each request and answers as told, and answers in Neon's format. */
import type { Fetch } from './post.ts'

export interface Call {
  url: string
  init: RequestInit
  headers: Record<string, string>
  body: unknown
}

/** A fetch that records every call and answers with `answer` (a Response, or a function of the call). */
export function fakeFetch(answer: Response | ((call: Call) => Response | Promise<Response>)) {
  const calls: Call[] = []
  const fetch: Fetch = async (url, init) => {
    const call = {
      url,
      init,
      headers: init.headers as Record<string, string>,
      body: JSON.parse(init.body as string),
    }
    calls.push(call)
    return typeof answer === 'function' ? answer(call) : answer.clone()
  }
  return { fetch, calls }
}

/** A 200 answer with `json`. */
export const ok = (json: unknown) =>
  new Response(JSON.stringify(json), { status: 200, headers: { 'content-type': 'application/json' } })

/** An answer with `status` and a JSON (or, for a string, text) body. */
export const answer = (status: number, body: unknown) =>
  new Response(typeof body === 'string' ? body : JSON.stringify(body), { status })

/** A field as Neon's format describes it. */
export const field = (name: string, dataTypeID: number, more: Record<string, number> = {}) => ({
  name,
  dataTypeID,
  tableID: 0,
  columnID: 0,
  dataTypeSize: -1,
  dataTypeModifier: -1,
  format: 'text',
  ...more,
})

/** A result in Neon's format, rows as arrays of text. */
export const result = (
  fields: ReturnType<typeof field>[],
  rows: (string | null)[][],
  command = 'SELECT',
  rowCount: number | null = rows.length,
) => ({ command, rowCount, rows, fields, rowAsArray: true })

/** A fetch that never answers, but rejects when its signal aborts (as the platform's does). */
export const hangingFetch = (): { fetch: Fetch; signals: AbortSignal[] } => {
  const signals: AbortSignal[] = []
  return {
    signals,
    fetch: (_url, init) =>
      new Promise((_, reject) => {
        const signal = init.signal as AbortSignal
        signals.push(signal)
        signal.addEventListener('abort', () => reject(signal.reason))
      }),
  }
}
