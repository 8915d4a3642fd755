/**
 * The schema browser (placeholder until it is built): mounts into `#schema`, reads the catalog over the
 * session, fills `context.schema` for completion, drafts `select * from … limit 100` on a click.
 */
import type { Context } from './app.ts'

export function mountSchema(container: HTMLElement, _context: Context): void {
  container.textContent = 'not built yet'
}
