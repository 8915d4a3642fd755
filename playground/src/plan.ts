/**
 * EXPLAIN (FORMAT JSON) as a plan tree (placeholder until it is built): the results view asks every result
 * whether it is a JSON plan; when it is, this returns the tree to show in place of the grid.
 */
import type { QueryResult } from '@edgepg/client'

export function planView(_result: QueryResult): HTMLElement | undefined {
  return undefined
}
