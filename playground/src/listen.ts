/**
 * The LISTEN/NOTIFY panel (placeholder until it is built): mounts into `#listen`.
 */
import type { Context } from './app.ts'

export function mountListen(container: HTMLElement, _context: Context): void {
  container.textContent = 'not built yet'
}
