/**
 * The wire inspector's table: one row per protocol message, newest at the bottom. A long run of DataRows
 * shows its first {@link ROWS_PER_RUN} and then one line that counts the rest, so a 50,000-row result costs
 * a handful of table rows; beyond {@link MAX_ROWS} lines the oldest are dropped and counted. The table is
 * redrawn at most every {@link FLUSH_MS}: each redraw lays out the whole table.
 */
import type { WireMessage } from './wire.ts'

const MAX_ROWS = 1000
const ROWS_PER_RUN = 20
const FLUSH_MS = 100

/** Messages that come in long runs of one type: after {@link ROWS_PER_RUN} of them, one line counts the rest. */
const COLLAPSIBLE = new Set(['DataRow', 'NoticeResponse', 'NotificationResponse', 'CopyData'])

/** The line that stands for the messages of a run after the first {@link ROWS_PER_RUN}. */
interface Collapsed {
  type: string
  direction: WireMessage['direction']
  count: number
  bytes: number
  at: number
  row?: HTMLTableRowElement
}

export class Inspector {
  readonly #body: HTMLTableSectionElement
  readonly #scroller: HTMLElement
  readonly #count: HTMLElement
  #pending: (WireMessage | Collapsed)[] = []
  #run = 0
  /** The type of the run `#run` counts. */
  #runType: string | undefined
  #collapsed: Collapsed | undefined
  /** Collapsed lines whose count changed since the last redraw. */
  readonly #dirty = new Set<Collapsed>()
  #isFlushScheduled = false
  #lastFlush = 0
  #total = 0
  #dropped = 0

  constructor(table: HTMLTableElement, count: HTMLElement) {
    this.#body = table.tBodies[0] ?? table.createTBody()
    this.#scroller = table.parentElement ?? table
    this.#count = count
  }

  add(message: WireMessage): void {
    this.#total++
    const isCollapsible = COLLAPSIBLE.has(message.type)
    this.#run = !isCollapsible ? 0 : message.type === this.#runType ? this.#run + 1 : 1
    this.#runType = message.type
    if (this.#run <= ROWS_PER_RUN) {
      this.#collapsed = undefined
      this.#pending.push(message)
    } else if (this.#collapsed) {
      this.#collapsed.count++
      this.#collapsed.bytes += message.length
      this.#collapsed.at = message.at
    } else {
      this.#collapsed = {
        type: message.type,
        direction: message.direction,
        count: 1,
        bytes: message.length,
        at: message.at,
      }
      this.#pending.push(this.#collapsed)
    }
    if (this.#collapsed) this.#dirty.add(this.#collapsed)
    if (this.#pending.length >= 2 * MAX_ROWS) {
      // More than a table's worth before the next redraw: keep only what the table would keep.
      this.#dropped += this.#pending.length - MAX_ROWS
      this.#pending.splice(0, this.#pending.length - MAX_ROWS)
    }
    if (this.#isFlushScheduled) return
    this.#isFlushScheduled = true
    // A quiet stream shows at once; a burst is drawn at most every FLUSH_MS.
    setTimeout(() => this.#flush(), Math.max(0, this.#lastFlush + FLUSH_MS - performance.now()))
  }

  clear(): void {
    this.#pending = []
    this.#run = 0
    this.#runType = undefined
    this.#collapsed = undefined
    this.#dirty.clear()
    this.#body.replaceChildren()
    this.#total = 0
    this.#dropped = 0
    this.#showCount()
  }

  #flush() {
    this.#isFlushScheduled = false
    this.#lastFlush = performance.now()
    const scroller = this.#scroller
    const isFollowing = scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - 4
    const body = this.#body
    const fresh = this.#pending.splice(0)
    const stale = Math.min(body.childElementCount + fresh.length - MAX_ROWS, body.childElementCount)
    if (stale > 0) {
      // One range removal: deleting rows one by one through the live `rows` collection is quadratic.
      const old = document.createRange()
      old.setStartBefore(body.firstElementChild!)
      old.setEndAfter(body.children[stale - 1]!)
      old.deleteContents()
      this.#dropped += stale
    }
    const fragment = document.createDocumentFragment()
    for (const entry of fresh) {
      if ('count' in entry) {
        entry.row = collapsedRow(entry)
        fragment.append(entry.row)
      } else fragment.append(messageRow(entry))
    }
    body.append(fragment)
    for (const collapsed of this.#dirty) if (collapsed.row) fillCollapsed(collapsed.row, collapsed)
    this.#dirty.clear()
    this.#showCount()
    if (isFollowing) scroller.scrollTop = scroller.scrollHeight
  }

  #showCount() {
    const dropped = this.#dropped > 0 ? `, the oldest ${this.#dropped} lines not shown` : ''
    this.#count.textContent = this.#total === 0 ? '' : `${this.#total} messages${dropped}`
  }
}

function messageRow(message: WireMessage): HTMLTableRowElement {
  const tr = document.createElement('tr')
  tr.className = message.direction
  if (message.type === 'ErrorResponse' || message.type === 'Unreadable') tr.classList.add('bad')
  tr.append(
    cell(message.at.toFixed(1)),
    cell(message.direction === 'frontend' ? '→ F' : '← B', 'dir'),
    cell(message.type, 'type'),
    cell(String(message.length)),
    fieldsCell(message.fields),
  )
  return tr
}

function collapsedRow(collapsed: Collapsed): HTMLTableRowElement {
  const tr = document.createElement('tr')
  tr.className = `${collapsed.direction} collapsed`
  const direction = collapsed.direction === 'frontend' ? '→ F' : '← B'
  tr.append(cell(''), cell(direction, 'dir'), cell('', 'type'), cell(''), cell('not listed one by one'))
  return tr
}

function fillCollapsed(tr: HTMLTableRowElement, collapsed: Collapsed) {
  tr.cells[0]!.textContent = collapsed.at.toFixed(1)
  tr.cells[2]!.textContent = `${collapsed.type} × ${collapsed.count} more`
  tr.cells[3]!.textContent = String(collapsed.bytes)
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
