/**
 * The NOTICE, WARNING and other messages the server sent during a run, shown above its results as psql
 * prints them (`NOTICE:  …`), as text. At most {@link MAX_SHOWN} are drawn (a loop that raises one per row
 * would otherwise flood the page); the rest are counted.
 */
import type { Notice } from '@edgepg/client'

const MAX_SHOWN = 100

export class Notices {
  readonly #into: HTMLElement
  readonly #list = document.createElement('ol')
  #count = 0
  #isDrawScheduled = false

  /** Starts an empty list in `into` (hidden until a notice arrives). */
  constructor(into: HTMLElement) {
    this.#into = into
    this.#list.className = 'notice-list'
    into.replaceChildren(this.#list)
    into.hidden = true
  }

  add(notice: Notice): void {
    this.#count++
    if (this.#count <= MAX_SHOWN) {
      const item = document.createElement('li')
      item.dataset.severity = notice.severityNonLocalized ?? notice.severity
      const severity = document.createElement('strong')
      severity.textContent = `${notice.severity}:`
      item.append(severity, ` ${notice.message}`)
      if (notice.detail) item.append(document.createElement('br'), `DETAIL: ${notice.detail}`)
      if (notice.hint) item.append(document.createElement('br'), `HINT: ${notice.hint}`)
      this.#list.append(item)
    }
    this.#into.hidden = false
    this.#scheduleCount()
  }

  /** The run is over: the count line is final. */
  done(): void {
    this.#drawCount()
  }

  #scheduleCount() {
    if (this.#isDrawScheduled) return
    this.#isDrawScheduled = true
    requestAnimationFrame(() => this.#drawCount())
  }

  #drawCount() {
    this.#isDrawScheduled = false
    if (this.#count <= MAX_SHOWN) return
    let more = this.#into.querySelector<HTMLElement>('.notice-more')
    if (!more) {
      more = document.createElement('p')
      more.className = 'notice-more'
      this.#into.append(more)
    }
    more.textContent = `${this.#count - MAX_SHOWN} more not shown (${this.#count} in all)`
  }
}
