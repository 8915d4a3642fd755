/**
 * What the LISTEN/NOTIFY panel (`listen.ts`) checks before it sends anything, what it says about a channel
 * and why it waits, and the small DOM builders it draws with. Everything from the server or the user goes
 * into the DOM as text nodes.
 */
import type { Notification } from '@edgepg/client'

/** PostgreSQL's longest identifier in bytes (NAMEDATALEN - 1): a longer LISTEN is silently truncated. */
export const MAX_CHANNEL_BYTES = 63
/** PostgreSQL refuses a NOTIFY payload of this many bytes or more (NOTIFY_PAYLOAD_MAX_LENGTH). */
export const PAYLOAD_LIMIT_BYTES = 8000

/** `name` as a quoted SQL identifier: case, spaces and quotes kept exactly. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

const utf8Length = (text: string) => new TextEncoder().encode(text).length

/** Why `name` cannot be a channel, or undefined when it can. */
export function channelProblem(name: string): string | undefined {
  if (name === '') return 'enter a channel name'
  if (name.includes('\u0000')) return 'a channel name cannot contain a NUL character'
  const bytes = utf8Length(name)
  if (bytes > MAX_CHANNEL_BYTES) return `a channel name is at most ${MAX_CHANNEL_BYTES} bytes, found ${bytes}`
  return undefined
}

/** Why the server would refuse `payload` (so it would fail the statement), or undefined when it would not. */
export function payloadProblem(payload: string): string | undefined {
  if (payload.includes('\u0000')) return 'a payload cannot contain a NUL character'
  const bytes = utf8Length(payload)
  if (bytes >= PAYLOAD_LIMIT_BYTES)
    return `a payload must be under ${PAYLOAD_LIMIT_BYTES} bytes in UTF-8, found ${bytes}`
  return undefined
}

/**
 * `waiting`: to LISTEN once the session is idle; `starting`: LISTEN sent; `leaving`: to UNLISTEN once the
 * session is idle; `undone`: the server no longer listens (the editor's UNLISTEN or DISCARD).
 */
export type ChannelState = 'waiting' | 'starting' | 'listening' | 'leaving' | 'paused' | 'failed' | 'undone'

/** Why the panel cannot send now: the editor's run is in flight, or its transaction is open or failed. */
export type Blocker = 'run' | 'transaction' | 'failed'

/** Why a Notify is refused inside the editor's transaction, open or failed. */
export const TRANSACTION_OPEN =
  'the editor’s transaction is open, and a NOTIFY sent from here would run inside it (delivered only at its COMMIT) — COMMIT or ROLLBACK first'
export const TRANSACTION_FAILED =
  'the editor’s transaction has failed, and the server refuses every command in it until ROLLBACK — ROLLBACK first'

/** A channel's state as the list shows it; what a waiting one waits for. */
export function stateText(state: ChannelState, blocker: Blocker | undefined): string {
  const after = { run: 'the run', transaction: 'COMMIT or ROLLBACK', failed: 'ROLLBACK' }
  switch (state) {
    case 'waiting':
      if (blocker === 'run') return 'waiting for the run to finish'
      return blocker ? `waiting for ${after[blocker]}` : 'starting'
    case 'leaving':
      return blocker ? `stops listening after ${after[blocker]}` : 'stopping'
    case 'paused':
      return 'paused (disconnected)'
    case 'undone':
      return 'not listening (undone in the editor)'
    default:
      return state
  }
}

/** When a deferred LISTEN or UNLISTEN goes out, and why it waits. */
export function deferral(command: 'LISTEN' | 'UNLISTEN', blocker: Blocker | undefined): string {
  if (blocker === 'run') return 'when the editor’s run finishes'
  if (blocker === 'failed')
    return 'after the ROLLBACK of the editor’s failed transaction (the server refuses every command in it)'
  const undo = command === 'LISTEN' ? ', and never on ROLLBACK' : ''
  return `when the editor’s transaction ends (a ${command} inside it would take effect only at its COMMIT${undo})`
}

/** One notification: when, on which channel, from which backend (this session's or another), the payload. */
export function notificationRow(time: Date, notification: Notification, ownPid: number): HTMLLIElement {
  const item = element('li', 'notification')
  const from = element('span', 'from', `pid ${notification.processId}`)
  if (notification.processId === ownPid) {
    item.classList.add('own')
    from.append(' ', element('span', 'own-tag', 'this connection'))
  }
  const meta = element('div', 'meta')
  meta.append(element('span', 'time', clock(time)), element('span', 'channel', notification.channel), from)
  item.append(meta, element('div', 'payload', notification.payload))
  return item
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0')
const clock = (time: Date) =>
  `${pad(time.getHours())}:${pad(time.getMinutes())}:${pad(time.getSeconds())}.${pad(time.getMilliseconds(), 3)}`

/** A new `tag` element with `className` and, when given, `text` as its text. */
export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag)
  if (className !== '') node.className = className
  if (text !== undefined) node.textContent = text
  return node
}

/** A text field with no spell check or autocomplete. */
export function input(id: string, placeholder: string): HTMLInputElement {
  const field = element('input', '')
  field.id = id
  field.placeholder = placeholder
  field.spellcheck = false
  field.autocomplete = 'off'
  return field
}

/** A button (`id` may be empty). */
export function button(id: string, text: string, type: 'button' | 'submit'): HTMLButtonElement {
  const node = element('button', '', text)
  if (id !== '') node.id = id
  node.type = type
  return node
}

/** A form of `parts` whose submit calls `submit` instead of navigating. */
export function form(className: string, parts: HTMLElement[], submit: () => Promise<void>): HTMLFormElement {
  const node = element('form', className)
  node.append(...parts)
  node.addEventListener('submit', (event) => {
    event.preventDefault()
    void submit()
  })
  return node
}

/** `field` inside a label reading `text`. */
export function label(text: string, field: HTMLInputElement): HTMLLabelElement {
  const node = element('label', '', `${text} `)
  node.append(field)
  return node
}
