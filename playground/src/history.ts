/**
 * Query history in `localStorage`: newest first, no duplicates, at most {@link MAX_ENTRIES}. Only SQL text is
 * stored, never connection settings or passwords.
 */

const KEY = 'edgepg.playground.history'
const MAX_ENTRIES = 50
/** Longest SQL text kept, in UTF-16 units: the history is for queries, not for dumps. */
const MAX_ENTRY_LENGTH = 100_000

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

  /**
   * Puts `sql` first. Never throws: a text longer than {@link MAX_ENTRY_LENGTH} (a pasted dump) is not kept,
   * and when the storage is full the oldest entries go until the rest fit (or, at worst, nothing is saved).
   */
  add(sql: string): string[] {
    const text = sql.trim()
    const kept = this.entries()
    if (text === '' || text.length > MAX_ENTRY_LENGTH) return kept
    const entries = [text, ...kept.filter((entry) => entry !== text)].slice(0, MAX_ENTRIES)
    while (entries.length > 0) {
      try {
        this.#storage.setItem(KEY, JSON.stringify(entries))
        return entries
      } catch {
        // QuotaExceededError (the origin's storage is full, or nearly): drop the oldest and try again.
        entries.pop()
      }
    }
    return kept
  }

  clear(): void {
    this.#storage.removeItem(KEY)
  }
}
