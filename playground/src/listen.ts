/**
 * The LISTEN/NOTIFY panel: LISTEN on channels of the open session, send a NOTIFY, and watch notifications
 * arrive (newest first, the last {@link MAX_KEPT} kept). The channels are the panel's, not the session's:
 * when the session is replaced (reconnect) the panel LISTENs again on the new one and says so; while
 * disconnected the listens are shown paused.
 *
 * Each notification shows the sending backend's pid and whether that is this session's own backend
 * (`pg_backend_pid()`, read once per session, pipelined with the first LISTEN; until it is read, the pid
 * from BackendKeyData). Payloads and channel names reach the page as text nodes only. The notification
 * listener only queues: it cannot throw into the connection's read loop; rows are drawn at most every
 * {@link FLUSH_MS}.
 */
import type { Notification } from '@edgepg/client'
import type { Context, Session } from './app.ts'

/** Notifications kept on screen; older ones are dropped and counted. */
const MAX_KEPT = 500
const FLUSH_MS = 100
/** PostgreSQL's longest identifier in bytes (NAMEDATALEN - 1): a longer LISTEN is silently truncated. */
const MAX_CHANNEL_BYTES = 63

/** The session the panel listens on, and how it knows its own backend. */
interface Live {
  session: Session
  /** This session's backend pid: BackendKeyData's until `pg_backend_pid()` has answered. */
  pid: number
  pidRead: Promise<void> | undefined
  detach: () => void
}

type ChannelState = 'starting' | 'listening' | 'paused' | 'failed'

interface Received {
  time: Date
  notification: Notification
  live: Live
}

/** Mounts the panel into `container` (the `#listen` element of the LISTEN / NOTIFY tab). */
export function mountListen(container: HTMLElement, context: Context): void {
  new ListenPanel(container, context)
}

class ListenPanel {
  readonly #context: Context
  readonly #channelInput = input('listen-channel', 'channel name, e.g. Jobs Done')
  readonly #listenButton = button('listen-button', 'Listen', 'submit')
  readonly #status = element('p', 'listen-status')
  readonly #channelList = element('ul', 'listen-channels')
  readonly #notifyChannel = input('notify-channel', 'channel')
  readonly #notifyPayload = input('notify-payload', 'payload (text)')
  readonly #notifyButton = button('notify-button', 'Notify', 'submit')
  readonly #count = element('span', 'muted')
  readonly #rows = element('ol', 'notifications')
  readonly #badge = element('span', 'listen-badge')
  readonly #tab = document.getElementById('tab-listen')
  readonly #channels = new Map<string, { state: ChannelState; problem?: string }>()
  #live: Live | undefined
  #pending: Received[] = []
  #kept = 0
  #dropped = 0
  #unseen = 0
  #isFlushScheduled = false
  #lastFlush = 0

