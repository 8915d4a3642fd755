/**
 * Query history in `localStorage`: newest first, no duplicates, at most {@link MAX_ENTRIES}. Only SQL text is
 * stored, never connection settings or passwords.
 */

const KEY = 'edgepg.playground.history'
const MAX_ENTRIES = 50

export class History {
  readonly #storage: Storage

  constructor(storage: Storage) {
    this.#storage = storage
  }

  entries(): string[] {
    try {
      const parsed: unknown = JSON.parse(this.#storage.getItem(KEY) ?? '[]')
      return Array.isArray(parsed) ? parsed.filter((entry) => typeof entry === 'string') : []
    } catch {
      // A hand-edited or foreign value under our key: start over rather than break the page.
      return []
    }
  }

  add(sql: string): string[] {
    const text = sql.trim()
    if (text === '') return this.entries()
    const entries = [text, ...this.entries().filter((entry) => entry !== text)].slice(0, MAX_ENTRIES)
    this.#storage.setItem(KEY, JSON.stringify(entries))
    return entries
  }

  clear(): void {
    this.#storage.removeItem(KEY)
  }
}
