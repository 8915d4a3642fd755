/**
 * JSON with numbers kept exactly as written. `JSON.parse` turns `9007199254740993` into 9007199254740992 and
 * `1.0` into 1; a client that is not JavaScript (curl, another language) means the digits it sent. Each number
 * is kept as its source text (`JSON.rawJSON`, which `JSON.stringify` writes back unchanged), where the runtime
 * has it (Node ≥ 21, workerd, current browsers); elsewhere numbers parse as usual.
 */

interface RawJsonApi {
  rawJSON?: (text: string) => object
  isRawJSON?: (value: unknown) => boolean
}

const api = JSON as unknown as RawJsonApi

/** Parses `text`, each number kept as a raw JSON value of its own digits. Throws as `JSON.parse` does. */
export function parseKeepingNumbers(text: string): unknown {
  const raw = api.rawJSON
  if (raw === undefined) return JSON.parse(text)
  return JSON.parse(text, (_key, value: unknown, context?: { source?: string }) =>
    typeof value === 'number' && context?.source !== undefined ? raw(context.source) : value,
  )
}

/** The digits of a number {@link parseKeepingNumbers} kept, or undefined for any other value. */
export function keptNumber(value: unknown): string | undefined {
  return api.isRawJSON?.(value) ? (value as { rawJSON: string }).rawJSON : undefined
}
