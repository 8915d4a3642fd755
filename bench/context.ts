/** What every measure receives. */
import type { PgServer } from '../scripts/embedded-pg.ts'
import type { RelayChild } from './setup.ts'

export interface Context {
  pg: PgServer
  /** The relay every WebSocket driver goes through (its own process). */
  relay: RelayChild
  /** `--quick`: fewer rounds and smaller sizes, for a smoke run. */
  quick: boolean
  log(line: string): void
}
