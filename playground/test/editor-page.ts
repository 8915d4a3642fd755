/**
 * Driving the playground's SQL editor (CodeMirror, in the open shadow root of `#sql`) from Playwright as a
 * user would: click into it, select all, paste or type. Playwright's CSS selectors pierce open shadow roots.
 */
import type { Page } from 'playwright'

/**
 * Replaces the editor's text with `sql` as a paste does (select all, then a paste event that CodeMirror
 * handles), so no completion list opens as it would for typed text; the cursor ends after the text.
 */
export async function setSql(page: Page, sql: string): Promise<void> {
  await page.click('.cm-content')
  await page.keyboard.press('ControlOrMeta+A')
  if (sql === '') {
    await page.keyboard.press('Delete')
    return
  }
  await page.$eval(
    '.cm-content',
    (content, text) => {
      const data = new DataTransfer()
      data.setData('text/plain', text)
      content.dispatchEvent(
        new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }),
      )
    },
    sql,
  )
}

/** The editor's text, line by line as it shows it. */
export async function editorText(page: Page): Promise<string> {
  return page.$$eval('.cm-line', (lines) => lines.map((line) => line.textContent ?? '').join('\n'))
}

/**
 * What the editor selects: the selected text, and the text of its line before the selection (so a test
 * checks where it is, not only what it is).
 */
export async function editorSelection(page: Page): Promise<{ text: string; before: string }> {
  return page.evaluate(() => {
    const root = document.getElementById('sql')?.shadowRoot as
      | (ShadowRoot & { getSelection(): Selection | null })
      | null
    const selection = root?.getSelection()
    if (!selection || selection.rangeCount === 0) return { text: '', before: '' }
    const range = selection.getRangeAt(0)
    const line = (
      range.startContainer instanceof Element ? range.startContainer : range.startContainer.parentElement
    )?.closest('.cm-line')
    const before = document.createRange()
    if (line) {
      before.setStart(line, 0)
      before.setEnd(range.startContainer, range.startOffset)
    }
    return { text: range.toString(), before: line ? before.toString() : '' }
  })
}
