/** Prints vitest's JSON results as the plain closing line CI reads: `N passed, N failed, N skipped`. */
import { readFileSync } from 'node:fs'

const file = process.argv[2] ?? '.vitest-results.json'
let results: { numPassedTests: number; numFailedTests: number; numPendingTests: number; numTodoTests: number }
try {
  results = JSON.parse(readFileSync(file, 'utf8'))
} catch (error) {
  console.error(`no test results in ${file}: ${(error as Error).message}`)
  console.log('0 passed, 1 failed, 0 skipped')
  process.exit(1)
}
const skipped = results.numPendingTests + results.numTodoTests
console.log(`${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped`)
if (results.numPassedTests + results.numFailedTests === 0) {
  console.error(`expected tests to run, found ${file} with none: a global setup or the collection failed`)
  process.exit(1)
}
process.exit(results.numFailedTests > 0 ? 1 : 0)
