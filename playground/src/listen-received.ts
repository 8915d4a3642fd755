/**
 * The LISTEN/NOTIFY panel's list of notifications received, newest first (the last {@link MAX_KEPT} kept,
 * older ones dropped and counted), and the count of unseen ones on the panel's tab. {@link ReceivedList.add}
 * only queues (it is called from the connection's read loop and never throws); rows are drawn at most every
 * {@link FLUSH_MS}.
 */
import type { Notification } from '@edgepg/client'
import { button, element, notificationRow } from './listen-view.ts'

/** Notifications kept on screen; older ones are dropped and counted. */
const MAX_KEPT = 500
const FLUSH_MS = 100

/** The backend a notification was received on: its pid (read when the row is drawn: it may be learnt late). */
export interface Receiver {
  pid: number
}

interface Received {
  time: Date
  notification: Notification
  receiver: Receiver
}

/** The notifications section (`view`) and the badge on `tab`. */
export class ReceivedList {
  readonly view = element('section', 'listen-received')
  readonly #count = element('span', 'muted')
  readonly #rows = element('ol', 'notifications')
  readonly #badge = element('span', 'listen-badge')
  readonly #tab: HTMLElement | null
  #pending: Received[] = []
  #kept = 0
  #dropped = 0
  #unseen = 0
  #isFlushScheduled = false
  #lastFlush = 0

  constructor(tab: HTMLElement | null) {
    this.#tab = tab
    this.#count.id = 'listen-count'
    this.#rows.id = 'notifications'
    const clear = button('', 'clear', 'button')
    clear.classList.add('small')
    clear.addEventListener('click', () => {
      this.#pending = []
      this.#rows.replaceChildren()
      this.#kept = 0
      this.#dropped = 0
      this.#showCount()
    })
    const heading = element('h3', '')
    heading.append('Notifications ', this.#count, ' ', clear)
    const scroller = element('div', 'listen-scroll')
    scroller.append(this.#rows)
    this.view.append(heading, scroller)
    this.#badge.hidden = true
    tab?.append(' ', this.#badge)
    if (tab) {
      new MutationObserver(() => this.#isTabSelected() && this.#markSeen()).observe(tab, {
        attributes: true,
        attributeFilter: ['aria-selected'],
      })
    }
    this.#showCount()
  }

  /** Queues `notification` and schedules a redraw; never throws into the read loop. */
  add(notification: Notification, receiver: Receiver): void {
    try {
      this.#pending.push({ time: new Date(), notification, receiver })
      if (this.#pending.length > MAX_KEPT) {
        this.#dropped += this.#pending.length - MAX_KEPT
        this.#pending.splice(0, this.#pending.length - MAX_KEPT)
      }
      if (!this.#isTabSelected()) this.#unseen++
      if (this.#isFlushScheduled) return
      this.#isFlushScheduled = true
      setTimeout(() => this.#flush(), Math.max(0, this.#lastFlush + FLUSH_MS - performance.now()))
    } catch {
      // Nothing here can fail short of the page running out of memory; the read loop must go on regardless.
    }
  }

  #flush() {
    this.#isFlushScheduled = false
    this.#lastFlush = performance.now()
    const fresh = this.#pending.splice(0)
    const fragment = document.createDocumentFragment()
    for (let i = fresh.length - 1; i >= 0; i--) {
      const { time, notification, receiver } = fresh[i]!
      fragment.append(notificationRow(time, notification, receiver.pid))
    }
    this.#rows.prepend(fragment)
    this.#kept += fresh.length
    while (this.#kept > MAX_KEPT) {
      this.#rows.lastElementChild?.remove()
      this.#kept--
      this.#dropped++
    }
    this.#showCount()
    this.#showBadge()
  }

  #showCount() {
    const dropped = this.#dropped > 0 ? `, the oldest ${this.#dropped} not kept` : ''
    const n = this.#kept
    this.#count.textContent = `${n} notification${n === 1 ? '' : 's'}${dropped}`
  }

  #showBadge() {
    this.#badge.hidden = this.#unseen === 0
    this.#badge.textContent = this.#unseen > 999 ? '999+' : String(this.#unseen)
  }

  #markSeen() {
    this.#unseen = 0
    this.#showBadge()
  }

  #isTabSelected(): boolean {
    return this.#tab?.getAttribute('aria-selected') === 'true'
  }
}
