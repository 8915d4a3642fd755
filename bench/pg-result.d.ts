/** Types for pg's internal Result class (`pg/lib/result.js`), which the decode measure drives directly. */
declare module 'pg/lib/result.js' {
  export default class Result {
    rows: Record<string, unknown>[]
    addFields(fields: unknown[]): void
    parseRow(values: unknown[]): Record<string, unknown>
    addRow(row: Record<string, unknown>): void
  }
}
