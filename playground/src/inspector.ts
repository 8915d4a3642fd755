/**
 * The wire inspector's table: one row per protocol message, newest at the bottom. Only the last
 * {@link MAX_ROWS} rows stay in the DOM; older ones are counted.
 */
import type { WireMessage } from './wire.ts'

const MAX_ROWS = 2000

export class Inspector {
  readonly #body: HTMLTableSectionElement
  readonly #scroller: HTMLElement
  readonly #count: HTMLElement
  #total = 0
  #dropped = 0

  constructor(table: HTMLTableElement, count: HTMLElement) {
    this.#body = table.tBodies[0] ?? table.createTBody()
    this.#scroller = table.parentElement ?? table
    this.#count = count
  }

  add(message: WireMessage): void {
    const isFollowing =
      this.#scroller.scrollTop + this.#scroller.clientHeight >= this.#scroller.scrollHeight - 4
    const row = document.createElement('tr')
    row.className = message.direction + (message.type.startsWith('Unreadable') ? ' bad' : '')
    if (message.type === 'ErrorResponse') row.classList.add('bad')
    row.append(
      cell(message.at.toFixed(1)),
      cell(message.direction === 'frontend' ? '→ F' : '← B', 'dir'),
      cell(message.type, 'type'),
      cell(String(message.length)),
      fieldsCell(message.fields),
    )
    row.title = `${message.direction === 'frontend' ? 'client → server' : 'server → client'}: ${message.type}`
    this.#body.append(row)
    this.#total++
    if (this.#body.rows.length > MAX_ROWS) {
      this.#body.rows[0]?.remove()
      this.#dropped++
    }
    this.#showCount()
    if (isFollowing) this.#scroller.scrollTop = this.#scroller.scrollHeight
  }

  clear(): void {
    this.#body.replaceChildren()
    this.#total = 0
    this.#dropped = 0
    this.#showCount()
  }

  #showCount() {
    const dropped = this.#dropped > 0 ? `, the oldest ${this.#dropped} not shown` : ''
    this.#count.textContent = this.#total === 0 ? '' : `${this.#total} messages${dropped}`
  }
}

function cell(text: string, className = ''): HTMLTableCellElement {
  const td = document.createElement('td')
  td.className = className
  td.textContent = text
  return td
}

function fieldsCell(fields: Record<string, string>): HTMLTableCellElement {
  const td = cell('')
  const parts = Object.entries(fields)
  parts.forEach(([key, value], i) => {
    const name = document.createElement('span')
    name.className = 'key'
    name.textContent = `${i > 0 ? '  ' : ''}${key}=`
    td.append(name, value)
  })
  td.title = parts.map(([key, value]) => `${key}=${value}`).join('\n')
  return td
}