  constructor(container: HTMLElement, context: Context) {
    this.#context = context
    this.#status.id = 'listen-status'
    this.#status.setAttribute('role', 'status')
    this.#channelList.id = 'listen-channels'
    this.#count.id = 'listen-count'
    this.#rows.id = 'notifications'
    const listenForm = form('listen-form', [label('Channel', this.#channelInput), this.#listenButton], () =>
      this.#listen(this.#channelInput.value),
    )
    const notifyForm = form(
      'notify-form',
      [
        label('Notify channel', this.#notifyChannel),
        label('Payload', this.#notifyPayload),
        this.#notifyButton,
      ],
      () => this.#notify(this.#notifyChannel.value, this.#notifyPayload.value),
    )
    container.replaceChildren(
      listenForm,
      this.#status,
      this.#channelList,
      notifyForm,
      this.#notificationsView(),
    )
    this.#badge.hidden = true
    this.#tab?.append(' ', this.#badge)
    if (this.#tab) {
      new MutationObserver(() => this.#isTabSelected() && this.#markSeen()).observe(this.#tab, {
        attributes: true,
        attributeFilter: ['aria-selected'],
      })
    }
    context.session.subscribe((session) => this.#sessionChanged(session))
    this.#say('not connected: Listen connects with the connection panel’s settings')
    this.#showChannels()
    this.#showCount()
  }

  #notificationsView(): HTMLElement {
    const section = element('section', 'listen-received')
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
    section.append(heading, scroller)
    return section
  }

  async #listen(name: string) {
    const problem = channelProblem(name)
    if (problem) return this.#say(problem, true)
    if (this.#channels.has(name)) return this.#say(`already listening on ${name}`)
    this.#listenButton.disabled = true
    try {
      const session = await this.#context.connect()
      this.#channels.set(name, { state: 'starting' })
      this.#showChannels()
      const live = this.#attach(session)
      const [failure] = await this.#listenOn(live, [name])
      if (failure) this.#say(`could not listen on ${name}: ${failure}`, true)
      else {
        // Inside a transaction the editor opened, LISTEN takes effect at its COMMIT (and never on ROLLBACK).
        const isPending = session.client.transactionStatus === 'transaction'
        this.#say(`listening on ${name}${isPending ? ' once the open transaction commits' : ''}`)
        this.#channelInput.value = ''
        if (this.#notifyChannel.value === '') this.#notifyChannel.value = name
      }
    } catch (error) {
      this.#say(`could not connect to listen on ${name}: ${reason(error)}`, true)
    } finally {
      this.#listenButton.disabled = false
    }
  }

  async #unlisten(name: string) {
    this.#channels.delete(name)
    this.#showChannels()
    const live = this.#live
    if (!live) return this.#say(`no longer listening on ${name}`)
    try {
      await live.session.client.simpleQuery(`UNLISTEN ${quoteIdentifier(name)}`)
      this.#say(`stopped listening on ${name}`)
    } catch (error) {
      this.#say(`could not unlisten ${name}: ${reason(error)}`, true)
    }
  }

  async #notify(channel: string, payload: string) {
    const problem = channelProblem(channel)
    if (problem) return this.#say(problem, true)
    this.#notifyButton.disabled = true
    try {
      const { client } = await this.#context.connect()
      await client.query('select pg_notify($1, $2)', [channel, payload])
      this.#say(`sent a notification to ${channel}`)
    } catch (error) {
      this.#say(`could not notify ${channel}: ${reason(error)}`, true)
    } finally {
      this.#notifyButton.disabled = false
    }
  }

  /** LISTENs on `names` (pipelined, with the pid query on a new session); returns each one's problem. */
  async #listenOn(live: Live, names: string[]): Promise<(string | undefined)[]> {
    live.pidRead ??= live.session.client.query('select pg_backend_pid() as pid').then(
      ({ rows }) => {
        live.pid = Number(rows[0]?.pid)
      },
      () => {}, // the LISTENs say what went wrong
    )
    const results = await Promise.allSettled(
      names.map((name) => live.session.client.simpleQuery(`LISTEN ${quoteIdentifier(name)}`)),
    )
    const problems = results.map((result) =>
      result.status === 'rejected' ? reason(result.reason) : undefined,
    )
    if (this.#live === live) {
      names.forEach((name, i) => {
        const channel = this.#channels.get(name)
        if (!channel) return // unlistened meanwhile
        channel.state = problems[i] ? 'failed' : 'listening'
        channel.problem = problems[i]
      })
      this.#showChannels()
    }
    return problems
  }

  /** Listens to `session`'s notifications (once per session). */
  #attach(session: Session): Live {
    if (this.#live?.session === session) return this.#live
    this.#live?.detach()
    const live: Live = { session, pid: session.connection.processId, pidRead: undefined, detach: () => {} }
    live.detach = session.connection.on('notification', (notification) => this.#received(notification, live))
    this.#live = live
    return live
  }

  #sessionChanged(session: Session | undefined) {
    if (this.#live && this.#live.session !== session) {
      this.#live.detach()
      this.#live = undefined
    }
    const names = [...this.#channels.keys()]
    if (!session) {
      for (const channel of this.#channels.values()) channel.state = 'paused'
      this.#showChannels()
      if (names.length > 0) {
        this.#say(`disconnected: ${plural(names.length, 'listen')} paused until the next connection`)
      } else this.#say('disconnected')
      return
    }
    const live = this.#attach(session)
    if (names.length === 0) return this.#say('connected: enter a channel and Listen')
    for (const channel of this.#channels.values()) channel.state = 'starting'
    this.#showChannels()
    this.#say(`reconnected: listening again on ${names.join(', ')}…`)
    void this.#listenOn(live, names).then((problems) => {
      if (this.#live !== live) return
      const failed = names.filter((_, i) => problems[i] !== undefined)
      this.#say(
        failed.length === 0
          ? `reconnected: listening again on ${names.join(', ')}`
          : `reconnected, but could not listen again on ${failed.join(', ')}`,
        failed.length > 0,
      )
    })
  }

  /** The notification listener: queues and schedules a redraw; never throws into the read loop. */
  #received(notification: Notification, live: Live) {
    try {
      this.#pending.push({ time: new Date(), notification, live })
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
    for (let i = fresh.length - 1; i >= 0; i--) fragment.append(notificationRow(fresh[i]!))
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

  #showChannels() {
    if (this.#channels.size === 0) {
      this.#channelList.replaceChildren(element('li', 'muted', 'listening on no channel'))
      return
    }
    this.#channelList.replaceChildren(
      ...[...this.#channels].map(([name, channel]) => {
        const item = element('li', `channel-item ${channel.state}`)
        item.dataset.channel = name
        const unlisten = button('', 'Unlisten', 'button')
        unlisten.classList.add('small', 'unlisten')
        unlisten.addEventListener('click', () => void this.#unlisten(name))
        const state = channel.state === 'paused' ? 'paused (disconnected)' : channel.state
        const problem = channel.problem ? `: ${channel.problem}` : ''
        item.append(
          element('span', 'channel', name),
          element('span', 'state', `${state}${problem}`),
          unlisten,
        )
        return item
      }),
    )
  }

  #showCount() {
    const dropped = this.#dropped > 0 ? `, the oldest ${this.#dropped} not kept` : ''
    this.#count.textContent = `${plural(this.#kept, 'notification')}${dropped}`
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

  #say(text: string, isProblem = false) {
    this.#status.textContent = text
    this.#status.classList.toggle('bad', isProblem)
  }
}

/** One notification: when, on which channel, from which backend (this session's or another), the payload. */
function notificationRow({ time, notification, live }: Received): HTMLLIElement {
  const item = element('li', 'notification')
  const isOwn = notification.processId === live.pid
  const from = element('span', 'from', `pid ${notification.processId}`)
  if (isOwn) {
    item.classList.add('own')
    from.append(' ', element('span', 'own-tag', 'this connection'))
  }
  const meta = element('div', 'meta')
  meta.append(element('span', 'time', clock(time)), element('span', 'channel', notification.channel), from)
  item.append(meta, element('div', 'payload', notification.payload))
  return item
}

/** `name` as a quoted SQL identifier: case, spaces and quotes kept exactly. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/** Why `name` cannot be a channel, or undefined when it can. */
function channelProblem(name: string): string | undefined {
  if (name === '') return 'enter a channel name'
  if (name.includes('\u0000')) return 'a channel name cannot contain a NUL character'
  const bytes = new TextEncoder().encode(name).length
  if (bytes > MAX_CHANNEL_BYTES) return `a channel name is at most ${MAX_CHANNEL_BYTES} bytes, found ${bytes}`
  return undefined
}

const reason = (error: unknown) => (error instanceof Error ? error.message : String(error))
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`
const pad = (n: number, width = 2) => String(n).padStart(width, '0')
const clock = (time: Date) =>
  `${pad(time.getHours())}:${pad(time.getMinutes())}:${pad(time.getSeconds())}.${pad(time.getMilliseconds(), 3)}`

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag)
  if (className !== '') node.className = className
  if (text !== undefined) node.textContent = text
  return node
}

function input(id: string, placeholder: string): HTMLInputElement {
  const field = element('input', '')
  field.id = id
  field.placeholder = placeholder
  field.spellcheck = false
  field.autocomplete = 'off'
  return field
}

function button(id: string, text: string, type: 'button' | 'submit'): HTMLButtonElement {
  const node = element('button', '', text)
  if (id !== '') node.id = id
  node.type = type
  return node
}

function form(className: string, parts: HTMLElement[], submit: () => Promise<void>): HTMLFormElement {
  const node = element('form', className)
  node.append(...parts)
  node.addEventListener('submit', (event) => {
    event.preventDefault()
    void submit()
  })
  return node
}

function label(text: string, field: HTMLInputElement): HTMLLabelElement {
  const node = element('label', '', `${text} `)
  node.append(field)
  return node
}
